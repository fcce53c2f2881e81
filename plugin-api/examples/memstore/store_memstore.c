/*
** store_memstore.c -- "memstore", an in-memory storage provider for xtstore.
**
** A complete third-party plugin in one file. It includes only
** store_interface.h and links nothing of xtstore, so it builds outside the
** xtstore tree with a plain compiler (see README.md beside it):
**
**   cc -std=c11 -shared -fPIC -fvisibility=hidden -I<dir of store_interface.h> \
**      -Wl,-z,defs -Wl,-z,now -o store-memstore.so store_memstore.c -lpthread
**
** Every open() gets its own empty store, which lives until close(). Useful
** as a scratch service in tests and as a template for real providers.
**
** Concurrency (STORE_CAP_THREADSAFE): one mutex guards the handle, and it
** is never held while a callback runs, because a callback may call back
** into the same handle (delete every blob from inside a listing) or wait
** for another thread that does (a get streamed into a put). Objects are
** reference counted so that a callback can read one while another thread
** replaces or deletes it.
**
** This file is also the ABI 1.0 compatibility fixture: tests/plugin-api/abi
** compiles it against the frozen 1.0 header, as plugin "abi-v1-0". It must
** keep compiling against that header: use anything newer than ABI 1.0 only
** under `#if STORE_ABI_MINOR >= N`. The build may define MS_NAME and
** MS_DESCRIPTION (the plugin's name and description) and MS_MODULE_INIT /
** MS_MODULE_FINI (module hooks it links in from another file); a plain
** build defines none of them.
*/
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_interface.h"

#define MS_CHUNK   ((size_t)64 * 1024) /* bytes per read / write callback  */
#define MS_MAX_KEY 1024                /* bytes                            */
#define MS_MAX_CONTAINER 63

#ifndef MS_NAME
#define MS_NAME "memstore"
#endif
#ifndef MS_DESCRIPTION
#define MS_DESCRIPTION "in-memory object store (example third-party plugin)"
#endif

/* The bytes of one object version; shared by the blobs that a server-side
 * copy or a metadata change derive from it. */
typedef struct ms_data {
  unsigned refs;
  uint64_t size;
  unsigned char *bytes;
} ms_data;

/* Owned copies of user metadata. */
typedef struct ms_meta {
  store_kv *kv;
  size_t n;
} ms_meta;

/* One blob version. Never changed once inserted: updates insert a new one. */
typedef struct ms_blob {
  unsigned refs;
  char *container;
  char *key;
  ms_data *data;
  char *content_type; /* NULL when none was given */
  ms_meta meta;
  int64_t mtime_ns;
  char etag[24];
} ms_blob;

/* One container version, immutable like ms_blob. */
typedef struct ms_container {
  unsigned refs;
  char *name;
  ms_meta meta;
  int64_t mtime_ns;
} ms_container;

struct store_handle {
  pthread_mutex_t lock;  /* guards everything below                     */
  ms_container **conts;  /* sorted by name                              */
  size_t nconts, capconts;
  ms_blob **blobs;       /* sorted by (container, key)                  */
  size_t nblobs, capblobs;
  uint64_t bytes;        /* bytes held by all ms_data                   */
  uint64_t max_bytes;    /* 0 = unlimited                               */
  uint64_t seq;          /* etag counter                                */
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static int64_t ms_now_ns(void)
{
  struct timespec ts;

  /* C11's timespec_get: plain -std=c11 needs no POSIX feature macros. */
  if (!timespec_get(&ts, TIME_UTC))
    return STORE_MTIME_UNKNOWN;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *ms_strdup(const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = malloc(n);

  if (d)
    memcpy(d, s, n);
  return d;
}

static int ms_starts_with(const char *s, const char *prefix)
{
  return !strncmp(s, prefix, strlen(prefix));
}

static void ms_meta_free(ms_meta *m)
{
  size_t i;

  for (i = 0; i < m->n; i++) {
    free((char *)m->kv[i].key);
    free((char *)m->kv[i].value);
  }
  free(m->kv);
  m->kv = NULL;
  m->n = 0;
}

/* Copy n borrowed pairs into *out. Returns STORE_OK or STORE_E_NOMEM. */
static int32_t ms_meta_copy(ms_meta *out, const store_kv *kv, size_t n,
                            store_error *err)
{
  size_t i;

  out->kv = NULL;
  out->n = 0;
  if (!n)
    return STORE_OK;
  out->kv = calloc(n, sizeof *out->kv);
  if (!out->kv)
    return store_error_set(err, STORE_E_NOMEM, "metadata: out of memory");
  for (i = 0; i < n; i++, out->n++) {
    out->kv[i].key = ms_strdup(kv[i].key ? kv[i].key : "");
    out->kv[i].value = ms_strdup(kv[i].value ? kv[i].value : "");
    if (!out->kv[i].key || !out->kv[i].value) {
      out->n++;
      ms_meta_free(out);
      return store_error_set(err, STORE_E_NOMEM, "metadata: out of memory");
    }
  }
  return STORE_OK;
}

/* The ms_*_release functions run with h->lock held. */
static void ms_data_release(store_handle *h, ms_data *d)
{
  if (!d || --d->refs)
    return;
  h->bytes -= d->size;
  free(d->bytes);
  free(d);
}

static void ms_blob_release(store_handle *h, ms_blob *b)
{
  if (!b || --b->refs)
    return;
  ms_data_release(h, b->data);
  free(b->container);
  free(b->key);
  free(b->content_type);
  ms_meta_free(&b->meta);
  free(b);
}

static void ms_container_release(ms_container *c)
{
  if (!c || --c->refs)
    return;
  free(c->name);
  ms_meta_free(&c->meta);
  free(c);
}

/* Take the lock, drop one reference, unlock. */
static void ms_blob_put_back(store_handle *h, ms_blob *b)
{
  pthread_mutex_lock(&h->lock);
  ms_blob_release(h, b);
  pthread_mutex_unlock(&h->lock);
}

static int32_t ms_check_container_name(const char *c, store_error *err)
{
  size_t i;

  if (!c || !*c || strlen(c) > MS_MAX_CONTAINER)
    return store_error_set(err, STORE_E_INVALID,
                           "container '%s': name must be 1-%d characters",
                           c ? c : "(null)", MS_MAX_CONTAINER);
  for (i = 0; c[i]; i++)
    if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') ||
          c[i] == '-' || c[i] == '_' || c[i] == '.'))
      return store_error_set(err, STORE_E_INVALID,
                             "container '%s': only [a-z0-9._-] allowed", c);
  return STORE_OK;
}

static int32_t ms_check_key(const char *c, const char *k, store_error *err)
{
  if (!k || !*k || strlen(k) > MS_MAX_KEY)
    return store_error_set(err, STORE_E_INVALID,
                           "blob '%s/%s': key must be 1-%d bytes", c,
                           k ? k : "(null)", MS_MAX_KEY);
  return STORE_OK;
}

/* ------------------------------------------------------------------------ */
/* Sorted arrays (caller holds h->lock)                                     */
/* ------------------------------------------------------------------------ */

/* Index of the first container whose name is >= name; *found when equal. */
static size_t ms_find_container(const store_handle *h, const char *name,
                                int *found)
{
  size_t lo = 0, hi = h->nconts;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (strcmp(h->conts[mid]->name, name) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = lo < h->nconts && !strcmp(h->conts[lo]->name, name);
  return lo;
}

static int ms_blob_cmp(const ms_blob *b, const char *c, const char *k)
{
  int r = strcmp(b->container, c);

  return r ? r : strcmp(b->key, k);
}

/* Index of the first blob >= (c, k); *found when equal. */
static size_t ms_find_blob(const store_handle *h, const char *c, const char *k,
                           int *found)
{
  size_t lo = 0, hi = h->nblobs;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (ms_blob_cmp(h->blobs[mid], c, k) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = lo < h->nblobs && !ms_blob_cmp(h->blobs[lo], c, k);
  return lo;
}

/* The current blob (c, k), or NULL. */
static ms_blob *ms_lookup(const store_handle *h, const char *c, const char *k)
{
  int found;
  size_t i = ms_find_blob(h, c, k, &found);

  return found ? h->blobs[i] : NULL;
}

static int ms_has_container(const store_handle *h, const char *c)
{
  int found;

  ms_find_container(h, c, &found);
  return found;
}

/* Insert b (taking over the caller's reference), replacing and releasing
 * an older version of the same blob. */
static int32_t ms_insert_blob(store_handle *h, ms_blob *b, store_error *err)
{
  int found;
  size_t i = ms_find_blob(h, b->container, b->key, &found);

  if (found) {
    ms_blob_release(h, h->blobs[i]);
    h->blobs[i] = b;
    return STORE_OK;
  }
  if (h->nblobs == h->capblobs) {
    size_t cap = h->capblobs ? h->capblobs * 2 : 64;
    ms_blob **nb = realloc(h->blobs, cap * sizeof *nb);

    if (!nb)
      return store_error_set(err, STORE_E_NOMEM, "blob '%s/%s': out of memory",
                             b->container, b->key);
    h->blobs = nb;
    h->capblobs = cap;
  }
  memmove(&h->blobs[i + 1], &h->blobs[i], (h->nblobs - i) * sizeof *h->blobs);
  h->blobs[i] = b;
  h->nblobs++;
  return STORE_OK;
}

static void ms_remove_blob_at(store_handle *h, size_t i)
{
  ms_blob_release(h, h->blobs[i]);
  memmove(&h->blobs[i], &h->blobs[i + 1],
          (h->nblobs - i - 1) * sizeof *h->blobs);
  h->nblobs--;
}

/* A new blob version named (c, k) over `data` (taking a reference) into
 * *out, which the caller releases. Caller holds the lock (etag counter). */
static int32_t ms_blob_new(store_handle *h, const char *c, const char *k,
                           ms_data *data, const char *content_type,
                           const store_kv *meta, size_t nmeta, ms_blob **out,
                           store_error *err)
{
  ms_blob *b = calloc(1, sizeof *b);
  int32_t rc = STORE_OK;

  *out = NULL;
  if (b) {
    b->container = ms_strdup(c);
    b->key = ms_strdup(k);
    b->content_type = content_type ? ms_strdup(content_type) : NULL;
  }
  if (!b || !b->container || !b->key || (content_type && !b->content_type)) {
    rc = store_error_set(err, STORE_E_NOMEM, "blob '%s/%s': out of memory",
                         c, k);
    goto out;
  }
  rc = ms_meta_copy(&b->meta, meta, nmeta, err);
  if (rc)
    goto out;
  b->refs = 1;
  b->data = data;
  data->refs++;
  b->mtime_ns = ms_now_ns();
  snprintf(b->etag, sizeof b->etag, "ms-%llu", (unsigned long long)++h->seq);
  *out = b;
  b = NULL;
out:
  if (b) {
    free(b->container);
    free(b->key);
    free(b->content_type);
    free(b);
  }
  return rc;
}

static void ms_entry_from_blob(store_entry *e, const ms_blob *b)
{
  memset(e, 0, sizeof *e);
  e->struct_size = sizeof *e;
  e->name = b->key;
  e->size = b->data->size;
  e->mtime_ns = b->mtime_ns;
  e->etag = b->etag;
  e->content_type = b->content_type;
  e->metadata = b->meta.kv;
  e->nmetadata = b->meta.n;
}

static void ms_entry_from_container(store_entry *e, const ms_container *c)
{
  memset(e, 0, sizeof *e);
  e->struct_size = sizeof *e;
  e->flags = STORE_ENTRY_CONTAINER;
  e->name = c->name;
  e->mtime_ns = c->mtime_ns;
  e->metadata = c->meta.kv;
  e->nmetadata = c->meta.n;
}

/* ------------------------------------------------------------------------ */
/* Containers                                                               */
/* ------------------------------------------------------------------------ */

static int32_t ms_container_create(store_handle *h, const char *name,
                                   const store_kv *meta, size_t nmeta,
                                   store_error *err)
{
  ms_container *c = NULL;
  int32_t rc;
  size_t i;
  int found;

  rc = ms_check_container_name(name, err);
  if (rc)
    return rc;
  c = calloc(1, sizeof *c);
  if (c)
    c->refs = 1;
  if (!c || !(c->name = ms_strdup(name))) {
    rc = store_error_set(err, STORE_E_NOMEM, "container '%s': out of memory",
                         name);
    goto out;
  }
  c->mtime_ns = ms_now_ns();
  rc = ms_meta_copy(&c->meta, meta, nmeta, err);
  if (rc)
    goto out;
  pthread_mutex_lock(&h->lock);
  i = ms_find_container(h, name, &found);
  if (found) {
    rc = store_error_set(err, STORE_E_EXISTS, "container '%s': already exists",
                         name);
  } else if (h->nconts == h->capconts) {
    size_t cap = h->capconts ? h->capconts * 2 : 8;
    ms_container **nc = realloc(h->conts, cap * sizeof *nc);

    if (nc) {
      h->conts = nc;
      h->capconts = cap;
    } else {
      rc = store_error_set(err, STORE_E_NOMEM,
                           "container '%s': out of memory", name);
    }
  }
  if (!rc) {
    memmove(&h->conts[i + 1], &h->conts[i],
            (h->nconts - i) * sizeof *h->conts);
    h->conts[i] = c;
    h->nconts++;
    c = NULL;
  }
  pthread_mutex_unlock(&h->lock);
out:
  ms_container_release(c);
  return rc;
}

/* Create each container named in the comma-separated list. */
static int32_t ms_precreate(store_handle *h, const char *list,
                            store_error *err)
{
  char name[MS_MAX_CONTAINER + 2];
  int32_t rc = STORE_OK;

  while (*list) {
    size_t n = strcspn(list, ",");

    if (n) {
      if (n > MS_MAX_CONTAINER)
        return store_error_set(err, STORE_E_CONFIG,
                               MS_NAME ": containers: name '%.*s' too long",
                               (int)n, list);
      memcpy(name, list, n);
      name[n] = '\0';
      rc = ms_container_create(h, name, NULL, 0, err);
      if (rc && err) {
        char why[STORE_ERR_MSG_SIZE];

        memcpy(why, err->message, sizeof why);
        rc = store_error_set(err, STORE_E_CONFIG, MS_NAME ": containers: %s",
                             why);
      }
      if (rc)
        return rc;
    }
    list += n;
    if (*list == ',')
      list++;
  }
  return rc;
}

static int32_t ms_container_delete(store_handle *h, const char *name,
                                   uint32_t flags, store_error *err)
{
  int32_t rc = STORE_OK;
  size_t i, b;
  int found;

  pthread_mutex_lock(&h->lock);
  i = ms_find_container(h, name, &found);
  if (!found) {
    rc = store_error_set(err, STORE_E_NOT_FOUND, "container '%s': not found",
                         name);
    goto out;
  }
  /* Blobs of a container are contiguous and start at key "". */
  b = ms_find_blob(h, name, "", &found);
  if (b < h->nblobs && !strcmp(h->blobs[b]->container, name)) {
    if (!(flags & STORE_CONTAINER_DELETE_RECURSIVE)) {
      rc = store_error_set(err, STORE_E_NOT_EMPTY,
                           "container '%s': not empty", name);
      goto out;
    }
    while (b < h->nblobs && !strcmp(h->blobs[b]->container, name))
      ms_remove_blob_at(h, b);
  }
  ms_container_release(h->conts[i]);
  memmove(&h->conts[i], &h->conts[i + 1],
          (h->nconts - i - 1) * sizeof *h->conts);
  h->nconts--;
out:
  pthread_mutex_unlock(&h->lock);
  return rc;
}

static int32_t ms_container_list(store_handle *h, const char *prefix,
                                 store_entry_fn cb, void *cb_ctx,
                                 store_error *err)
{
  char *cursor = NULL; /* last name reported */
  int32_t rc = STORE_OK;

  if (!prefix)
    prefix = "";
  for (;;) {
    ms_container *c = NULL;
    store_entry e;
    int found;
    size_t i;

    pthread_mutex_lock(&h->lock);
    i = ms_find_container(h, cursor ? cursor : prefix, &found);
    if (cursor && found)
      i++;
    if (i < h->nconts && ms_starts_with(h->conts[i]->name, prefix)) {
      c = h->conts[i];
      c->refs++;
    }
    pthread_mutex_unlock(&h->lock);
    if (!c)
      break;
    free(cursor);
    cursor = ms_strdup(c->name);
    ms_entry_from_container(&e, c);
    if (!cursor)
      rc = store_error_set(err, STORE_E_NOMEM, "container list: out of memory");
    else if (cb(cb_ctx, &e))
      rc = store_error_set(err, STORE_E_ABORTED,
                           "container list: stopped by the caller");
    pthread_mutex_lock(&h->lock);
    ms_container_release(c);
    pthread_mutex_unlock(&h->lock);
    if (rc)
      break;
  }
  free(cursor);
  return rc;
}

static int32_t ms_container_head(store_handle *h, const char *name,
                                 store_entry_fn cb, void *cb_ctx,
                                 store_error *err)
{
  ms_container *c = NULL;
  store_entry e;
  int32_t rc = STORE_OK;
  size_t i;
  int found;

  pthread_mutex_lock(&h->lock);
  i = ms_find_container(h, name, &found);
  if (found) {
    c = h->conts[i];
    c->refs++;
  }
  pthread_mutex_unlock(&h->lock);
  if (!c)
    return store_error_set(err, STORE_E_NOT_FOUND,
                           "container '%s': not found", name);
  ms_entry_from_container(&e, c);
  if (cb && cb(cb_ctx, &e))
    rc = store_error_set(err, STORE_E_ABORTED,
                         "container '%s': stopped by the caller", name);
  pthread_mutex_lock(&h->lock);
  ms_container_release(c);
  pthread_mutex_unlock(&h->lock);
  return rc;
}

static int32_t ms_container_set_metadata(store_handle *h, const char *name,
                                         const store_kv *meta, size_t nmeta,
                                         store_error *err)
{
  ms_container *c, *old;
  int32_t rc;
  size_t i;
  int found;

  c = calloc(1, sizeof *c);
  if (!c || !(c->name = ms_strdup(name))) {
    free(c);
    return store_error_set(err, STORE_E_NOMEM,
                           "container '%s': out of memory", name);
  }
  c->refs = 1;
  rc = ms_meta_copy(&c->meta, meta, nmeta, err);
  if (rc) {
    ms_container_release(c);
    return rc;
  }
  pthread_mutex_lock(&h->lock);
  i = ms_find_container(h, name, &found);
  if (found) {
    old = h->conts[i];
    c->mtime_ns = old->mtime_ns;
    h->conts[i] = c;
    c = old;
  } else {
    rc = store_error_set(err, STORE_E_NOT_FOUND, "container '%s': not found",
                         name);
  }
  ms_container_release(c);
  pthread_mutex_unlock(&h->lock);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

/* Parse a whole unsigned decimal number. Returns 0 on success. */
static int ms_parse_u64(const char *s, uint64_t *out)
{
  uint64_t v = 0;

  if (!s || !*s)
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return 0;
}

static void ms_close(store_handle *h)
{
  size_t i;

  if (!h)
    return;
  for (i = 0; i < h->nblobs; i++)
    ms_blob_release(h, h->blobs[i]);
  for (i = 0; i < h->nconts; i++)
    ms_container_release(h->conts[i]);
  free(h->blobs);
  free(h->conts);
  pthread_mutex_destroy(&h->lock);
  free(h);
}


static int32_t ms_open(const store_host_api *host, const store_kv *config,
                       size_t nconfig, store_handle **out_handle,
                       store_error *err)
{
  store_handle *h;
  const char *containers = NULL;
  int32_t rc = STORE_OK;
  size_t i;

  *out_handle = NULL;
  h = calloc(1, sizeof *h);
  if (!h)
    return store_error_set(err, STORE_E_NOMEM, MS_NAME ": out of memory");
  pthread_mutex_init(&h->lock, NULL);
  for (i = 0; i < nconfig; i++) {
    const char *k = config[i].key, *v = config[i].value;

    if (!strcmp(k, "max-bytes")) {
      if (ms_parse_u64(v, &h->max_bytes)) {
        rc = store_error_set(err, STORE_E_CONFIG,
                             MS_NAME ": max-bytes '%s' is not a number of "
                             "bytes", v ? v : "");
        goto out;
      }
    } else if (!strcmp(k, "containers")) {
      containers = v;
    }
    /* Other keys ("name", ...) are the host's to warn about. */
  }
  if (containers) {
    rc = ms_precreate(h, containers, err);
    if (rc)
      goto out;
  }
  if (host && host->log)
    host->log(host->host_ctx, STORE_LOG_DEBUG, MS_NAME ": opened");
  *out_handle = h;
  h = NULL;
out:
  ms_close(h);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Blobs                                                                    */
/* ------------------------------------------------------------------------ */

/* Pull the whole body from src into a new ms_data (refs 0, not yet counted
 * in h->bytes). Bounded by max-bytes, so a runaway source cannot exhaust
 * memory. */
static int32_t ms_read_body(store_handle *h, const char *c, const char *k,
                            int64_t declared, store_read_fn src, void *ctx,
                            ms_data **out, store_error *err)
{
  ms_data *d = calloc(1, sizeof *d);
  size_t cap = 0;
  int32_t rc = STORE_OK;

  *out = NULL;
  if (!d)
    return store_error_set(err, STORE_E_NOMEM, "blob '%s/%s': out of memory",
                           c, k);
  for (;;) {
    size_t n = 0;

    if (cap - d->size < MS_CHUNK) {
      size_t ncap = cap ? cap * 2 : MS_CHUNK;
      unsigned char *nb = realloc(d->bytes, ncap);

      if (!nb) {
        rc = store_error_set(err, STORE_E_NOMEM,
                             "blob '%s/%s': out of memory", c, k);
        goto out;
      }
      d->bytes = nb;
      cap = ncap;
    }
    if (src(ctx, d->bytes + d->size, MS_CHUNK, &n)) {
      rc = store_error_set(err, STORE_E_ABORTED,
                           "blob '%s/%s': upload stopped by the caller", c, k);
      goto out;
    }
    if (!n)
      break;
    d->size += n;
    if (h->max_bytes && d->size > h->max_bytes) {
      rc = store_error_set(err, STORE_E_IO,
                           "blob '%s/%s': larger than max-bytes (%llu)", c, k,
                           (unsigned long long)h->max_bytes);
      goto out;
    }
  }
  if (declared >= 0 && (uint64_t)declared != d->size) {
    rc = store_error_set(err, STORE_E_INVALID,
                         "blob '%s/%s': body has %llu bytes, content_length "
                         "said %lld", c, k, (unsigned long long)d->size,
                         (long long)declared);
    goto out;
  }
  *out = d;
  d = NULL;
out:
  if (d) {
    free(d->bytes);
    free(d);
  }
  return rc;
}

/* Conditions of a put, checked against the current version `cur`. */
static int32_t ms_put_conditions(const ms_blob *cur, const char *c,
                                 const char *k, const store_put_opts *opts,
                                 store_error *err)
{
  if (!opts)
    return STORE_OK;
  if ((opts->flags & STORE_PUT_IF_NONE_MATCH) && cur)
    return store_error_set(err, STORE_E_EXISTS, "blob '%s/%s': already exists",
                           c, k);
  if (opts->if_match && (!cur || strcmp(cur->etag, opts->if_match)))
    return store_error_set(err, STORE_E_PRECONDITION,
                           "blob '%s/%s': etag does not match '%s'", c, k,
                           opts->if_match);
  return STORE_OK;
}

static int32_t ms_blob_put(store_handle *h, const char *c, const char *k,
                           const store_put_opts *opts, store_read_fn src,
                           void *src_ctx, store_put_result *out,
                           store_error *err)
{
  ms_data *d = NULL;
  ms_blob *b = NULL;
  int32_t rc;

  rc = ms_check_key(c, k, err);
  if (rc)
    return rc;
  /* Fail before reading the body when we already know the answer. */
  pthread_mutex_lock(&h->lock);
  if (!ms_has_container(h, c))
    rc = store_error_set(err, STORE_E_NOT_FOUND, "container '%s': not found",
                         c);
  else
    rc = ms_put_conditions(ms_lookup(h, c, k), c, k, opts, err);
  pthread_mutex_unlock(&h->lock);
  if (rc)
    return rc;
  rc = ms_read_body(h, c, k, opts ? opts->content_length : -1, src, src_ctx,
                    &d, err);
  if (rc)
    return rc;
  pthread_mutex_lock(&h->lock);
  /* Again: another thread may have changed things while we read. */
  if (!ms_has_container(h, c)) {
    rc = store_error_set(err, STORE_E_NOT_FOUND, "container '%s': not found",
                         c);
    goto unlock;
  }
  rc = ms_put_conditions(ms_lookup(h, c, k), c, k, opts, err);
  if (rc)
    goto unlock;
  if (h->max_bytes && h->bytes + d->size > h->max_bytes) {
    rc = store_error_set(err, STORE_E_IO,
                         "blob '%s/%s': store full (max-bytes %llu)", c, k,
                         (unsigned long long)h->max_bytes);
    goto unlock;
  }
  rc = ms_blob_new(h, c, k, d, opts ? opts->content_type : NULL,
                   opts ? opts->metadata : NULL, opts ? opts->nmetadata : 0,
                   &b, err);
  if (rc)
    goto unlock;
  h->bytes += d->size;
  d = NULL; /* the blob owns it now */
  if (out) {
    out->size = b->data->size;
    snprintf(out->etag, sizeof out->etag, "%s", b->etag);
    out->version_id[0] = '\0';
  }
  rc = ms_insert_blob(h, b, err);
  if (rc)
    ms_blob_release(h, b);
unlock:
  pthread_mutex_unlock(&h->lock);
  if (d) {
    free(d->bytes);
    free(d);
  }
  return rc;
}

/* Find (c, k) and take a reference, or fill err. Caller holds the lock. */
static int32_t ms_acquire(store_handle *h, const char *c, const char *k,
                          ms_blob **out, store_error *err)
{
  ms_blob *b;

  *out = NULL;
  if (!ms_has_container(h, c))
    return store_error_set(err, STORE_E_NOT_FOUND, "container '%s': not found",
                           c);
  b = ms_lookup(h, c, k);
  if (!b)
    return store_error_set(err, STORE_E_NOT_FOUND, "blob '%s/%s': not found",
                           c, k);
  b->refs++;
  *out = b;
  return STORE_OK;
}

/* Snapshots are not kept: any snapshot id is UNSUPPORTED. */
static int32_t ms_no_snapshot(const char *c, const char *k, const char *id,
                              store_error *err)
{
  if (id)
    return store_error_set(err, STORE_E_UNSUPPORTED,
                           "blob '%s/%s': " MS_NAME " keeps no snapshots", c,
                           k);
  return STORE_OK;
}

/* The current blob (c, k) for reading, with a reference taken (release
 * with ms_blob_put_back). Takes the lock. */
static int32_t ms_read_begin(store_handle *h, const char *c, const char *k,
                             const char *snapshot_id, ms_blob **out,
                             store_error *err)
{
  int32_t rc = ms_no_snapshot(c, k, snapshot_id, err);

  *out = NULL;
  if (rc)
    return rc;
  pthread_mutex_lock(&h->lock);
  rc = ms_acquire(h, c, k, out, err);
  pthread_mutex_unlock(&h->lock);
  return rc;
}

static int32_t ms_blob_get(store_handle *h, const char *c, const char *k,
                           const store_get_opts *opts, store_write_fn sink,
                           void *sink_ctx, store_error *err)
{
  uint64_t off = 0, end;
  ms_blob *b = NULL;
  store_entry e;
  int32_t rc;

  rc = ms_read_begin(h, c, k, opts ? opts->snapshot_id : NULL, &b, err);
  if (rc)
    return rc;
  end = b->data->size;
  if (opts && opts->if_match && strcmp(opts->if_match, b->etag)) {
    rc = store_error_set(err, STORE_E_PRECONDITION,
                         "blob '%s/%s': etag does not match '%s'", c, k,
                         opts->if_match);
    goto out;
  }
  if (opts && (opts->flags & STORE_GET_RANGE)) {
    /* Like HTTP 416: a range must start inside a non-empty object. */
    if (opts->offset && opts->offset >= end) {
      rc = store_error_set(err, STORE_E_INVALID,
                           "blob '%s/%s': range starts at %llu, past the end "
                           "(%llu bytes)", c, k,
                           (unsigned long long)opts->offset,
                           (unsigned long long)end);
      goto out;
    }
    off = opts->offset;
    if (opts->length && opts->length < end - off)
      end = off + opts->length;
  }
  if (opts && opts->on_entry) {
    ms_entry_from_blob(&e, b);
    if (opts->on_entry(opts->on_entry_ctx, &e)) {
      rc = store_error_set(err, STORE_E_ABORTED,
                           "blob '%s/%s': stopped by the caller", c, k);
      goto out;
    }
  }
  while (off < end) {
    size_t n = end - off < MS_CHUNK ? (size_t)(end - off) : MS_CHUNK;

    if (sink(sink_ctx, b->data->bytes + off, n)) {
      rc = store_error_set(err, STORE_E_ABORTED,
                           "blob '%s/%s': download stopped by the caller", c,
                           k);
      goto out;
    }
    off += n;
  }
out:
  ms_blob_put_back(h, b);
  return rc;
}

static int32_t ms_blob_head(store_handle *h, const char *c, const char *k,
                            const store_head_opts *opts, store_entry_fn cb,
                            void *cb_ctx, store_error *err)
{
  ms_blob *b = NULL;
  store_entry e;
  int32_t rc;

  rc = ms_read_begin(h, c, k, opts ? opts->snapshot_id : NULL, &b, err);
  if (rc)
    return rc;
  ms_entry_from_blob(&e, b);
  if (cb && cb(cb_ctx, &e))
    rc = store_error_set(err, STORE_E_ABORTED,
                         "blob '%s/%s': stopped by the caller", c, k);
  ms_blob_put_back(h, b);
  return rc;
}

static int32_t ms_blob_delete(store_handle *h, const char *c, const char *k,
                              const store_delete_opts *opts, store_error *err)
{
  int32_t rc;
  size_t i;
  int found;

  rc = ms_no_snapshot(c, k, opts ? opts->snapshot_id : NULL, err);
  if (rc)
    return rc;
  pthread_mutex_lock(&h->lock);
  i = ms_find_blob(h, c, k, &found);
  if (!ms_has_container(h, c))
    rc = store_error_set(err, STORE_E_NOT_FOUND, "container '%s': not found",
                         c);
  else if (!found)
    rc = store_error_set(err, STORE_E_NOT_FOUND, "blob '%s/%s': not found", c,
                         k);
  else
    ms_remove_blob_at(h, i);
  pthread_mutex_unlock(&h->lock);
  return rc;
}

/*
** Listing walks the sorted array with a cursor (the last name reported)
** and re-finds its place under the lock for every entry, so the caller's
** callback may modify the store, and memory stays constant.
*/
static int32_t ms_blob_list(store_handle *h, const char *c,
                            const store_list_opts *opts, store_entry_fn cb,
                            void *cb_ctx, store_error *err)
{
  const char *prefix = opts && opts->prefix ? opts->prefix : "";
  const char *delim =
      opts && opts->delimiter && *opts->delimiter ? opts->delimiter : NULL;
  const char *after = opts && opts->start_after ? opts->start_after : NULL;
  size_t plen = strlen(prefix);
  char *cursor = NULL; /* last name reported                          */
  int cursor_is_prefix = 0; /* it was a PREFIX entry: skip keys under it */
  int32_t rc = STORE_OK;

  pthread_mutex_lock(&h->lock);
  if (!ms_has_container(h, c))
    rc = store_error_set(err, STORE_E_NOT_FOUND, "container '%s': not found",
                         c);
  pthread_mutex_unlock(&h->lock);
  while (!rc) {
    const char *from = cursor ? cursor
                       : after && strcmp(after, prefix) > 0 ? after
                                                            : prefix;
    ms_blob *b = NULL;
    const char *d = NULL;
    store_entry e;
    char *name = NULL;
    size_t i;
    int found;

    pthread_mutex_lock(&h->lock);
    for (i = ms_find_blob(h, c, from, &found); i < h->nblobs; i++) {
      const char *k = h->blobs[i]->key;

      if (strcmp(h->blobs[i]->container, c))
        break;
      if (cursor && (cursor_is_prefix ? ms_starts_with(k, cursor)
                                      : strcmp(k, cursor) <= 0))
        continue;
      if (!cursor && after && strcmp(k, after) <= 0)
        continue;
      break;
    }
    if (i < h->nblobs && !strcmp(h->blobs[i]->container, c) &&
        ms_starts_with(h->blobs[i]->key, prefix)) {
      b = h->blobs[i];
      d = delim ? strstr(b->key + plen, delim) : NULL;
      if (d) {
        size_t n = (size_t)(d - b->key) + strlen(delim);

        name = malloc(n + 1);
        if (name) {
          memcpy(name, b->key, n);
          name[n] = '\0';
        }
        b = NULL;
      } else {
        name = ms_strdup(b->key);
        b->refs++;
      }
    } else {
      pthread_mutex_unlock(&h->lock);
      break;
    }
    pthread_mutex_unlock(&h->lock);
    if (!name) {
      rc = store_error_set(err, STORE_E_NOMEM, "list '%s': out of memory", c);
    } else {
      free(cursor);
      cursor = name;
      cursor_is_prefix = d != NULL;
      if (b) {
        ms_entry_from_blob(&e, b);
      } else {
        memset(&e, 0, sizeof e);
        e.struct_size = sizeof e;
        e.flags = STORE_ENTRY_PREFIX;
        e.name = name;
        e.mtime_ns = STORE_MTIME_UNKNOWN;
      }
      if (cb(cb_ctx, &e))
        rc = store_error_set(err, STORE_E_ABORTED,
                             "list '%s': stopped by the caller", c);
    }
    if (b)
      ms_blob_put_back(h, b);
  }
  free(cursor);
  return rc;
}

static int32_t ms_blob_set_metadata(store_handle *h, const char *c,
                                    const char *k, const store_kv *meta,
                                    size_t nmeta, store_error *err)
{
  ms_blob *cur, *b = NULL;
  int32_t rc;

  pthread_mutex_lock(&h->lock);
  rc = ms_acquire(h, c, k, &cur, err);
  if (rc)
    goto out;
  rc = ms_blob_new(h, c, k, cur->data, cur->content_type, meta, nmeta, &b,
                   err);
  if (!rc)
    rc = ms_insert_blob(h, b, err);
  if (rc)
    ms_blob_release(h, b);
  ms_blob_release(h, cur);
out:
  pthread_mutex_unlock(&h->lock);
  return rc;
}

/* Server-side copy: the new blob shares the source's bytes. */
static int32_t ms_blob_copy(store_handle *h, const char *sc, const char *sk,
                            const char *dc, const char *dk,
                            const store_copy_opts *opts, store_error *err)
{
  int replace = opts && (opts->flags & STORE_COPY_REPLACE_METADATA);
  ms_blob *src = NULL, *b = NULL;
  int32_t rc;

  rc = ms_no_snapshot(sc, sk, opts ? opts->src_snapshot_id : NULL, err);
  if (!rc)
    rc = ms_check_key(dc, dk, err);
  if (rc)
    return rc;
  pthread_mutex_lock(&h->lock);
  rc = ms_acquire(h, sc, sk, &src, err);
  if (rc)
    goto out;
  if (!ms_has_container(h, dc)) {
    rc = store_error_set(err, STORE_E_NOT_FOUND, "container '%s': not found",
                         dc);
    goto out;
  }
  rc = ms_blob_new(h, dc, dk, src->data,
                   replace ? opts->content_type : src->content_type,
                   replace ? opts->metadata : src->meta.kv,
                   replace ? opts->nmetadata : src->meta.n, &b, err);
  if (!rc)
    rc = ms_insert_blob(h, b, err);
  if (rc)
    ms_blob_release(h, b);
out:
  ms_blob_release(h, src);
  pthread_mutex_unlock(&h->lock);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* The exported table                                                       */
/* ------------------------------------------------------------------------ */

static const store_config_key ms_config_keys[] = {
  { "containers", "comma-separated containers to create at open", 0, 0 },
  { "max-bytes", "most bytes the store may hold (0 = unlimited)", 0, 0 },
  { NULL, NULL, 0, 0 },
};

static const store_limits ms_limits = {
  .struct_size = sizeof(store_limits),
  .max_key_length = MS_MAX_KEY,
};

#ifdef MS_MODULE_INIT
int32_t MS_MODULE_INIT(const store_host_api *host, store_error *err);
void MS_MODULE_FINI(void);
#endif

/* The one exported symbol: everything else in this file is static. */
STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .name = MS_NAME,
  .version = "1.0.0",
  .description = MS_DESCRIPTION,
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_RANGE_GET |
                  STORE_CAP_METADATA | STORE_CAP_CONTAINER_METADATA |
                  STORE_CAP_COPY | STORE_CAP_CONDITIONAL |
                  STORE_CAP_THREADSAFE | STORE_CAP_CONTENT_TYPE,
  .limits = &ms_limits,
  .config_keys = ms_config_keys,
#ifdef MS_MODULE_INIT
  .module_init = MS_MODULE_INIT,
  .module_fini = MS_MODULE_FINI,
#endif
  .open = ms_open,
  .close = ms_close,
  .container_create = ms_container_create,
  .container_delete = ms_container_delete,
  .container_list = ms_container_list,
  .container_head = ms_container_head,
  .container_set_metadata = ms_container_set_metadata,
  .blob_put = ms_blob_put,
  .blob_get = ms_blob_get,
  .blob_head = ms_blob_head,
  .blob_delete = ms_blob_delete,
  .blob_list = ms_blob_list,
  .blob_set_metadata = ms_blob_set_metadata,
  .blob_copy = ms_blob_copy,
};
