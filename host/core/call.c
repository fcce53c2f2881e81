/*
** call.c -- every plugin op goes through here: argument checks,
** per-handle serialisation, error normalisation and the retry loop.
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

/* A plugin returned failure: make err self-consistent whatever it did. */
static int normalise(xtstore_svc *svc, int rc, store_error *err)
{
  if (rc < 0 || rc > STORE_E_SERVER)
    rc = STORE_E_INTERNAL;
  if (!err)
    return rc;
  err->code = rc;
  err->message[sizeof(err->message) - 1] = '\0';
  err->provider_code[sizeof(err->provider_code) - 1] = '\0';
  err->request_id[sizeof(err->request_id) - 1] = '\0';
  if (!err->message[0])
    snprintf(err->message, sizeof(err->message), "%s", store_strerror(rc));
  st_redact_urls(err->message, sizeof(err->message));
  st_err_prefix_service(err, svc->name);
  return rc;
}

/* The op stopped because the context was cancelled: whatever the plugin
 * blamed (a callback that stopped, the other end of a copy), the cause is
 * the interruption. The object stays named as the plugin named it: by the
 * ABI's rule its message starts "OBJECT: CAUSE", OBJECT ending in a quoted
 * name ("blob 'c/k'"). */
static int cancelled(xtstore_svc *svc, store_error *err)
{
  char prefix[96], object[STORE_ERR_MSG_SIZE];
  const char *msg = err->message, *quote, *end;
  size_t n = (size_t)snprintf(prefix, sizeof(prefix), "service '%s': ",
                              svc->name);

  if (n < sizeof(prefix) && strncmp(msg, prefix, n) == 0)
    msg += n;
  quote = strchr(msg, '\'');
  end = quote ? strstr(quote + 1, "': ") : NULL;
  object[0] = '\0';
  if (end)
    snprintf(object, sizeof(object), "%.*s: ", (int)(end + 1 - msg), msg);
  return st_err(err, STORE_E_ABORTED, "service '%s': %scancelled (interrupted)",
                svc->name, object);
}

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* In slices, to see a cancellation; until a deadline in nanoseconds, so
 * that what each slice oversleeps on a busy machine does not add up (a
 * Retry-After of 1 s took up to 1.1 s), and no millisecond rounding ends
 * it early (a wait shorter than the server asked earns another 503). */
int st_backoff_sleep(const xtstore_svc *svc, uint32_t ms)
{
  uint64_t now = now_ns(), end = now + (uint64_t)ms * 1000000u, stop;

  while (now < end) {
    struct timespec ts;
    if (st_cancelled(svc->ctx))
      return STORE_E_ABORTED;
    stop = end - now > 50000000u ? now + 50000000u : end;
    ts.tv_sec = (time_t)(stop / 1000000000u);
    ts.tv_nsec = (long)(stop % 1000000000u);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    now = now_ns();
  }
  return STORE_OK;
}

/* Throttling halved svc's window for the first time this run: said
 * once, at info, with the reply that did it. */
static void said_cut(xtstore_svc *svc, const store_error *err)
{
  st_flow f;

  st_flow_get(&svc->flow, &f);
  st_log(svc->ctx, STORE_LOG_INFO, "%s; throttled: requests in flight on "
         "service '%s' lowered to %u of %u (said once; the lowest comes at "
         "the end)", err->message, svc->name, f.window, f.limit);
}

uint64_t st_now_ms(void)
{
  return now_ns() / 1000000u;
}

int st_svc_call(xtstore_svc *svc, st_attempt_fn attempt, st_replay_fn replay,
                void *args, store_error *err)
{
  store_error local;
  st_retry_state tries;
  uint32_t progressed = 0, ms;
  int throttled_now;
  char why[48];
  int rc;

  if (!err)
    err = &local;
  st_retry_start(&tries, st_now_ms());
  for (;;) {
    st_err_reset(err);
    if (st_cancelled(svc->ctx))
      return st_err(err, STORE_E_ABORTED, "service '%s': cancelled "
                    "(interrupted)", svc->name);
    /* A pool's worker sends only within the service's window. */
    if (st_flow_take(svc))
      return st_err(err, STORE_E_ABORTED, "service '%s': cancelled "
                    "(interrupted)", svc->name);
    if (!svc->threadsafe)
      pthread_mutex_lock(&svc->serial);
    rc = attempt(svc, args, err);
    if (!svc->threadsafe)
      pthread_mutex_unlock(&svc->serial);
    if (rc == STORE_OK) {
      st_flow_outcome(&svc->flow, ST_FLOW_OK);
      return STORE_OK;
    }
    rc = normalise(svc, rc, err);
    throttled_now = rc == STORE_E_THROTTLED;
    if (st_flow_outcome(&svc->flow, throttled_now ? ST_FLOW_THROTTLED
                                                  : ST_FLOW_FAILED))
      said_cut(svc, err);
    if (rc == STORE_E_ABORTED && st_cancelled(svc->ctx))
      return cancelled(svc, err);
    if (rc == STORE_E_ABORTED || !(err->flags & STORE_ERR_RETRYABLE))
      return rc;
    /* Whoever retries next -- this loop, or a caller that must send the
     * whole again (a streamed copy) -- waits first, holding no slot. */
    st_flow_park(1);
    switch (replay ? replay(args) : ST_REPLAY_OK) {
    case ST_REPLAY_PROGRESS:
      /* Bytes moved: a cut that a resume mends is no failure to count --
       * with retries on, and not forever (a server that sends a byte and
       * cuts again). */
      if (svc->retry.attempts < 2 ||
          ++progressed > ST_RETRY_PROGRESS_FACTOR * svc->retry.attempts)
        return rc;
      ms = st_retry_delay_ms(&svc->retry, 1, err, st_retry_rng(svc->rng));
      snprintf(why, sizeof(why), "after progress");
      break;
    case ST_REPLAY_OK:
      if (!st_retry_next(&svc->retry, &tries, st_now_ms(), err,
                         st_retry_rng(svc->rng), &ms, why, sizeof(why)))
        return rc;
      break;
    default:
      return rc;
    }
    /* Throttling comes by the hundred in a pool's run: its retries there
     * are debug, and st_flow says once what it did to concurrency. */
    st_log(svc->ctx, throttled_now && st_flow_gated() ? STORE_LOG_DEBUG
                                                       : STORE_LOG_INFO,
           "%s; retrying in %u ms (%s)", err->message, ms, why);
    /* Parked above: the wait holds no slot, the pool's other jobs go on;
     * the next attempt takes a slot again. */
    if (st_backoff_sleep(svc, ms))
      return rc;
  }
}

int st_check_container(const xtstore_svc *svc, const char *container,
                       store_error *err)
{
  if (!container || !container[0])
    return st_err(err, STORE_E_INVALID,
                  "service '%s': no container given", svc->name);
  if (strlen(container) > 1024)
    return st_err(err, STORE_E_INVALID,
                  "service '%s': container name longer than 1024 bytes",
                  svc->name);
  return STORE_OK;
}

int st_check_key(const xtstore_svc *svc, const char *container,
                 const char *key, store_error *err)
{
  int rc = st_check_container(svc, container, err);
  if (rc)
    return rc;
  if (!key || !key[0])
    return st_err(err, STORE_E_INVALID,
                  "service '%s': container '%s': no blob key given",
                  svc->name, container);
  if (svc->limits.max_key_length && strlen(key) > svc->limits.max_key_length)
    return st_err(err, STORE_E_INVALID,
                  "service '%s': blob '%s/%.40s...': key longer than %u bytes",
                  svc->name, container, key, svc->limits.max_key_length);
  return STORE_OK;
}

int st_require_cap(const xtstore_svc *svc, uint64_t cap, store_error *err)
{
  const char *name;
  if (svc->ops->capabilities & cap)
    return STORE_OK;
  name = st_capability_name(cap);
  return st_err(err, STORE_E_UNSUPPORTED,
                "service '%s': provider '%s' does not support %s",
                svc->name, svc->ops->name, name ? name : "this operation");
}
