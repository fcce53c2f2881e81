/*
** test_s3_unit.c -- the S3 provider's pieces that need no server: the AWS
** shared files as the SDK's INI reader reads them, the credential and
** region chain (config keys vs environment vs profiles, with a fake
** environment and temp files), the S3 XML error mapping and the object
** properties read from headers.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "s3.h"
#include "sdk_ini.h"

/* The plugin's table (s3.c is linked in). */
extern const struct store_interface store_interface;

/* ---- a fake environment --------------------------------------------- */
#define MAX_ENV 16
static struct {
  const char *name, *value;
} g_env[MAX_ENV];
static size_t g_nenv;
static char g_dir[256];

static const char *fake_env(const char *name)
{
  for (size_t i = 0; i < g_nenv; i++)
    if (!strcmp(g_env[i].name, name))
      return g_env[i].value;
  return NULL;
}

static void env_set(const char *name, const char *value)
{
  g_env[g_nenv].name = name;
  g_env[g_nenv++].value = value;
}

static void write_file(const char *name, const char *text)
{
  char path[512];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", g_dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *path_of(const char *name)
{
  static char buf[4][512];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof(buf[i]), "%s/%s", g_dir, name);
  return buf[i];
}

static int setup(void **state)
{
  (void)state;
  g_nenv = 0;
  snprintf(g_dir, sizeof(g_dir), "/tmp/xtstore-s3-unit.XXXXXX");
  assert_non_null(mkdtemp(g_dir));
  /* HOME points at an empty directory: no real ~/.aws leaks in */
  env_set("HOME", g_dir);
  return 0;
}

static int teardown(void **state)
{
  char cmd[600];
  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
  assert_int_equal(system(cmd), 0);
  return 0;
}

static store_error new_err(void)
{
  store_error e;
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  return e;
}

/* ---- the INI reader --------------------------------------------------- */
static void ini_reads_the_aws_format(void **state)
{
  sdk_ini *ini = NULL;
  (void)state;
  write_file("config",
             "# comment\n"
             "; another\n"
             "[default]\n"
             "region = eu-west-1  \r\n"
             "Output=json\n"
             "\n"
             "[profile   dev]\n"
             "region=us-west-2\n"
             "s3 =\n"
             "  addressing_style = path\n"
             "  max_concurrent_requests = 4\n"
             "aws_access_key_id = AKIDDEV\n"
             "[profile dev]\n"
             "region = ap-south-1\n"
             "stray line without equals\n"
             "[broken\n"
             "k = v\n");
  assert_int_equal(sdk_ini_load(path_of("config"), &ini), 0);
  assert_non_null(ini);
  assert_string_equal(sdk_ini_get(ini, "default", "region"), "eu-west-1");
  /* keys without regard to case, like botocore's configparser */
  assert_string_equal(sdk_ini_get(ini, "default", "output"), "json");
  assert_string_equal(sdk_ini_get(ini, "default", "OUTPUT"), "json");
  /* section names with runs of blanks made one; a repeated key: last */
  assert_string_equal(sdk_ini_get(ini, "profile dev", "region"), "ap-south-1");
  assert_string_equal(sdk_ini_get(ini, "profile dev", "s3.addressing_style"),
                      "path");
  assert_string_equal(sdk_ini_get(ini, "profile dev",
                                 "s3.max_concurrent_requests"), "4");
  /* a nested block ends at the next unindented key */
  assert_string_equal(sdk_ini_get(ini, "profile dev", "aws_access_key_id"),
                      "AKIDDEV");
  assert_null(sdk_ini_get(ini, "profile dev", "stray line without equals"));
  assert_null(sdk_ini_get(ini, "default", "k"));
  assert_null(sdk_ini_get(ini, "nosuch", "region"));
  assert_true(sdk_ini_has_section(ini, "default"));
  assert_false(sdk_ini_has_section(ini, "profile nosuch"));
  sdk_ini_free(ini);

  /* a missing file is no error: nothing there */
  ini = (sdk_ini *)1;
  assert_int_equal(sdk_ini_load(path_of("nosuch"), &ini), 0);
  assert_null(ini);
  assert_null(sdk_ini_get(NULL, "default", "region"));
}

/* ---- the credential chain --------------------------------------------- */
#define CREDS                                     \
  "[default]\n"                                   \
  "aws_access_key_id = AKIDFILEDEFAULT\n"         \
  "aws_secret_access_key = secret-file-default\n" \
  "[work]\n"                                      \
  "aws_access_key_id = AKIDFILEWORK\n"            \
  "aws_secret_access_key = secret-file-work\n"    \
  "aws_session_token = token-file-work\n"
#define CONFIG                                    \
  "[default]\n"                                   \
  "region = eu-north-1\n"                         \
  "[profile work]\n"                              \
  "region = ca-central-1\n"                       \
  "[profile onlyconfig]\n"                        \
  "aws_access_key_id = AKIDCONF\n"                \
  "aws_secret_access_key = secret-conf\n"         \
  "region = sa-east-1\n"

static int32_t resolve(const store_kv *kv, size_t n, s3_settings *s,
                       store_error *e)
{
  *e = new_err();
  return s3_settings_resolve(kv, n, fake_env, s, e);
}

static void use_files(void)
{
  write_file("credentials", CREDS);
  write_file("config", CONFIG);
  env_set("AWS_SHARED_CREDENTIALS_FILE", path_of("credentials"));
  env_set("AWS_CONFIG_FILE", path_of("config"));
}

static void chain_config_keys_win(void **state)
{
  store_kv kv[] = {{"access-key", "AKIDKEYS"},
                   {"secret-key", "secret-keys"},
                   {"session-token", "token-keys"},
                   {"region", "us-west-1"}};
  s3_settings s;
  store_error e;
  (void)state;
  use_files();
  env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_set("AWS_SECRET_ACCESS_KEY", "secret-env");
  env_set("AWS_REGION", "eu-south-1");
  assert_int_equal(resolve(kv, 4, &s, &e), STORE_OK);
  assert_string_equal(s.access_key, "AKIDKEYS");
  assert_string_equal(s.secret_key, "secret-keys");
  assert_string_equal(s.session_token, "token-keys");
  assert_string_equal(s.region, "us-west-1");
  assert_string_equal(s.endpoint, "https://s3.us-west-1.amazonaws.com");
  assert_non_null(strstr(s.cred_source, "config keys"));
  s3_settings_free(&s);
}

static void chain_profile_key_beats_env(void **state)
{
  store_kv kv[] = {{"profile", "work"}};
  s3_settings s;
  store_error e;
  (void)state;
  use_files();
  env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_set("AWS_SECRET_ACCESS_KEY", "secret-env");
  assert_int_equal(resolve(kv, 1, &s, &e), STORE_OK);
  assert_string_equal(s.access_key, "AKIDFILEWORK");
  assert_string_equal(s.secret_key, "secret-file-work");
  assert_string_equal(s.session_token, "token-file-work");
  /* region: the profile's, from the config file */
  assert_string_equal(s.region, "ca-central-1");
  assert_non_null(strstr(s.cred_source, "profile 'work'"));
  assert_null(strstr(s.cred_source, "secret"));
  s3_settings_free(&s);
}

static void chain_env_beats_files(void **state)
{
  s3_settings s;
  store_error e;
  (void)state;
  use_files();
  env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_set("AWS_SECRET_ACCESS_KEY", "secret-env");
  env_set("AWS_SESSION_TOKEN", "token-env");
  env_set("AWS_PROFILE", "work");
  env_set("AWS_DEFAULT_REGION", "af-south-1");
  assert_int_equal(resolve(NULL, 0, &s, &e), STORE_OK);
  assert_string_equal(s.access_key, "AKIDENV");
  assert_string_equal(s.secret_key, "secret-env");
  assert_string_equal(s.session_token, "token-env");
  assert_string_equal(s.region, "af-south-1");
  assert_non_null(strstr(s.cred_source, "environment"));
  s3_settings_free(&s);
}

static void chain_aws_profile_and_default(void **state)
{
  s3_settings s;
  store_error e;
  (void)state;
  use_files();
  env_set("AWS_PROFILE", "work");
  assert_int_equal(resolve(NULL, 0, &s, &e), STORE_OK);
  assert_string_equal(s.access_key, "AKIDFILEWORK");
  assert_string_equal(s.region, "ca-central-1");
  s3_settings_free(&s);

  /* without AWS_PROFILE: the default profile; region from [default] */
  g_nenv = 0;
  env_set("HOME", g_dir);
  use_files();
  assert_int_equal(resolve(NULL, 0, &s, &e), STORE_OK);
  assert_string_equal(s.access_key, "AKIDFILEDEFAULT");
  assert_null(s.session_token);
  assert_string_equal(s.region, "eu-north-1");
  s3_settings_free(&s);

  /* keys only in the config file's "profile NAME" section */
  env_set("AWS_PROFILE", "onlyconfig");
  assert_int_equal(resolve(NULL, 0, &s, &e), STORE_OK);
  assert_string_equal(s.access_key, "AKIDCONF");
  assert_string_equal(s.region, "sa-east-1");
  s3_settings_free(&s);
}

static void chain_home_files_and_region_default(void **state)
{
  char aws[600];
  s3_settings s;
  store_error e;
  (void)state;
  /* no *_FILE variables: ~/.aws/credentials under $HOME */
  snprintf(aws, sizeof(aws), "%s/.aws", g_dir);
  assert_int_equal(mkdir(aws, 0700), 0);
  write_file(".aws/credentials", "[default]\naws_access_key_id=AKIDHOME\n"
                                 "aws_secret_access_key=secret-home\n");
  assert_int_equal(resolve(NULL, 0, &s, &e), STORE_OK);
  assert_string_equal(s.access_key, "AKIDHOME");
  assert_string_equal(s.region, "us-east-1");
  assert_string_equal(s.endpoint, "https://s3.us-east-1.amazonaws.com");
  assert_int_equal(s.verify_tls, 1);
  assert_int_equal(s.addressing, S3_ADDR_AUTO);
  s3_settings_free(&s);
}

static void chain_errors_name_the_gap_not_the_secret(void **state)
{
  store_kv half[] = {{"secret-key", "TOPSECRET-value"}};
  store_kv missing[] = {{"profile", "nosuch"}};
  store_kv badbool[] = {{"access-key", "AK"}, {"secret-key", "TOPSECRET-value"},
                        {"verify-tls", "maybe"}};
  store_kv badaddr[] = {{"anonymous", "yes"}, {"addressing", "sideways"}};
  s3_settings s;
  store_error e;
  (void)state;
  use_files();
  assert_int_equal(resolve(half, 1, &s, &e), STORE_E_CONFIG);
  assert_non_null(strstr(e.message, "'secret-key' given without "
                                    "'access-key'"));
  assert_null(strstr(e.message, "TOPSECRET"));
  assert_int_equal(resolve(missing, 1, &s, &e), STORE_E_CONFIG);
  assert_non_null(strstr(e.message, "profile 'nosuch'"));
  assert_int_equal(resolve(badbool, 3, &s, &e), STORE_E_CONFIG);
  assert_non_null(strstr(e.message, "verify-tls"));
  assert_null(strstr(e.message, "TOPSECRET"));
  assert_int_equal(resolve(badaddr, 2, &s, &e), STORE_E_CONFIG);
  assert_non_null(strstr(e.message, "path|virtual"));

  env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
  assert_int_equal(resolve(NULL, 0, &s, &e), STORE_E_CONFIG);
  assert_non_null(strstr(e.message, "AWS_SECRET_ACCESS_KEY is set but") ||
                  strstr(e.message, "AWS_ACCESS_KEY_ID is set but"));
}

static void chain_nothing_or_anonymous(void **state)
{
  store_kv anon[] = {{"anonymous", "true"}, {"endpoint", "http://127.0.0.1:1"},
                     {"ca-bundle", "/my/ca.pem"}};
  s3_settings s;
  store_error e;
  (void)state;
  assert_int_equal(resolve(NULL, 0, &s, &e), STORE_E_CONFIG);
  assert_non_null(strstr(e.message, "no credentials"));
  assert_int_equal(resolve(anon, 3, &s, &e), STORE_OK);
  assert_int_equal(s.anonymous, 1);
  assert_null(s.access_key);
  assert_string_equal(s.endpoint, "http://127.0.0.1:1");
  assert_string_equal(s.ca_bundle, "/my/ca.pem");
  s3_settings_free(&s);
  /* AWS_CA_BUNDLE when the key is absent */
  env_set("AWS_CA_BUNDLE", "/env/ca.pem");
  assert_int_equal(resolve(anon, 2, &s, &e), STORE_OK);
  assert_string_equal(s.ca_bundle, "/env/ca.pem");
  s3_settings_free(&s);
}

/* ---- the XML error mapping -------------------------------------------- */
static store_handle g_h;
static char g_region[] = "us-east-1";

static sdk_response *response(long status, const char *body,
                              const char *hdr1, const char *val1)
{
  sdk_response *r = sdk_response_new(status);
  assert_non_null(r);
  if (hdr1)
    assert_int_equal(sdk_response_add_header(r, hdr1, val1), 0);
  if (body)
    assert_int_equal(sdk_response_append_body(r, body, strlen(body)), 0);
  return r;
}

static s3_call call(const char *op, const char *bucket, const char *key)
{
  s3_call c;
  memset(&c, 0, sizeof(c));
  g_h.cfg.region = g_region;
  c.h = &g_h;
  c.op = op;
  c.bucket = bucket;
  c.key = key;
  return c;
}

#define S3_ERROR(code, msg)                                     \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" code \
  "</Code><Message>" msg "</Message><RequestId>XMLRID</RequestId></Error>"

static void errors_map_codes(void **state)
{
  static const struct {
    long status;
    const char *code;
    int32_t want;
    int retry;
  } t[] = {
    {404, "NoSuchKey", STORE_E_NOT_FOUND, 0},
    {404, "NoSuchBucket", STORE_E_NOT_FOUND, 0},
    {404, "NoSuchUpload", STORE_E_NOT_FOUND, 0},
    {409, "BucketAlreadyOwnedByYou", STORE_E_EXISTS, 0},
    {409, "BucketAlreadyExists", STORE_E_EXISTS, 0},
    {409, "BucketNotEmpty", STORE_E_NOT_EMPTY, 0},
    {403, "AccessDenied", STORE_E_PERMISSION, 0},
    {403, "InvalidAccessKeyId", STORE_E_AUTH, 0},
    {403, "SignatureDoesNotMatch", STORE_E_AUTH, 0},
    {403, "RequestTimeTooSkewed", STORE_E_AUTH, 1},
    {412, "PreconditionFailed", STORE_E_PRECONDITION, 0},
    {503, "SlowDown", STORE_E_THROTTLED, 1},
    {500, "InternalError", STORE_E_SERVER, 1},
    {400, "RequestTimeout", STORE_E_TIMEOUT, 1},
    {400, "InvalidPart", STORE_E_NOT_FOUND, 0},
    {405, "MethodNotAllowed", STORE_E_UNSUPPORTED, 0},
    {400, "SomethingNew", STORE_E_INVALID, 0},   /* by status */
    {502, "SomethingNew", STORE_E_SERVER, 1},    /* by status */
  };
  (void)state;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    char body[512];
    snprintf(body, sizeof(body), "<Error><Code>%s</Code><Message>m</Message>"
             "</Error>", t[i].code);
    sdk_response *r = response(t[i].status, body, NULL, NULL);
    s3_call c = call("GetObject", "b", "k");
    store_error e = new_err();
    int32_t rc = s3_fail(&c, r, &e);
    if (rc != t[i].want || e.code != t[i].want ||
        !!(e.flags & STORE_ERR_RETRYABLE) != t[i].retry)
      fail_msg("%s (HTTP %ld): got %d flags %u, want %d retry %d", t[i].code,
               t[i].status, rc, e.flags, t[i].want, t[i].retry);
    assert_string_equal(e.provider_code, t[i].code);
    assert_int_equal(e.http_status, t[i].status);
    sdk_response_free(r);
  }
}

static void errors_message_names_op_bucket_key(void **state)
{
  sdk_response *r = response(404, S3_ERROR("NoSuchKey", "The specified key "
                                                        "does not exist."),
                             "x-amz-request-id", "HDRRID");
  s3_call c = call("GetObject", "bucket", "dir/key.txt");
  store_error e = new_err();
  (void)state;
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_NOT_FOUND);
  assert_string_equal(e.message, "s3: GetObject 'bucket/dir/key.txt': "
                                 "NoSuchKey: The specified key does not "
                                 "exist. (request id HDRRID)");
  assert_string_equal(e.request_id, "HDRRID");
  sdk_response_free(r);

  /* no header: the body's RequestId */
  r = response(404, S3_ERROR("NoSuchBucket", "The specified bucket does not "
                                             "exist"), NULL, NULL);
  c = call("ListObjectsV2", "nob", NULL);
  e = new_err();
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_NOT_FOUND);
  assert_string_equal(e.message, "s3: ListObjectsV2 'nob': NoSuchBucket: The "
                                 "specified bucket does not exist (request "
                                 "id XMLRID)");
  assert_string_equal(e.request_id, "XMLRID");
  sdk_response_free(r);

  /* HEAD: no body, mapped by status */
  r = response(404, NULL, "x-amz-request-id", "R1");
  c = call("HeadObject", "b", "k");
  e = new_err();
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_NOT_FOUND);
  assert_string_equal(e.message, "s3: HeadObject 'b/k': NotFound (HTTP 404) "
                                 "(request id R1)");
  sdk_response_free(r);
  r = response(403, NULL, NULL, NULL);
  e = new_err();
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_PERMISSION);
  sdk_response_free(r);

  /* a very long key is truncated, never overflowed */
  char key[1100];
  memset(key, 'k', sizeof(key) - 1);
  key[sizeof(key) - 1] = '\0';
  r = response(404, S3_ERROR("NoSuchKey", "x"), NULL, NULL);
  c = call("GetObject", "b", key);
  e = new_err();
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_NOT_FOUND);
  assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
  sdk_response_free(r);
}

static void errors_throttling_keeps_retry_after(void **state)
{
  sdk_response *r = response(503, S3_ERROR("SlowDown", "Please reduce your "
                                                       "request rate."),
                             "Retry-After", "3");
  s3_call c = call("PutObject", "b", "k");
  store_error e = new_err();
  (void)state;
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_THROTTLED);
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  assert_int_equal(e.retry_after_ms, 3000);
  sdk_response_free(r);
}

static void errors_wrong_region_names_it(void **state)
{
  sdk_response *r = response(301, NULL, "x-amz-bucket-region", "eu-west-3");
  s3_call c = call("HeadBucket", "far", NULL);
  store_error e = new_err();
  (void)state;
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_CONFIG);
  assert_non_null(strstr(e.message, "region 'eu-west-3'"));
  assert_non_null(strstr(e.message, "set region: eu-west-3"));
  assert_false(e.flags & STORE_ERR_RETRYABLE);
  sdk_response_free(r);

  r = response(400, "<Error><Code>AuthorizationHeaderMalformed</Code>"
                    "<Message>the region 'us-east-1' is wrong; expecting "
                    "'ap-northeast-2'</Message><Region>ap-northeast-2</Region>"
                    "</Error>", NULL, NULL);
  c = call("GetObject", "far", "k");
  e = new_err();
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_CONFIG);
  assert_non_null(strstr(e.message, "set region: ap-northeast-2"));
  sdk_response_free(r);
}

static void errors_inside_a_200(void **state)
{
  sdk_response *r = response(200, S3_ERROR("InternalError", "We "
                                                            "encountered an "
                                                            "internal error."),
                             NULL, NULL);
  s3_call c = call("CopyObject", "b", "k");
  store_error e = new_err();
  sdk_xml_node *root = NULL;
  (void)state;
  assert_int_equal(s3_fail_xml(&c, r, &e, &root), STORE_E_SERVER);
  assert_null(root);
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  assert_non_null(strstr(e.message, "InternalError"));
  sdk_response_free(r);

  r = response(200, "<CopyObjectResult><ETag>\"x\"</ETag></CopyObjectResult>",
               NULL, NULL);
  e = new_err();
  assert_int_equal(s3_fail_xml(&c, r, &e, &root), STORE_OK);
  assert_string_equal(sdk_xml_child_text(root, "ETag"), "\"x\"");
  sdk_xml_free(root);
  sdk_response_free(r);

  r = response(200, "<not xml", NULL, NULL);
  e = new_err();
  assert_int_equal(s3_fail_xml(&c, r, &e, &root), STORE_E_INTERNAL);
  assert_non_null(strstr(e.message, "s3: CopyObject 'b/k': unexpected reply"));
  sdk_response_free(r);
}

static void checks_refuse_what_headers_cannot_carry(void **state)
{
  store_kv bad_name[] = {{"has space", "v"}};
  store_kv bad_value[] = {{"k", "caf\xc3\xa9"}};
  store_kv ok[] = {{"owner", "me"}, {"x.y-z_1", "a b ~!"}};
  store_error e = new_err();
  (void)state;
  assert_int_equal(s3_check_meta("put", NULL, bad_name, 1, &e),
                   STORE_E_INVALID);
  assert_int_equal(s3_check_meta("put", NULL, bad_value, 1, &e),
                   STORE_E_INVALID);
  assert_int_equal(s3_check_meta("put", "text/plain\r\nX: y", NULL, 0, &e),
                   STORE_E_INVALID);
  assert_int_equal(s3_check_meta("put", "text/plain", ok, 2, &e), STORE_OK);
  assert_int_equal(s3_check_names("a/b", "k", &e), STORE_E_INVALID);
  assert_int_equal(s3_check_names("", "k", &e), STORE_E_INVALID);
  assert_int_equal(s3_check_names("b", "", &e), STORE_E_INVALID);
  assert_int_equal(s3_check_names("b", "k", &e), STORE_OK);
}

/* ---- properties from headers ------------------------------------------ */
static void props_from_headers(void **state)
{
  sdk_response *r = response(206, NULL, "Content-Range", "bytes 10-19/1000");
  s3_props p;
  store_error e = new_err();
  (void)state;
  assert_int_equal(sdk_response_add_header(r, "Content-Length", "10"), 0);
  assert_int_equal(sdk_response_add_header(r, "ETag", "\"abc\""), 0);
  assert_int_equal(sdk_response_add_header(r, "Content-Type", "text/plain"), 0);
  assert_int_equal(sdk_response_add_header(r, "Last-Modified",
                                           "Sun, 22 Nov 2026 00:50:55 GMT"), 0);
  assert_int_equal(sdk_response_add_header(r, "x-amz-meta-owner", "me"), 0);
  assert_int_equal(sdk_response_add_header(r, "X-Amz-Meta-Color", "blue"), 0);
  assert_int_equal(sdk_response_add_header(r, "x-amz-version-id", "null"), 0);
  assert_int_equal(s3_props_from_headers(r, "k", &p, &e), STORE_OK);
  assert_int_equal(p.e.size, 1000); /* the object, not the range */
  assert_string_equal(p.e.etag, "\"abc\"");
  assert_string_equal(p.e.content_type, "text/plain");
  assert_int_equal(p.e.mtime_ns, INT64_C(1795308655) * 1000000000);
  assert_int_equal(p.nmd, 2);
  assert_string_equal(p.md[0].key, "owner");
  assert_string_equal(p.md[0].value, "me");
  assert_string_equal(p.md[1].key, "Color");
  assert_false(s3_version_is_real(p.version_id));
  assert_true(s3_version_is_real("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"));
  s3_props_free(&p);
  sdk_response_free(r);
}

/* ---- checksums (s3_checksum.c) ---------------------------------------- */
static void checksums_reported_full_object_only(void **state)
{
  sdk_response *r = response(200, NULL, "x-amz-checksum-crc32c", "4waSgw==");
  store_put_result out;
  s3_props p;
  store_error e = new_err();
  uint32_t crc = 0;
  (void)state;
  assert_int_equal(sdk_response_add_header(
                     r, "ETag", "\"25f9e794323b453885f5181f1b624d0b\""), 0);
  memset(&out, 0, sizeof(out));
  out.struct_size = sizeof(out);
  s3_result_checksums(r, 1, &out);
  assert_int_equal(out.checksums, STORE_CKSUM_CRC32C | STORE_CKSUM_MD5);
  assert_int_equal(out.crc32c, 0xe3069283);
  assert_int_equal(out.md5[0], 0x25);
  assert_int_equal(out.md5[15], 0x0b);
  assert_int_equal(s3_props_from_headers(r, "k", &p, &e), STORE_OK);
  assert_true(store_entry_crc32c(&p.e, &crc));
  assert_int_equal(crc, 0xe3069283);
  s3_props_free(&p);
  sdk_response_free(r);
  /* a checksum of the parts' checksums is none of the object's */
  r = response(200, NULL, "x-amz-checksum-crc32c", "4waSgw==-3");
  assert_int_not_equal(s3_resp_crc32c(r, &crc), 0);
  sdk_response_free(r);
  r = response(200, NULL, "x-amz-checksum-crc32c", "4waSgw==");
  assert_int_equal(sdk_response_add_header(r, "x-amz-checksum-type",
                                           "COMPOSITE"), 0);
  assert_int_not_equal(s3_resp_crc32c(r, &crc), 0);
  sdk_response_free(r);
  /* a 1.0 result struct is left alone */
  r = response(200, NULL, "x-amz-checksum-crc32c", "4waSgw==");
  memset(&out, 0xee, sizeof(out));
  out.struct_size = (uint32_t)offsetof(store_put_result, checksums);
  s3_result_checksums(r, 1, &out);
  assert_int_equal(out.checksums, 0xeeeeeeee);
  sdk_response_free(r);
}

static void checksums_mismatch_is_retryable_io(void **state)
{
  static const char *const bodies[] = {
    S3_ERROR("BadDigest", "The CRC32C you specified did not match the "
                          "calculated checksum."),
    S3_ERROR("XAmzContentChecksumMismatch", "The provided 'x-amz-checksum' "
                                            "header does not match."),
    S3_ERROR("InvalidRequest", "The CRC32C you specified did not match the "
                               "calculated checksum."),
  };
  /* InvalidRequest about a checksum but not about the body: the upload's
   * declared type (AWS, parts of an upload begun without one), a header
   * the server cannot take, or anything else. Sending the same body again
   * cannot help: not retryable, not called a mismatch. */
  static const char *const others[] = {
    S3_ERROR("InvalidRequest", "Checksum Type mismatch occurred, expected "
                               "checksum Type: null, actual checksum Type: "
                               "crc32c"),
    S3_ERROR("InvalidRequest", "Value for x-amz-checksum-crc32c header is "
                               "invalid."),
    S3_ERROR("InvalidRequest", "Bad part"),
  };
  s3_call c = call("PutObject", "b", "k");
  (void)state;
  for (size_t i = 0; i < 3; i++) {
    sdk_response *r = response(400, bodies[i], NULL, NULL);
    store_error e = new_err();
    assert_int_equal(s3_fail(&c, r, &e), STORE_E_IO);
    assert_true(e.flags & STORE_ERR_RETRYABLE);
    assert_non_null(strstr(e.message, "s3: PutObject 'b/k': the server "
                                      "refused the body, its checksum does "
                                      "not match"));
    sdk_response_free(r);
  }
  for (size_t i = 0; i < 3; i++) {
    sdk_response *r = response(400, others[i], NULL, NULL);
    store_error e = new_err();
    assert_int_equal(s3_fail(&c, r, &e), STORE_E_INVALID);
    assert_false(e.flags & STORE_ERR_RETRYABLE);
    assert_null(strstr(e.message, "refused the body"));
    sdk_response_free(r);
  }
}

/* What the plugin logs, for the tests that look at it. */
static char g_log[1024];
static int g_nlog;

static void on_log(void *ctx, int32_t level, const char *msg)
{
  (void)ctx;
  (void)level;
  snprintf(g_log, sizeof(g_log), "%s", msg);
  g_nlog++;
}

static const store_host_api g_host = {
  .struct_size = sizeof(store_host_api),
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .log = on_log,
};

static int has_control(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 1;
  return 0;
}

static void checksums_refused_headers_fall_back(void **state)
{
  static const char *const refusals[] = {
    S3_ERROR("InvalidRequest", "Checksum Type mismatch occurred, expected "
                               "checksum Type: null, actual checksum Type: "
                               "crc32c"),
    S3_ERROR("InvalidRequest", "Value for x-amz-checksum-crc32c header is "
                               "invalid."),
    S3_ERROR("InvalidArgument", "x-amz-checksum-crc32c: unknown header"),
  };
  static const char *const not_refusals[] = {
    S3_ERROR("InvalidArgument", "The checksum did not match"),
    S3_ERROR("InvalidRequest", "The CRC32C you specified did not match the "
                               "calculated checksum."),
    S3_ERROR("BadDigest", "The checksum header is not what we computed"),
    S3_ERROR("InvalidRequest", "Part number must be an integer"),
  };
  s3_call c = call("PutObject", "b", "k");
  sdk_response *r;
  (void)state;
  atomic_store(&g_h.cksum_off, 0);
  c.method = "PUT";
  c.cksum_sent = 1;
  for (size_t i = 0; i < 4; i++) {
    r = response(400, not_refusals[i], NULL, NULL);
    assert_false(s3_cksum_refused(&c, r));
    sdk_response_free(r);
  }
  assert_int_equal(atomic_load(&g_h.cksum_off), 0);
  for (size_t i = 0; i < 3; i++) {
    r = response(400, refusals[i], NULL, NULL);
    atomic_store(&g_h.cksum_off, 0);
    if (!s3_cksum_refused(&c, r))
      fail_msg("not taken for a refusal: %s", refusals[i]);
    assert_int_equal(atomic_load(&g_h.cksum_off), 1);
    sdk_response_free(r);
  }
  /* nor is a refusal of a request that carried none */
  r = response(501, S3_ERROR("NotImplemented", "x-amz-checksum-crc32c is "
                                               "not supported"), NULL, NULL);
  atomic_store(&g_h.cksum_off, 0);
  c.cksum_sent = 0;
  assert_false(s3_cksum_refused(&c, r));
  assert_int_equal(atomic_load(&g_h.cksum_off), 0);
  c.cksum_sent = 1;
  assert_true(s3_cksum_refused(&c, r));
  assert_int_equal(atomic_load(&g_h.cksum_off), 1);
  sdk_response_free(r);
  atomic_store(&g_h.cksum_off, 0);
}

/* The fallback's warning quotes the server, said once, on one line
 * without its control bytes. */
static void checksums_fallback_warning_is_clean(void **state)
{
  s3_call c = call("PutObject", "b", "k");
  char name[] = "svc";
  sdk_response *r = response(501, S3_ERROR("NotImplemented", "x-amz-checksum"
                                           "-crc32c\nfake: line\t\x7f[31m"),
                             NULL, NULL);
  (void)state;
  g_h.host = &g_host;
  g_h.cfg.name = name;
  g_nlog = 0;
  atomic_store(&g_h.cksum_off, 0);
  c.method = "PUT";
  c.cksum_sent = 1;
  assert_true(s3_cksum_refused(&c, r));
  assert_true(s3_cksum_refused(&c, r));
  assert_int_equal(g_nlog, 1);
  assert_non_null(strstr(g_log, "x-amz-checksum-crc32c?fake: line??[31m"));
  assert_false(has_control(g_log));
  sdk_response_free(r);
  g_h.host = NULL;
  g_h.cfg.name = NULL;
  atomic_store(&g_h.cksum_off, 0);
}

/* An error's message and request id quote the server: cleaned too. */
static void errors_server_text_is_clean(void **state)
{
  sdk_response *r = response(403, "<Error><Code>AccessDenied</Code><Message>"
                             "no\nway\x7f</Message><RequestId>R\tID"
                             "</RequestId></Error>", NULL, NULL);
  s3_call c = call("GetObject", "b", "k");
  store_error e = new_err();
  (void)state;
  assert_int_equal(s3_fail(&c, r, &e), STORE_E_PERMISSION);
  assert_non_null(strstr(e.message, "AccessDenied: no?way? (request id "
                                    "R?ID)"));
  assert_false(has_control(e.message));
  assert_string_equal(e.request_id, "R?ID");
  sdk_response_free(r);
}

/* A HEAD with x-amz-checksum-mode refused without a body goes once more
 * without it; only a 501 that then turns into a 2xx stops the header for
 * the handle (a 403 belongs to the object: SSE-KMS). */
static void checksums_head_mode_refusal(void **state)
{
  s3_call c = call("HeadObject", "b", "k");
  sdk_response *r403 = response(403, NULL, NULL, NULL);
  sdk_response *r501 = response(501, NULL, NULL, NULL);
  sdk_response *r404 = response(404, NULL, NULL, NULL);
  sdk_response *ok = response(200, NULL, NULL, NULL);
  (void)state;
  atomic_store(&g_h.cksum_off, 0);
  c.method = "HEAD";
  c.cksum_sent = 1;
  assert_int_equal(s3_cksum_mode_suspect(&c, r403), 403);
  assert_int_equal(s3_cksum_mode_suspect(&c, r501), 501);
  assert_int_equal(s3_cksum_mode_suspect(&c, r404), 0);
  c.cksum_sent = 0;
  assert_int_equal(s3_cksum_mode_suspect(&c, r403), 0);
  c.cksum_sent = 1;
  c.method = "GET";
  assert_int_equal(s3_cksum_mode_suspect(&c, r403), 0);
  s3_cksum_mode_settle(&c, 403, ok);
  assert_int_equal(atomic_load(&g_h.cksum_off), 0);
  s3_cksum_mode_settle(&c, 501, r501);
  assert_int_equal(atomic_load(&g_h.cksum_off), 0);
  s3_cksum_mode_settle(&c, 501, ok);
  assert_int_equal(atomic_load(&g_h.cksum_off), 1);
  atomic_store(&g_h.cksum_off, 0);
  sdk_response_free(r403);
  sdk_response_free(r501);
  sdk_response_free(r404);
  sdk_response_free(ok);
}

static void checksums_ride_in_part_tokens(void **state)
{
  char tok[STORE_ID_SIZE];
  const char *crc;
  (void)state;
  assert_int_equal(s3_token_make("\"abc\"", 1, 0xe3069283, tok, sizeof(tok)),
                   STORE_OK);
  assert_string_equal(tok, "\"abc\";crc32c=4waSgw==");
  assert_int_equal(s3_token_split(tok, &crc), 5);
  assert_string_equal(crc, "4waSgw==");
  assert_int_equal(s3_token_make("\"abc\"", 0, 0, tok, sizeof(tok)),
                   STORE_OK);
  assert_string_equal(tok, "\"abc\"");
  assert_int_equal(s3_token_split(tok, &crc), 5);
  assert_null(crc);
  assert_int_equal(s3_token_make("\"abc\"", 1, 1, tok, 10),
                   STORE_E_INTERNAL);
}

/* ---- URLs and addressing (through the plugin's own open) --------------- */
static store_handle *open_with(const char *endpoint, const char *addressing,
                               int32_t want)
{
  store_kv kv[] = {{"endpoint", endpoint}, {"access-key", "AKID"},
                   {"secret-key", "SECRET"}, {"addressing", addressing}};
  store_handle *h = NULL;
  store_error e = new_err();
  int32_t rc = store_interface.open(NULL, kv, addressing ? 4 : 3, &h, &e);
  if (rc != want)
    fail_msg("open %s (%s): %d %s", endpoint, addressing ? addressing : "-",
             rc, e.message);
  if (rc)
    assert_null(h);
  return h;
}

static void expect_url(store_handle *h, const char *bucket, const char *key,
                       const char *want)
{
  s3_call c;
  store_error e = new_err();
  assert_int_equal(s3_call_init(&c, h, "GetObject", "GET", bucket, key, &e),
                   STORE_OK);
  assert_string_equal(sdk_request_url(c.req), want);
  s3_call_free(&c);
}

/* payload-signing: streaming asks for aws-chunked bodies; auto and
 * unsigned do not. */
static void payload_signing_sets_the_body_mode(void **state)
{
  static const struct {
    const char *value;
    int want;
  } t[] = {{"streaming", S3_BODY_CHUNKED}, {"auto", S3_BODY_UNSIGNED},
           {"unsigned", S3_BODY_UNSIGNED}};
  (void)state;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    store_kv kv[] = {{"endpoint", "http://127.0.0.1:9000"},
                     {"access-key", "AKID"}, {"secret-key", "SECRET"},
                     {"payload-signing", t[i].value}};
    store_handle *h = NULL;
    store_error e = new_err();
    assert_int_equal(store_interface.open(NULL, kv, 4, &h, &e), STORE_OK);
    assert_int_equal(atomic_load(&h->body), t[i].want);
    store_interface.close(h);
  }
}

static void urls_follow_the_addressing(void **state)
{
  store_handle *h;
  (void)state;
  /* auto on a non-AWS endpoint: path style; the base path is kept */
  h = open_with("http://127.0.0.1:9000/base/", NULL, STORE_OK);
  assert_false(h->virtual_hosting);
  /* auto: UNSIGNED-PAYLOAD, on http too (checked by MD5 there) */
  assert_int_equal(atomic_load(&h->body), S3_BODY_UNSIGNED);
  expect_url(h, "bkt", "a b/c+d%e?.txt",
             "http://127.0.0.1:9000/base/bkt/a%20b/c%2Bd%25e%3F.txt");
  expect_url(h, "bkt", NULL, "http://127.0.0.1:9000/base/bkt");
  expect_url(h, NULL, NULL, "http://127.0.0.1:9000/base/");
  store_interface.close(h);

  /* auto on AWS: virtual hosting, except for names that cannot be a host */
  h = open_with("https://s3.eu-west-1.amazonaws.com", "auto", STORE_OK);
  assert_true(h->virtual_hosting);
  assert_int_equal(atomic_load(&h->body), S3_BODY_UNSIGNED); /* https */
  expect_url(h, "bkt", "dir/k", "https://bkt.s3.eu-west-1.amazonaws.com/dir/k");
  expect_url(h, "my.dotted.bucket", "k",
             "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k");
  expect_url(h, NULL, NULL, "https://s3.eu-west-1.amazonaws.com/");
  store_interface.close(h);

  h = open_with("https://s3.eu-west-1.amazonaws.com", "path", STORE_OK);
  expect_url(h, "bkt", "k", "https://s3.eu-west-1.amazonaws.com/bkt/k");
  store_interface.close(h);
  h = open_with("http://minio.local:9000", "virtual", STORE_OK);
  expect_url(h, "bkt", "k", "http://bkt.minio.local:9000/k");
  store_interface.close(h);

  /* endpoints that are not a base URL */
  open_with("ftp://host", NULL, STORE_E_CONFIG);
  open_with("http://user:pw@host", NULL, STORE_E_CONFIG);
  open_with("http://host/?x=1", NULL, STORE_E_CONFIG);
  open_with("host:9000", NULL, STORE_E_CONFIG);
}

/* Bucket names no S3 accepts are refused before any request; a new
 * bucket's name follows today's rules, an existing one may be older. */
static void bucket_names_are_checked(void **state)
{
  static const char *const bad[] = {"", "..", ".", "a..b", "a/b", "a b",
                                    "a?b", "a%2Fb", "a\x1b", NULL};
  static const char *const old_ok[] = {"My_Old.Bucket", "abc", "a-b.c",
                                       NULL};
  static const char *const new_bad[] = {"ab", "My_Old.Bucket", "-abc",
                                        "abc-", "192.168.1.2", "xn--abc",
                                        "abc-s3alias", NULL};
  store_error err;
  size_t i;

  (void)state;
  for (i = 0; bad[i]; i++) {
    memset(&err, 0, sizeof(err));
    err.struct_size = sizeof(err);
    assert_int_equal(s3_check_names(bad[i], NULL, &err), STORE_E_INVALID);
    assert_non_null(strstr(err.message, "s3: bucket name"));
  }
  for (i = 0; old_ok[i]; i++)
    assert_int_equal(s3_check_names(old_ok[i], NULL, NULL), STORE_OK);
  for (i = 0; new_bad[i]; i++)
    assert_int_equal(s3_check_new_bucket(new_bad[i], NULL), STORE_E_INVALID);
  assert_int_equal(s3_check_new_bucket("xts3-faults-1234", NULL), STORE_OK);
  assert_int_equal(s3_check_new_bucket("a.b-c", NULL), STORE_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(ini_reads_the_aws_format, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(chain_config_keys_win, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_profile_key_beats_env, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(chain_env_beats_files, setup, teardown),
    cmocka_unit_test_setup_teardown(chain_aws_profile_and_default, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(chain_home_files_and_region_default,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(chain_errors_name_the_gap_not_the_secret,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(chain_nothing_or_anonymous, setup,
                                    teardown),
    cmocka_unit_test(errors_map_codes),
    cmocka_unit_test(errors_message_names_op_bucket_key),
    cmocka_unit_test(errors_throttling_keeps_retry_after),
    cmocka_unit_test(errors_wrong_region_names_it),
    cmocka_unit_test(errors_inside_a_200),
    cmocka_unit_test(checks_refuse_what_headers_cannot_carry),
    cmocka_unit_test(props_from_headers),
    cmocka_unit_test(checksums_reported_full_object_only),
    cmocka_unit_test(checksums_mismatch_is_retryable_io),
    cmocka_unit_test(checksums_refused_headers_fall_back),
    cmocka_unit_test(checksums_fallback_warning_is_clean),
    cmocka_unit_test(errors_server_text_is_clean),
    cmocka_unit_test(checksums_head_mode_refusal),
    cmocka_unit_test(checksums_ride_in_part_tokens),
    cmocka_unit_test(urls_follow_the_addressing),
    cmocka_unit_test(payload_signing_sets_the_body_mode),
    cmocka_unit_test(bucket_names_are_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
