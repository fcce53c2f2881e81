/*
** conformance.c -- the xtstore conformance suite: one behaviour suite that
** every storage service (every provider plugin) must pass. Installed as
** bin/xtstore-conformance; `xtstore plugins test FILE.so` runs it.
**
**   xtstore-conformance --config FILE --service NAME [--container-prefix P]
**                       [--large-mib N] [--skip CASE[,CASE...][:REASON]]...
**                       [--filter PATTERN] [--list]
**
** Environment equivalents: XTSTORE_CONF_CONFIG, XTSTORE_CONF_SERVICE,
** XTSTORE_CONF_CONTAINER_PREFIX, XTSTORE_CONF_LARGE_MIB, XTSTORE_CONF_SKIP
** (same syntax as --skip; several specs separated by ';').
**
** Each case runs in its own new container, "<prefix>-<random>-<n>", that
** teardown deletes recursively; a service without STORE_CAP_CONTAINERS is
** refused (exit 2). A case needing a capability the service lacks is
** skipped, printing which one.
*/
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"

xtstore_ctx *g_ctx;
xtstore_svc *g_svc;
uint64_t g_caps;
const store_limits *g_limits;
const char *g_run_prefix;
uint64_t g_large_mib = 256;

#define C(bit) STORE_CAP_##bit
static const conf_case k_cases[] = {
  {"containers_lifecycle", containers_lifecycle, C(CONTAINERS)},
  {"containers_empty_delete", containers_empty_delete, C(CONTAINERS)},
  {"containers_metadata", containers_metadata, C(CONTAINERS) | C(CONTAINER_METADATA)},
  {"blobs_small_text", blobs_small_text, 0},
  {"blobs_zero_length", blobs_zero_length, 0},
  {"blobs_special_keys", blobs_special_keys, 0},
  {"blobs_overwrite", blobs_overwrite, 0},
  {"blobs_not_found", blobs_not_found, 0},
  {"blobs_delete_many", blobs_delete_many, 0},
  {"blobs_missing_container", blobs_missing_container, 0},
  {"blobs_content_type", blobs_content_type, C(CONTENT_TYPE)},
  {"blobs_metadata", blobs_metadata, C(METADATA)},
  {"blobs_set_metadata", blobs_set_metadata, C(METADATA)},
  {"blobs_if_none_match", blobs_if_none_match, C(CONDITIONAL)},
  {"blobs_if_match", blobs_if_match, C(CONDITIONAL)},
  {"blobs_delete_if_match", blobs_delete_if_match, C(DELETE_IF_MATCH)},
  {"blobs_range_get", blobs_range_get, C(RANGE_GET)},
  {"blobs_unknown_length", blobs_unknown_length, 0},
  {"blobs_put_abort", blobs_put_abort, 0},
  {"blobs_get_abort", blobs_get_abort, 0},
  {"listing_recursive", listing_recursive, 0},
  {"listing_delimiter", listing_delimiter, 0},
  {"listing_root_delimiter", listing_root_delimiter, 0},
  {"listing_start_after", listing_start_after, 0},
  {"listing_pages", listing_pages, 0},
  {"listing_pages_delimiter", listing_pages_delimiter, 0},
  {"listing_entries", listing_entries, 0},
  {"listing_stop", listing_stop, 0},
  {"append_basic", append_basic, C(APPEND)},
  {"snapshot_basic", snapshot_basic, C(SNAPSHOT)},
  {"snapshot_delete_base", snapshot_delete_base, C(SNAPSHOT)},
  {"snapshot_of_current_deleted", snapshot_of_current_deleted, C(SNAPSHOT)},
  {"copy_same_service", copy_same_service, CONF_NEEDS_COPY},
  {"copy_replace_metadata", copy_replace_metadata, CONF_NEEDS_COPY},
  {"copy_missing_source", copy_missing_source, CONF_NEEDS_COPY},
  {"multipart_complete", multipart_complete_case, C(MULTIPART)},
  {"multipart_abort", multipart_abort_case, C(MULTIPART)},
  {"multipart_list", multipart_list_case, C(MULTIPART)},
  {"multipart_bad_token", multipart_bad_token, C(MULTIPART)},
  {"multipart_delete_if_match", multipart_delete_if_match,
   C(MULTIPART) | C(DELETE_IF_MATCH)},
  {"multipart_if_none_match", multipart_if_none_match,
   C(MULTIPART) | C(CONDITIONAL)},
  {"large_streaming", large_streaming, 0},
  {"concurrency_threads", concurrency_threads, C(THREADSAFE)},
  {"integrity_put", integrity_put, 0},
  {"integrity_multipart", integrity_multipart, C(MULTIPART)},
  {"integrity_copy", integrity_copy, C(COPY)},
  {"presign_url", presign_url, C(PRESIGN)},
};
#undef C
#define NCASES (sizeof k_cases / sizeof k_cases[0])

static const struct {
  uint64_t bit;
  const char *name;
} k_cap_names[] = {
  {STORE_CAP_CONTAINERS, "STORE_CAP_CONTAINERS"},
  {STORE_CAP_RANGE_GET, "STORE_CAP_RANGE_GET"},
  {STORE_CAP_METADATA, "STORE_CAP_METADATA"},
  {STORE_CAP_APPEND, "STORE_CAP_APPEND"},
  {STORE_CAP_SNAPSHOT, "STORE_CAP_SNAPSHOT"},
  {STORE_CAP_COPY, "STORE_CAP_COPY"},
  {STORE_CAP_MULTIPART, "STORE_CAP_MULTIPART"},
  {STORE_CAP_CONDITIONAL, "STORE_CAP_CONDITIONAL"},
  {STORE_CAP_THREADSAFE, "STORE_CAP_THREADSAFE"},
  {STORE_CAP_CONTENT_TYPE, "STORE_CAP_CONTENT_TYPE"},
  {STORE_CAP_DIR_MARKERS, "STORE_CAP_DIR_MARKERS"},
  {STORE_CAP_CONTAINER_METADATA, "STORE_CAP_CONTAINER_METADATA"},
  {STORE_CAP_PRESIGN, "STORE_CAP_PRESIGN"},
  {STORE_CAP_DELETE_IF_MATCH, "STORE_CAP_DELETE_IF_MATCH"},
};

/* --skip entries */
typedef struct skip_spec {
  char *name;
  char *reason;
} skip_spec;
static skip_spec *g_skips;
static size_t g_nskips;

static const conf_case *find_case(const char *name)
{
  for (size_t i = 0; i < NCASES; i++)
    if (strcmp(k_cases[i].name, name) == 0)
      return &k_cases[i];
  return NULL;
}

/* "CASE[,CASE...][:REASON]" */
static int add_skip_spec(const char *spec)
{
  char *dup = strdup(spec);
  if (!dup)
    return -1;
  char *colon = strchr(dup, ':');
  const char *reason = "no reason given";
  if (colon) {
    *colon = 0;
    if (colon[1])
      reason = colon + 1;
  }
  for (char *save = NULL, *tok = strtok_r(dup, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ')
      tok++;
    if (!*tok)
      continue;
    if (!find_case(tok)) {
      fprintf(stderr, "conformance: --skip: unknown case '%s' (see --list)\n",
              tok);
      free(dup);
      return -1;
    }
    skip_spec *n = realloc(g_skips, (g_nskips + 1) * sizeof *n);
    if (!n) {
      free(dup);
      return -1;
    }
    g_skips = n;
    g_skips[g_nskips].name = strdup(tok);
    g_skips[g_nskips].reason = strdup(reason);
    g_nskips++;
  }
  free(dup);
  return 0;
}

static const char *skip_reason(const char *name)
{
  for (size_t i = 0; i < g_nskips; i++)
    if (strcmp(g_skips[i].name, name) == 0)
      return g_skips[i].reason;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Per-case fixture                                                         */
/* ------------------------------------------------------------------------ */
static int case_setup(void **state)
{
  const conf_case *def = *state;
  tcase *t = calloc(1, sizeof *t);
  if (!t)
    return -1;
  t->def = def;
  *state = t;
  return 0;
}

static void run_case(void **state)
{
  tcase *t = *state;
  const char *why = skip_reason(t->def->name);
  if (why)
    conf_skip(t, "%s (--skip)", why);
  for (size_t i = 0; i < sizeof k_cap_names / sizeof k_cap_names[0]; i++)
    if ((t->def->caps & k_cap_names[i].bit) && !(g_caps & k_cap_names[i].bit))
      conf_skip(t, "service lacks %s", k_cap_names[i].name);
  if ((t->def->caps & CONF_NEEDS_COPY) &&
      !(g_caps & (STORE_CAP_COPY | STORE_CAP_THREADSAFE)))
    conf_skip(t, "service lacks STORE_CAP_COPY and STORE_CAP_THREADSAFE (a "
                 "copy within a service needs one of them)");
  conf_container_name(t->c, sizeof t->c, NULL);
  int rc = xtstore_container_create(g_svc, t->c, NULL, 0, ERR(t));
  EXPECT_OK(t, rc, "create the case's container '%s'", t->c);
  t->created = 1;
  t->def->fn(t);
}

static int drop_container(tcase *t, const char *name)
{
  store_error err;
  memset(&err, 0, sizeof err);
  err.struct_size = sizeof err;
  int rc = xtstore_container_delete(g_svc, name,
                                    STORE_CONTAINER_DELETE_RECURSIVE, &err);
  if (rc == STORE_OK || rc == STORE_E_NOT_FOUND)
    return 0;
  print_error("[%s] teardown: delete container '%s' recursively: %s (%s)\n",
              t->def->name, name, code_name(rc), err.message);
  return -1;
}

static int case_teardown(void **state)
{
  tcase *t = *state;
  int bad = 0;
  if (!t)
    return 0;
  for (int i = t->nextra - 1; i >= 0; i--)
    bad |= drop_container(t, t->extra[i]);
  if (t->created)
    bad |= drop_container(t, t->c);
  conf_free_arena(t);
  free(t);
  *state = NULL;
  return bad ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */
static void usage(FILE *f)
{
  fprintf(f,
    "usage: xtstore-conformance --config FILE --service NAME [options]\n"
    "  --config FILE           xt_config.yaml naming the service (env\n"
    "                          XTSTORE_CONF_CONFIG); no other layer is read\n"
    "  --service NAME          external-services entry to test\n"
    "                          (env XTSTORE_CONF_SERVICE)\n"
    "  --container-prefix P    container name prefix, [a-z0-9-], default\n"
    "                          'xtconf' (env XTSTORE_CONF_CONTAINER_PREFIX)\n"
    "  --large-mib N           size of the large streaming case, default 256\n"
    "                          (env XTSTORE_CONF_LARGE_MIB)\n"
    "  --skip CASE[,CASE][:REASON]  skip cases, printing REASON; repeatable\n"
    "                          (env XTSTORE_CONF_SKIP, specs split by ';')\n"
    "  --filter PATTERN        run only cases matching (cmocka pattern)\n"
    "  --list                  list the cases and the capabilities they need\n");
}

static int prefix_ok(const char *p)
{
  size_t n = strlen(p);
  if (n < 1 || n > 40)
    return 0;
  if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= '0' && p[0] <= '9')))
    return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = p[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
      return 0;
    if (ch == '-' && (i + 1 == n || p[i + 1] == '-'))
      return 0;
  }
  return 1;
}

static void random_hex(char *out, size_t nhex)
{
  unsigned char b[16] = {0};
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t got = fd >= 0 ? read(fd, b, sizeof b) : -1;
  if (fd >= 0)
    close(fd);
  if (got != (ssize_t)sizeof b) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
                 (uint64_t)ts.tv_sec;
    memcpy(b, &x, sizeof x);
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < nhex; i++)
    out[i] = hex[(b[i / 2] >> ((i % 2) * 4)) & 15];
  out[nhex] = 0;
}

static void print_caps(void)
{
  printf("# capabilities:");
  for (size_t i = 0; i < sizeof k_cap_names / sizeof k_cap_names[0]; i++)
    if (g_caps & k_cap_names[i].bit)
      printf(" %s", k_cap_names[i].name + strlen("STORE_CAP_"));
  printf("\n# limits: min_part_size=%llu max_part_size=%llu max_parts=%u "
         "list_page_size=%u equal_parts_required=%u\n",
         (unsigned long long)g_limits->min_part_size,
         (unsigned long long)g_limits->max_part_size, g_limits->max_parts,
         g_limits->list_page_size, g_limits->equal_parts_required);
}

static int32_t leftover_cb(void *ud, const store_entry *e)
{
  int *n = ud;
  if (e->name && strncmp(e->name, g_run_prefix, strlen(g_run_prefix)) == 0) {
    fprintf(stderr, "conformance: leftover container '%s'\n", e->name);
    (*n)++;
  }
  return 0;
}

int main(int argc, char **argv)
{
  const char *config = getenv("XTSTORE_CONF_CONFIG");
  const char *service = getenv("XTSTORE_CONF_SERVICE");
  const char *prefix = getenv("XTSTORE_CONF_CONTAINER_PREFIX");
  const char *large = getenv("XTSTORE_CONF_LARGE_MIB");
  const char *env_skip = getenv("XTSTORE_CONF_SKIP");
  int list_only = 0;

  if (env_skip && *env_skip) {
    char *d = strdup(env_skip);
    for (char *save = NULL, *s = strtok_r(d, ";", &save); s;
         s = strtok_r(NULL, ";", &save))
      if (add_skip_spec(s) != 0)
        return 2;
    free(d);
  }

  static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"service", required_argument, NULL, 's'},
    {"container-prefix", required_argument, NULL, 'p'},
    {"large-mib", required_argument, NULL, 'L'},
    {"skip", required_argument, NULL, 'k'},
    {"filter", required_argument, NULL, 'f'},
    {"list", no_argument, NULL, 'l'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int ch;
  while ((ch = getopt_long(argc, argv, "c:s:p:L:k:f:lh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'c': config = optarg; break;
    case 's': service = optarg; break;
    case 'p': prefix = optarg; break;
    case 'L': large = optarg; break;
    case 'k':
      if (add_skip_spec(optarg) != 0)
        return 2;
      break;
    case 'f': cmocka_set_test_filter(optarg); break;
    case 'l': list_only = 1; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "conformance: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
  }
  if (list_only) {
    for (size_t i = 0; i < NCASES; i++) {
      printf("%-26s", k_cases[i].name);
      for (size_t j = 0; j < sizeof k_cap_names / sizeof k_cap_names[0]; j++)
        if (k_cases[i].caps & k_cap_names[j].bit)
          printf(" %s", k_cap_names[j].name);
      if (k_cases[i].caps & CONF_NEEDS_COPY)
        printf(" STORE_CAP_COPY|STORE_CAP_THREADSAFE");
      printf("\n");
    }
    return 0;
  }
  if (!config || !*config || !service || !*service) {
    fprintf(stderr, "conformance: --config and --service are required\n");
    usage(stderr);
    return 2;
  }
  if (!prefix || !*prefix)
    prefix = "xtconf";
  if (!prefix_ok(prefix)) {
    fprintf(stderr, "conformance: --container-prefix '%s': use 1-40 of "
                    "[a-z0-9-], starting with a letter or digit, no '--', "
                    "no trailing '-'\n", prefix);
    return 2;
  }
  if (large && *large) {
    char *end = NULL;
    unsigned long long v = strtoull(large, &end, 10);
    if (!end || *end || v == 0 || v > 65536) {
      fprintf(stderr, "conformance: --large-mib '%s': expected 1..65536\n",
              large);
      return 2;
    }
    g_large_mib = v;
  }

  static char run_prefix[64];
  char rnd[9];
  random_hex(rnd, 8);
  snprintf(run_prefix, sizeof run_prefix, "%s-%s", prefix, rnd);
  g_run_prefix = run_prefix;

  xtstore_ctx_opts co;
  memset(&co, 0, sizeof co);
  co.struct_size = sizeof co;
  co.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
             XTSTORE_CTX_NO_CWD_CONFIG;
  co.config_path = config;
  co.log_level = STORE_LOG_WARN;
  store_error err;
  memset(&err, 0, sizeof err);
  err.struct_size = sizeof err;
  int rc = xtstore_ctx_open(&co, &g_ctx, &err);
  if (rc != STORE_OK) {
    fprintf(stderr, "conformance: open config '%s': %s: %s\n", config,
            code_name(rc), err.message);
    return 2;
  }
  memset(&err, 0, sizeof err);
  err.struct_size = sizeof err;
  rc = xtstore_service_open(g_ctx, service, &g_svc, &err);
  if (rc != STORE_OK) {
    fprintf(stderr, "conformance: open service '%s': %s: %s\n", service,
            code_name(rc), err.message);
    xtstore_ctx_close(g_ctx);
    return 2;
  }
  g_caps = xtstore_service_caps(g_svc);
  /* A run that skips every case would pass any plugin: refuse it. */
  if (!(g_caps & STORE_CAP_CONTAINERS)) {
    fprintf(stderr, "conformance: service '%s' lacks STORE_CAP_CONTAINERS: "
                    "every case runs in a container of its own, so none "
                    "can run\n", service);
    xtstore_ctx_close(g_ctx);
    return 2;
  }
  g_limits = xtstore_service_limits(g_svc);
  static const store_limits zero_limits;
  if (!g_limits)
    g_limits = &zero_limits;

  printf("# xtstore %s conformance: service '%s', config '%s', containers "
         "'%s-*', large %llu MiB\n",
         xtstore_version(), xtstore_service_name(g_svc), config, g_run_prefix,
         (unsigned long long)g_large_mib);
  print_caps();
  for (size_t i = 0; i < g_nskips; i++)
    printf("# --skip %s: %s\n", g_skips[i].name, g_skips[i].reason);
  fflush(stdout);

  struct CMUnitTest tests[NCASES];
  for (size_t i = 0; i < NCASES; i++) {
    memset(&tests[i], 0, sizeof tests[i]);
    tests[i].name = k_cases[i].name;
    tests[i].test_func = run_case;
    tests[i].setup_func = case_setup;
    tests[i].teardown_func = case_teardown;
    tests[i].initial_state = (void *)&k_cases[i];
  }
  int failed = _cmocka_run_group_tests("conformance", tests, NCASES, NULL, NULL);

  /* Anything of this run still there is a failure to clean up after. */
  int left = 0;
  if (g_caps & STORE_CAP_CONTAINERS) {
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    xtstore_container_list(g_svc, g_run_prefix, leftover_cb, &left, &err);
    if (left) {
      fprintf(stderr, "conformance: %d container(s) of this run were left "
                      "behind\n", left);
      failed++;
    }
  }

  xtstore_ctx_close(g_ctx);
  for (size_t i = 0; i < g_nskips; i++) {
    free(g_skips[i].name);
    free(g_skips[i].reason);
  }
  free(g_skips);
  return failed ? 1 : 0;
}
