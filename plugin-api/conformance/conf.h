/*
** conf.h -- shared harness of the xtstore conformance suite.
**
** The suite drives ONE configured service through the public API
** (xtstore.h) only. Every case gets its own freshly created container
** (t->c) and the harness deletes it, recursively, in teardown.
*/
#ifndef XTSTORE_CONF_H
#define XTSTORE_CONF_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xtstore.h"

/* ------------------------------------------------------------------------ */
/* Globals set up by main()                                                 */
/* ------------------------------------------------------------------------ */
extern xtstore_ctx *g_ctx;
extern xtstore_svc *g_svc;
extern uint64_t g_caps;
extern const store_limits *g_limits;
extern const char *g_run_prefix;   /* "<prefix>-<random>", DNS-safe      */
extern uint64_t g_large_mib;       /* --large-mib                        */

#define CONF_MAX_CONTAINERS 4
#define CONF_NAME_MAX 64

typedef struct tcase tcase;

typedef struct conf_case {
  const char *name;
  void (*fn)(tcase *t);
  uint64_t caps;         /* every bit must be offered, else the case skips */
} conf_case;
/* In conf_case.caps: a copy within the service, which the host does only
 * for a plugin with STORE_CAP_COPY or STORE_CAP_THREADSAFE (no real bit). */
#define CONF_NEEDS_COPY (UINT64_C(1) << 63)

struct conf_alloc;

struct tcase {
  const conf_case *def;
  char c[CONF_NAME_MAX];                        /* the case's container   */
  char extra[CONF_MAX_CONTAINERS][CONF_NAME_MAX]; /* more, for teardown  */
  int nextra;
  int created;
  store_error err;
  struct conf_alloc *allocs;                   /* freed in teardown       */
};

/* ------------------------------------------------------------------------ */
/* Failure reporting: every message names the case.                         */
/* ------------------------------------------------------------------------ */
const char *code_name(int code);

/* Zero t->err and return it: pass as the err argument of every call. */
store_error *conf_err(tcase *t);
#define ERR(t) conf_err(t)

#define CHECK(t, cond, fmt, ...)                                          \
  do {                                                                    \
    if (!(cond))                                                          \
      fail_msg("[%s] " fmt, (t)->def->name, ##__VA_ARGS__);               \
  } while (0)

#define FAILF(t, fmt, ...) fail_msg("[%s] " fmt, (t)->def->name, ##__VA_ARGS__)

/* rc must equal want; on failure print both codes and the error message. */
#define EXPECT_RC(t, rc, want, fmt, ...)                                  \
  do {                                                                    \
    int conf_rc_ = (rc), conf_want_ = (want);                             \
    if (conf_rc_ != conf_want_)                                           \
      fail_msg("[%s] " fmt ": expected %s, got %s (%s)", (t)->def->name,  \
               ##__VA_ARGS__, code_name(conf_want_), code_name(conf_rc_), \
               (t)->err.message);                                         \
  } while (0)
#define EXPECT_OK(t, rc, fmt, ...) EXPECT_RC(t, rc, STORE_OK, fmt, ##__VA_ARGS__)

/* Print a note into the test output (e.g. a skip reason). */
void conf_note(tcase *t, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
/* Print the reason and skip the current case (never returns). */
void conf_skip(tcase *t, const char *fmt, ...)
  __attribute__((format(printf, 2, 3), noreturn));

/* ------------------------------------------------------------------------ */
/* Per-case arena (freed in teardown even when a case fails midway).        */
/* ------------------------------------------------------------------------ */
void *talloc(tcase *t, size_t n);           /* zeroed                      */
char *tstrdup(tcase *t, const char *s);     /* NULL stays NULL            */
void conf_free_arena(tcase *t);
char *tprintf(tcase *t, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------ */
/* Containers                                                               */
/* ------------------------------------------------------------------------ */
/* Make a unique container name "<run prefix>-<tag>-<n>" into out. */
void conf_container_name(char *out, size_t cap, const char *tag);
/* Create one more container for this case (deleted in teardown). */
const char *conf_extra_container(tcase *t, const char *tag);

/* ------------------------------------------------------------------------ */
/* Bodies                                                                   */
/* ------------------------------------------------------------------------ */
/* Read source over a memory buffer. chunk = most bytes per call (0: cap).
 * abort_at: return non-zero once this many bytes were produced
 * (SIZE_MAX: never). */
typedef struct memsrc {
  const unsigned char *p;
  size_t len, pos;
  size_t chunk;
  size_t abort_at;
  size_t calls;
  size_t after_abort;   /* calls after it returned non-zero */
  int aborted;
} memsrc;
void memsrc_init(memsrc *s, const void *p, size_t len);
int32_t memsrc_read(void *ctx, void *buf, size_t cap, size_t *out_n);
int32_t memsrc_rewind(void *ctx);

/* Sink into a growing buffer. abort_on_call: return non-zero on that
 * (1-based) call; 0 = never. calls counts every call, also after abort. */
typedef struct membuf {
  unsigned char *p;
  size_t len, cap;
  size_t calls;
  size_t abort_on_call;
  size_t zero_len_calls;
} membuf;
int32_t membuf_write(void *ctx, const void *buf, size_t len);
void membuf_free(membuf *b);

/* Deterministic pseudo-random bytes: byte i of stream `seed` is a pure
 * function of (seed, i), so any range can be regenerated. */
void gen_fill(uint64_t seed, uint64_t pos, void *buf, size_t n);
uint64_t fnv1a(uint64_t h, const void *p, size_t n);
#define FNV1A_INIT UINT64_C(0xcbf29ce484222325)

/* ------------------------------------------------------------------------ */
/* Copied entries                                                           */
/* ------------------------------------------------------------------------ */
typedef struct centry {
  uint32_t flags;
  char *name;
  uint64_t size;
  int64_t mtime_ns;
  char *etag;
  char *content_type;
  char *snapshot_id;
  store_kv *md;
  size_t nmd;
} centry;

typedef struct clist {
  tcase *t;
  centry *v;
  size_t n, cap;
  size_t calls;
  size_t max;       /* stop (return non-zero) beyond this many; 0: none */
  int overflow;     /* max was hit: the listing did not terminate       */
} clist;
#define CONF_LIST_MAX 100000
void clist_init(clist *l, tcase *t);
/* store_entry_fn appending a deep copy (into the case arena). */
int32_t clist_add(void *ctx, const store_entry *e);

/* ------------------------------------------------------------------------ */
/* Short-hands: all go through xtstore.h; return the rc.                    */
/* ------------------------------------------------------------------------ */
int put_mem(tcase *t, const char *c, const char *k, const void *p, size_t n,
            const char *ctype, const store_kv *md, size_t nmd, uint32_t flags,
            store_put_result *out);
#define put_str(t, c, k, s) \
  put_mem(t, c, k, s, strlen(s), NULL, NULL, 0, 0, NULL)
int get_mem(tcase *t, const char *c, const char *k, const store_get_opts *o,
            membuf *out);
/* head: exactly one callback expected; copy into *out. */
int head_entry(tcase *t, const char *c, const char *k, const char *snapshot,
               centry *out);
int list_all(tcase *t, const char *c, const store_list_opts *o, clist *out);

/* Assertions with case-named messages. */
void expect_body(tcase *t, const char *c, const char *k, const void *p,
                 size_t n, const char *what);
void expect_missing(tcase *t, const char *c, const char *k, const char *what);
void expect_md(tcase *t, const store_kv *want, size_t nwant,
               const store_kv *got, size_t ngot, const char *what);
void expect_mtime_sane(tcase *t, int64_t mtime_ns, const char *what);
/* Recursive listing of the whole container equals exactly these keys
 * (in byte order; keys given in any order). */
void expect_keys(tcase *t, const char *c, const char *const *keys, size_t n,
                 const char *what);
const char *fmt_names(tcase *t, const clist *l);
/* The same for plain names. */
const char *fmt_strs(tcase *t, const char *const *v, size_t n);

/* ------------------------------------------------------------------------ */
/* Cases                                                                    */
/* ------------------------------------------------------------------------ */
#define CONF_CASE(fn) void fn(tcase *t)
CONF_CASE(containers_lifecycle);
CONF_CASE(containers_empty_delete);
CONF_CASE(containers_metadata);
CONF_CASE(blobs_small_text);
CONF_CASE(blobs_zero_length);
CONF_CASE(blobs_special_keys);
CONF_CASE(blobs_overwrite);
CONF_CASE(blobs_not_found);
CONF_CASE(blobs_delete_many);
CONF_CASE(blobs_missing_container);
CONF_CASE(blobs_content_type);
CONF_CASE(blobs_metadata);
CONF_CASE(blobs_set_metadata);
CONF_CASE(blobs_if_none_match);
CONF_CASE(blobs_if_match);
CONF_CASE(blobs_delete_if_match);
CONF_CASE(multipart_delete_if_match);
CONF_CASE(blobs_range_get);
CONF_CASE(blobs_unknown_length);
CONF_CASE(blobs_put_abort);
CONF_CASE(blobs_get_abort);
CONF_CASE(listing_recursive);
CONF_CASE(listing_delimiter);
CONF_CASE(listing_root_delimiter);
CONF_CASE(listing_stop);
CONF_CASE(listing_start_after);
CONF_CASE(listing_pages);
CONF_CASE(listing_pages_delimiter);
CONF_CASE(listing_entries);
CONF_CASE(append_basic);
CONF_CASE(snapshot_basic);
CONF_CASE(snapshot_delete_base);
CONF_CASE(snapshot_of_current_deleted);
CONF_CASE(copy_same_service);
CONF_CASE(copy_replace_metadata);
CONF_CASE(copy_missing_source);
CONF_CASE(multipart_complete_case);
CONF_CASE(multipart_abort_case);
CONF_CASE(multipart_list_case);
CONF_CASE(multipart_bad_token);
CONF_CASE(multipart_if_none_match);
CONF_CASE(large_streaming);
CONF_CASE(concurrency_threads);
CONF_CASE(integrity_put);
CONF_CASE(integrity_multipart);
CONF_CASE(integrity_copy);
CONF_CASE(presign_url);

#endif
