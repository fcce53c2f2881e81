/*
** s3_cksum_probe.c -- the S3 provider's ABI 1.1 checksum contract driven
** directly through its interface table (the host's use of it is tested
** elsewhere), for test_checksums.sh:
**
**   s3_cksum_probe PLUGIN.so KEY=VALUE... -- CMD ARGS...
**     mb BUCKET
**     put BUCKET KEY FILE [crc|crc=bad|md5|md5=bad|trailer|pipe|parts]...
**         [+ OPTION...]...
**     mp BUCKET KEY FILE PART_SIZE [md5|bad-part=N|bad-whole]...
**     head BUCKET KEY
**
** put sends FILE with the checksums asked for (crc: its CRC-32C as known
** before sending, crc=bad: a wrong one; md5 likewise; trailer: asks for
** the CRC-32C while streaming; pipe: length unknown; parts: the length
** known, in parts streamed from the source, as blob_put sends objects over
** 5 GiB: only s3_parts_probe, this file built with the provider's sources
** and S3_PROBE_LINKED, which calls s3_put_unknown itself and ignores
** PLUGIN.so). Each "+" puts FILE once more, with the options after it,
** through the same handle (what the provider learns about a server lasts
** as long as its handle). mp uploads FILE as
** the host does: begin without checksums (the host knows the whole CRC only
** at the end), parts through multipart_part_checked, each with its CRC-32C
** (md5: and its MD5; bad-part=N: wrong ones for part N), a part whose
** failure is retryable sent once more, the whole object's CRC-32C at
** complete (bad-whole: a wrong one).
**
** stdout: "log LEVEL: MESSAGE" per plugin log line, "part N crc32c=HEX|-"
** or "part N failed[ (retryable)]: MESSAGE" per part of mp, then one line
**   rc=NAME size=N crc32c=HEX|- md5=HEX|- [retryable]
** per operation and on failure "error: MESSAGE". Exit 0 on success, 1
** when an operation failed, 2 on a usage or setup error.
*/
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_interface.h"
#include "sdk_util.h"
#ifdef S3_PROBE_LINKED
#include "s3.h"
extern const struct store_interface store_interface; /* s3.c */
#endif

typedef struct mem {
  const unsigned char *p;
  size_t len, off, stop;        /* stop: end of the current part          */
} mem;

static int32_t mem_read(void *ctx, void *buf, size_t cap, size_t *out_n)
{
  mem *m = ctx;
  size_t left = m->stop - m->off;

  *out_n = cap < left ? cap : left;
  memcpy(buf, m->p + m->off, *out_n);
  m->off += *out_n;
  return 0;
}

static void on_log(void *ctx, int32_t level, const char *msg)
{
  (void)ctx;
  printf("log %s: %s\n", level <= STORE_LOG_ERROR ? "error"
                         : level == STORE_LOG_WARN ? "warn"
                         : level == STORE_LOG_INFO ? "info" : "debug", msg);
}

static const store_host_api host = {
  .struct_size = sizeof(store_host_api),
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .log = on_log,
};

static int report(int32_t rc, uint64_t size, uint32_t checksums, uint32_t crc,
                  const uint8_t md5[16], const store_error *err)
{
  char hex[33] = "-";

  if (checksums & STORE_CKSUM_MD5)
    sdk_hex(md5, 16, hex);
  printf("rc=%s size=%" PRIu64 " crc32c=", rc ? store_strerror(rc) : "ok",
         size);
  if (checksums & STORE_CKSUM_CRC32C)
    printf("%08" PRIx32, crc);
  else
    printf("-");
  printf(" md5=%s%s\n", hex,
         rc && (err->flags & STORE_ERR_RETRYABLE) ? " retryable" : "");
  if (rc)
    printf("error: %s\n", err->message);
  return rc ? 1 : 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  unsigned char *p = NULL;
  long n;

  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) &&
      fread(p, 1, (size_t)n, f) == (size_t)n)
    *len = (size_t)n;
  else {
    free(p);
    p = NULL;
  }
  fclose(f);
  return p;
}

/* One put of m with the options a[0..n). */
static int put_one(const struct store_interface *t, store_handle *h,
                   char **names, mem m, char **a, int n, store_error *err)
{
  store_put_opts o;
  store_put_result r;
#ifdef S3_PROBE_LINKED
  int parts = 0;
#endif
  int32_t rc;

  memset(&o, 0, sizeof(o));
  memset(&r, 0, sizeof(r));
  o.struct_size = sizeof(o);
  r.struct_size = sizeof(r);
  o.content_length = (int64_t)m.len;
  for (int i = 0; i < n; i++) {
    if (!strncmp(a[i], "crc", 3)) {
      o.checksums |= STORE_CKSUM_CRC32C;
      o.crc32c = sdk_crc32c(0, m.p, m.len) ^ (strcmp(a[i], "crc=bad") ? 0 : 1);
    } else if (!strncmp(a[i], "md5", 3)) {
      o.checksums |= STORE_CKSUM_MD5;
      sdk_md5(m.p, m.len, o.md5);
      o.md5[0] ^= (uint8_t)(strcmp(a[i], "md5=bad") ? 0 : 1);
    } else if (!strcmp(a[i], "trailer")) {
      o.trailer_checksums |= STORE_CKSUM_CRC32C;
    } else if (!strcmp(a[i], "pipe")) {
      o.content_length = -1;
#ifdef S3_PROBE_LINKED
    } else if (!strcmp(a[i], "parts")) {
      parts = 1;
#endif
    } else {
      return fprintf(stderr, "unknown put option %s\n", a[i]), 2;
    }
  }
#ifdef S3_PROBE_LINKED
  if (parts)
    rc = s3_put_unknown(h, names[0], names[1], &o, mem_read, &m, &r, err);
  else
#endif
    rc = t->blob_put(h, names[0], names[1], &o, mem_read, &m, &r, err);
  return report(rc, r.size, r.checksums, r.crc32c, r.md5, err);
}

/* put BUCKET KEY FILE OPTION... [+ OPTION...]...: the worst status. */
static int put(const struct store_interface *t, store_handle *h, char **a,
               int n, store_error *err)
{
  mem m = {0};
  int status = 0, from = 3, one;

  m.p = slurp(a[2], &m.len);
  if (!m.p)
    return fprintf(stderr, "cannot read %s\n", a[2]), 2;
  m.stop = m.len;
  for (int i = 3; i <= n && status < 2; i++) {
    if (i < n && strcmp(a[i], "+"))
      continue;
    one = put_one(t, h, a, m, a + from, i - from, err);
    status = one > status ? one : status;
    from = i + 1;
  }
  free((void *)m.p);
  return status;
}

/* One part of m, [m->off, m->off + psz), with its checksums (wrong ones
 * with bad): multipart_part_checked, printing what it reported. */
static int32_t part(const struct store_interface *t, store_handle *h,
                    char **a, const char *id, mem *m, size_t psz,
                    uint32_t no, int md5, int bad, char *tok, size_t cap,
                    store_error *err)
{
  store_put_opts po;
  store_put_result pr;
  size_t start = m->off;
  int32_t rc;

  m->stop = m->off + psz < m->len ? m->off + psz : m->len;
  memset(&po, 0, sizeof(po));
  memset(&pr, 0, sizeof(pr));
  po.struct_size = sizeof(po);
  pr.struct_size = sizeof(pr);
  po.content_length = (int64_t)(m->stop - start);
  po.checksums = STORE_CKSUM_CRC32C | (md5 ? STORE_CKSUM_MD5 : 0);
  po.crc32c = sdk_crc32c(0, m->p + start, m->stop - start) ^ (bad ? 1u : 0u);
  if (md5) {
    sdk_md5(m->p + start, m->stop - start, po.md5);
    po.md5[0] ^= (uint8_t)(bad ? 1 : 0);
  }
  rc = t->multipart_part_checked(h, a[0], a[1], id, no, m->stop - start, &po,
                                 mem_read, m, tok, cap, &pr, err);
  if (!rc && (pr.checksums & STORE_CKSUM_CRC32C))
    printf("part %" PRIu32 " crc32c=%08" PRIx32 "\n", no, pr.crc32c);
  else if (!rc)
    printf("part %" PRIu32 " crc32c=-\n", no);
  else
    printf("part %" PRIu32 " failed%s: %s\n", no,
           (err->flags & STORE_ERR_RETRYABLE) ? " (retryable)" : "",
           err->message);
  if (rc)
    m->off = start;
  return rc;
}

static int multipart(const struct store_interface *t, store_handle *h,
                     char **a, int n, store_error *err)
{
  size_t psz = (size_t)strtoull(a[3], NULL, 10);
  char id[STORE_ID_SIZE], tok[64][STORE_ID_SIZE];
  const char *toks[64];
  store_put_opts o;
  store_put_result r;
  mem m = {0};
  uint32_t np = 0, bad_part = 0;
  int bad_whole = 0, md5 = 0;
  int32_t rc;

  m.p = slurp(a[2], &m.len);
  if (!m.p || !psz)
    return fprintf(stderr, "cannot read %s or bad part size\n", a[2]), 2;
  for (int i = 4; i < n; i++) {
    if (!strncmp(a[i], "bad-part=", 9))
      bad_part = (uint32_t)atoi(a[i] + 9);
    else if (!strcmp(a[i], "bad-whole"))
      bad_whole = 1;
    else if (!strcmp(a[i], "md5"))
      md5 = 1;
    else
      return fprintf(stderr, "unknown mp option %s\n", a[i]), 2;
  }
  memset(&o, 0, sizeof(o));
  memset(&r, 0, sizeof(r));
  o.struct_size = sizeof(o);
  r.struct_size = sizeof(r);
  rc = t->multipart_begin(h, a[0], a[1], &o, id, sizeof(id), err);
  while (!rc && m.off < m.len && np < 64) {
    rc = part(t, h, a, id, &m, psz, np + 1, md5, np + 1 == bad_part, tok[np],
              sizeof(tok[np]), err);
    if (rc && (err->flags & STORE_ERR_RETRYABLE))
      rc = part(t, h, a, id, &m, psz, np + 1, md5, np + 1 == bad_part,
                tok[np], sizeof(tok[np]), err);
    toks[np] = tok[np];
    np++;
  }
  if (!rc) {
    o.checksums = STORE_CKSUM_CRC32C;
    o.crc32c = sdk_crc32c(0, m.p, m.len) ^ (bad_whole ? 1u : 0u);
    rc = t->multipart_complete(h, a[0], a[1], id, &o, toks, np, &r, err);
  }
  if (rc && np) {
    store_error aerr;
    memset(&aerr, 0, sizeof(aerr));
    aerr.struct_size = sizeof(aerr);
    t->multipart_abort(h, a[0], a[1], id, &aerr);
  }
  free((void *)m.p);
  return report(rc, r.size, r.checksums, r.crc32c, r.md5, err);
}

typedef struct seen {
  store_entry e;
} seen;

static int32_t on_entry(void *ctx, const store_entry *e)
{
  seen *s = ctx;

  s->e.size = e->size;
  s->e.checksums = 0;
  if (store_entry_crc32c(e, &s->e.crc32c))
    s->e.checksums = STORE_CKSUM_CRC32C;
  return 0;
}

int main(int argc, char **argv)
{
  const struct store_interface *t;
  store_kv cfg[16];
  store_handle *h = NULL;
  store_error err;
  seen s;
#ifndef S3_PROBE_LINKED
  void *so;
#endif
  int nc = 0, i, status = 2;
  int32_t rc;

  if (argc < 4)
    return fprintf(stderr, "usage: s3_cksum_probe PLUGIN.so KEY=VALUE... "
                           "-- CMD ARGS...\n"), 2;
#ifdef S3_PROBE_LINKED
  t = &store_interface;
#else
  so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  t = so ? dlsym(so, "store_interface") : NULL;
  if (!t)
    return fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror()), 2;
#endif
  for (i = 2; i < argc && strcmp(argv[i], "--") && nc < 16; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq)
      return fprintf(stderr, "bad KEY=VALUE %s\n", argv[i]), 2;
    *eq = '\0';
    cfg[nc].key = argv[i];
    cfg[nc++].value = eq + 1;
  }
  if (++i >= argc)
    return fprintf(stderr, "no command\n"), 2;
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  rc = t->open(&host, cfg, (size_t)nc, &h, &err);
  if (rc)
    return fprintf(stderr, "open: %s\n", err.message), 2;
  argv += i;
  argc -= i;
  if (!strcmp(argv[0], "mb") && argc == 2) {
    rc = t->container_create(h, argv[1], NULL, 0, &err);
    status = rc && rc != STORE_E_EXISTS ? report(rc, 0, 0, 0, NULL, &err) : 0;
  } else if (!strcmp(argv[0], "put") && argc >= 4) {
    status = put(t, h, argv + 1, argc - 1, &err);
  } else if (!strcmp(argv[0], "mp") && argc >= 5) {
    status = multipart(t, h, argv + 1, argc - 1, &err);
  } else if (!strcmp(argv[0], "head") && argc == 3) {
    memset(&s, 0, sizeof(s));
    rc = t->blob_head(h, argv[1], argv[2], NULL, on_entry, &s, &err);
    status = report(rc, s.e.size, s.e.checksums, s.e.crc32c, NULL, &err);
  } else {
    fprintf(stderr, "bad command\n");
  }
  t->close(h);
  return status;
}
