/*
** progress.c -- the counters of a workflow and the events that
** report them. Every event goes out under one lock, so a caller's
** callback is never entered twice at once whatever thread moved the bytes.
*/
#include <string.h>
#include <time.h>

#include "workflow.h"

static const char *const status_names[XTSTORE_OBJ_NSTATUS] = {
  "copied", "new", "update", "equal", "deleted", "failed",
};

const char *xtstore_object_status_name(uint32_t status)
{
  return status < XTSTORE_OBJ_NSTATUS ? status_names[status] : NULL;
}

void st_progress_init(st_progress *p, xtstore_progress_fn fn, void *ud)
{
  memset(p, 0, sizeof(*p));
  pthread_mutex_init(&p->mu, NULL);
  p->fn = fn;
  p->ud = ud;
  p->p.struct_size = sizeof(p->p);
  p->stats.struct_size = sizeof(p->stats);
  clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

void st_progress_destroy(st_progress *p)
{
  pthread_mutex_destroy(&p->mu);
}

/* Send the current counters as `event` (p->mu held). */
static void emit(st_progress *p, uint32_t event)
{
  if (!p->fn)
    return;
  p->p.event = event;
  p->fn(p->ud, &p->p);
}

void st_progress_event(st_progress *p, uint32_t event)
{
  pthread_mutex_lock(&p->mu);
  if (event == XTSTORE_EV_LISTED)
    p->p.totals_final = 1;
  emit(p, event);
  pthread_mutex_unlock(&p->mu);
}

void st_progress_plan(st_progress *p, uint64_t objects, uint64_t bytes)
{
  pthread_mutex_lock(&p->mu);
  p->p.objects_total += objects;
  p->p.bytes_total += bytes;
  pthread_mutex_unlock(&p->mu);
}

void st_progress_bytes(void *ud, uint64_t n)
{
  st_progress *p = ud;
  pthread_mutex_lock(&p->mu);
  p->p.bytes_done += n;
  emit(p, XTSTORE_EV_BYTES);
  pthread_mutex_unlock(&p->mu);
}

void st_progress_object(st_progress *p, const st_wf_report *r)
{
  pthread_mutex_lock(&p->mu);
  p->p.objects_done++;
  p->stats.objects++;
  if (r->status < XTSTORE_OBJ_NSTATUS)
    p->stats.count[r->status]++;
  if (r->status == XTSTORE_OBJ_FAILED)
    p->p.objects_failed++;
  else if (r->status != XTSTORE_OBJ_EQUAL &&
           r->status != XTSTORE_OBJ_DELETED)
    p->stats.bytes += r->size;
  p->p.source = r->source;
  p->p.target = r->target;
  p->p.size = r->size;
  p->p.status = r->status;
  p->p.dry_run = r->dry_run;
  p->p.code = r->rc;
  p->p.error = r->status == XTSTORE_OBJ_FAILED && r->err && r->err->message[0]
                 ? r->err->message
                 : NULL;
  emit(p, XTSTORE_EV_OBJECT);
  p->p.source = p->p.target = p->p.error = NULL;
  p->p.size = 0;
  p->p.status = p->p.dry_run = 0;
  p->p.code = 0;
  pthread_mutex_unlock(&p->mu);
}

void st_progress_stats(st_progress *p, xtstore_wf_stats *out)
{
  struct timespec now;
  uint32_t size;
  if (!out)
    return;
  size = out->struct_size;
  clock_gettime(CLOCK_MONOTONIC, &now);
  pthread_mutex_lock(&p->mu);
  p->stats.seconds = (double)(now.tv_sec - p->t0.tv_sec) +
                     (double)(now.tv_nsec - p->t0.tv_nsec) / 1e9;
  /* A caller built against an older, shorter struct gets its part. */
  memcpy(out, &p->stats, size && size < sizeof(*out) ? size : sizeof(*out));
  pthread_mutex_unlock(&p->mu);
  out->struct_size = size ? size : (uint32_t)sizeof(*out);
}
