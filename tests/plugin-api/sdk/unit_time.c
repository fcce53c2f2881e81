/*
** unit_time.c -- ISO 8601 and HTTP date parsing (fractions, offsets,
** garbage) and the formatters, with round trips.
*/
#include <string.h>

#include "unit.h"
#include "sdk_util.h"

#define S(x) ((int64_t)(x) * INT64_C(1000000000))

static void test_iso8601_valid(void **state)
{
  (void)state;
  assert_true(sdk_time_parse_iso8601("1970-01-01T00:00:00Z") == 0);
  assert_true(sdk_time_parse_iso8601("2009-10-12T17:50:30.000Z") ==
              S(1255369830));
  assert_true(sdk_time_parse_iso8601("2009-10-12T17:50:30Z") == S(1255369830));
  assert_true(sdk_time_parse_iso8601("2009-10-12t17:50:30z") == S(1255369830));
  /* Fractions: any number of digits; beyond ns they are dropped. */
  assert_true(sdk_time_parse_iso8601("2009-10-12T17:50:30.5Z") ==
              S(1255369830) + 500000000);
  assert_true(sdk_time_parse_iso8601("2009-10-12T17:50:30.123Z") ==
              S(1255369830) + 123000000);
  assert_true(sdk_time_parse_iso8601("2009-10-12T17:50:30.1234567Z") ==
              S(1255369830) + 123456700);
  assert_true(sdk_time_parse_iso8601("2009-10-12T17:50:30.123456789987Z") ==
              S(1255369830) + 123456789);
  /* Offsets: local time minus the offset is UTC. */
  assert_true(sdk_time_parse_iso8601("2009-10-12T19:50:30+02:00") ==
              S(1255369830));
  assert_true(sdk_time_parse_iso8601("2009-10-12T12:20:30.25-05:30") ==
              S(1255369830) + 250000000);
  assert_true(sdk_time_parse_iso8601("2009-10-12T17:50:30+00:00") ==
              S(1255369830));
  /* Before the epoch, and a leap day. */
  assert_true(sdk_time_parse_iso8601("1969-12-31T23:59:59.5Z") == -500000000);
  assert_true(sdk_time_parse_iso8601("2024-02-29T00:00:00Z") == S(1709164800));
  assert_true(sdk_time_parse_iso8601("2000-02-29T00:00:00Z") == S(951782400));
}

static void test_iso8601_garbage(void **state)
{
  static const char *const bad[] = {
    "", "garbage", "2009-10-12", "2009-10-12T17:50:30", /* no zone */
    "2009-10-12 17:50:30Z", "2009-1-12T17:50:30Z", "2009-10-12T17:50Z",
    "2009-13-12T17:50:30Z", "2009-00-12T17:50:30Z", "2009-10-32T17:50:30Z",
    "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2009-10-12T24:00:00Z",
    "2009-10-12T17:60:30Z", "2009-10-12T17:50:61Z", "2009-10-12T17:50:30.Z",
    "2009-10-12T17:50:30ZZ", "2009-10-12T17:50:30Z ", " 2009-10-12T17:50:30Z",
    "2009-10-12T17:50:30+0200", "2009-10-12T17:50:30+2:00",
    "2009-10-12T17:50:30+24:00", "2009-10-12T17:50:30.5.5Z",
    "9999-12-31T23:59:59Z", /* beyond int64 nanoseconds */
    "1600-01-01T00:00:00Z",
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_true(sdk_time_parse_iso8601(bad[i]) == STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_iso8601(NULL) == STORE_MTIME_UNKNOWN);
}

static void test_http_date(void **state)
{
  (void)state;
  /* RFC 9110's three forms of the same instant. */
  assert_true(sdk_time_parse_http("Sun, 06 Nov 1994 08:49:37 GMT") ==
              S(784111777));
  assert_true(sdk_time_parse_http("Sunday, 06-Nov-94 08:49:37 GMT") ==
              S(784111777));
  assert_true(sdk_time_parse_http("Sun Nov  6 08:49:37 1994") == S(784111777));
  assert_true(sdk_time_parse_http("Wed, 09 Sep 2009 09:20:02 GMT") ==
              S(1252488002));
  assert_true(sdk_time_parse_http("Thu, 1 Jan 1970 00:00:00 GMT") == 0);

  assert_true(sdk_time_parse_http("") == STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_http(NULL) == STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_http("yesterday") == STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_http("Sun, 06 Nov 1994 08:49:37") ==
              STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_http("Sun, 06 Nov 1994 08:49:37 GMT+1") ==
              STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_http("Sun, 06 Foo 1994 08:49:37 GMT") ==
              STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_http("Sun, 31 Nov 1994 08:49:37 GMT") ==
              STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_http("Xyz, 06 Nov 1994 08:49:37 GMT") ==
              STORE_MTIME_UNKNOWN);
  assert_true(sdk_time_parse_http("1994-11-06T08:49:37Z") ==
              STORE_MTIME_UNKNOWN);
}

static void test_format(void **state)
{
  char amz[17], ymd[9], http[30], iso[21];
  time_t t = 1440938160; /* 2015-08-30T12:36:00Z, a Sunday */

  (void)state;
  sdk_time_format_amz(t, amz);
  sdk_time_format_ymd(t, ymd);
  sdk_time_format_http(t, http);
  sdk_time_format_iso8601(t, iso);
  assert_string_equal(amz, "20150830T123600Z");
  assert_string_equal(ymd, "20150830");
  assert_string_equal(http, "Sun, 30 Aug 2015 12:36:00 GMT");
  assert_string_equal(iso, "2015-08-30T12:36:00Z");
  assert_int_equal(strlen(http), 29);

  /* A year that does not fit the fixed sizes gives "". */
  sdk_time_format_http((time_t)400000000000LL, http);
  sdk_time_format_iso8601((time_t)400000000000LL, iso);
  assert_string_equal(http, "");
  assert_string_equal(iso, "");
}

static void test_round_trips(void **state)
{
  static const time_t ts[] = {0, 1, -1, 951782400, 1255369830, 1440938160,
                              2147483647, 4102444800LL, 946684799};
  char http[30], iso[21];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
    sdk_time_format_http(ts[i], http);
    sdk_time_format_iso8601(ts[i], iso);
    assert_true(sdk_time_parse_http(http) == S(ts[i]));
    assert_true(sdk_time_parse_iso8601(iso) == S(ts[i]));
  }
}

int unit_time(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_iso8601_valid),
    cmocka_unit_test(test_iso8601_garbage),
    cmocka_unit_test(test_http_date),
    cmocka_unit_test(test_format),
    cmocka_unit_test(test_round_trips),
  };

  return cmocka_run_group_tests_name("sdk times", tests, NULL, NULL);
}
