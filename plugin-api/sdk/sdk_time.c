/*
** sdk_time.c -- parse and format the timestamps storage services use:
** ISO 8601 / RFC 3339 in listings, HTTP dates in headers, and the compact
** forms AWS signing wants. Always UTC; never the C locale's names, so a
** host that calls setlocale() cannot change what goes on the wire.
*/
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sdk_util.h"

#define NS_PER_S INT64_C(1000000000)

static const char *const wk_short[7] = {"Sun", "Mon", "Tue", "Wed",
                                        "Thu", "Fri", "Sat"};
static const char *const wk_long[7] = {"Sunday",   "Monday", "Tuesday",
                                       "Wednesday", "Thursday", "Friday",
                                       "Saturday"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};

/* ---- scanning: each helper advances *p only on success ----------------- */

static int take(const char **p, char c)
{
  if (**p != c)
    return -1;
  (*p)++;
  return 0;
}

static int take_str(const char **p, const char *s)
{
  size_t n = strlen(s);

  if (strncmp(*p, s, n))
    return -1;
  *p += n;
  return 0;
}

/* Exactly n decimal digits. */
static int digits(const char **p, int n, int *out)
{
  const char *q = *p;
  int v = 0, i;

  for (i = 0; i < n; i++, q++) {
    if (*q < '0' || *q > '9')
      return -1;
    v = v * 10 + (*q - '0');
  }
  *p = q;
  *out = v;
  return 0;
}

/* One or two digits (days in HTTP dates are sometimes not zero-padded). */
static int digits12(const char **p, int *out)
{
  if (digits(p, 2, out) == 0)
    return 0;
  return digits(p, 1, out);
}

static int month_name(const char **p, int *out)
{
  int i;

  for (i = 0; i < 12; i++)
    if (take_str(p, months[i]) == 0) {
      *out = i + 1;
      return 0;
    }
  return -1;
}

static int weekday_name(const char **p)
{
  int i;

  /* Long names first: "Sun" is a prefix of "Sunday". */
  for (i = 0; i < 7; i++)
    if (take_str(p, wk_long[i]) == 0)
      return 0;
  for (i = 0; i < 7; i++)
    if (take_str(p, wk_short[i]) == 0)
      return 0;
  return -1;
}

/* "HH:MM:SS" */
static int clock_time(const char **p, int *h, int *mi, int *s)
{
  if (digits(p, 2, h) || take(p, ':') || digits(p, 2, mi) || take(p, ':') ||
      digits(p, 2, s))
    return -1;
  return 0;
}

static int leap(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Seconds since the epoch for a UTC civil time, or -1 when a field is out
 * of range. Second 60 (a leap second) is accepted and rolls over. */
static int civil_to_unix(int y, int mo, int d, int h, int mi, int s,
                         time_t *out)
{
  static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
  struct tm tm;

  if (mo < 1 || mo > 12 || d < 1 ||
      d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 || s > 60)
    return -1;
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  *out = timegm(&tm);
  return 0;
}

/* Seconds plus a nanosecond fraction, or UNKNOWN outside int64 ns (years
 * before 1677 or after 2262). */
static int64_t to_ns(time_t t, int64_t frac_ns)
{
  if (t > INT64_MAX / NS_PER_S - 1 || t < INT64_MIN / NS_PER_S + 1)
    return STORE_MTIME_UNKNOWN;
  return (int64_t)t * NS_PER_S + frac_ns;
}

/* ---- parsers ------------------------------------------------------------ */

/*
** YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm), 'T' and 'Z' in either case.
** Digits of the fraction beyond nanoseconds are ignored. A time without a
** zone is ambiguous and rejected.
*/
int64_t sdk_time_parse_iso8601(const char *s)
{
  const char *p = s;
  int y, mo, d, h, mi, sec, oh, om, sign = 0, i;
  int64_t frac = 0, scale = NS_PER_S / 10;
  time_t t;

  if (!s || digits(&p, 4, &y) || take(&p, '-') || digits(&p, 2, &mo) ||
      take(&p, '-') || digits(&p, 2, &d) ||
      (take(&p, 'T') && take(&p, 't')) || clock_time(&p, &h, &mi, &sec))
    return STORE_MTIME_UNKNOWN;
  if (take(&p, '.') == 0) {
    if (*p < '0' || *p > '9')
      return STORE_MTIME_UNKNOWN;
    for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
      frac += (*p - '0') * scale;
  }
  if (take(&p, 'Z') == 0 || take(&p, 'z') == 0) {
    oh = om = 0;
  } else {
    if (take(&p, '+') == 0)
      sign = 1;
    else if (take(&p, '-') == 0)
      sign = -1;
    if (!sign || digits(&p, 2, &oh) || take(&p, ':') || digits(&p, 2, &om) ||
        oh > 23 || om > 59)
      return STORE_MTIME_UNKNOWN;
  }
  if (*p || civil_to_unix(y, mo, d, h, mi, sec, &t))
    return STORE_MTIME_UNKNOWN;
  i = sign * (oh * 3600 + om * 60);
  return to_ns(t - i, frac);
}

/*
** The three forms RFC 9110 section 5.6.7 says a recipient must accept:
**   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
**   RFC 850      Sunday, 06-Nov-94 08:49:37 GMT
**   asctime      Sun Nov  6 08:49:37 1994
*/
int64_t sdk_time_parse_http(const char *s)
{
  const char *p = s;
  int y, mo, d, h, mi, sec;
  time_t t;

  if (!s || weekday_name(&p))
    return STORE_MTIME_UNKNOWN;
  if (take(&p, ',') == 0) {
    if (take(&p, ' ') || digits12(&p, &d))
      return STORE_MTIME_UNKNOWN;
    if (take(&p, ' ') == 0) {
      if (month_name(&p, &mo) || take(&p, ' ') || digits(&p, 4, &y))
        return STORE_MTIME_UNKNOWN;
    } else {
      if (take(&p, '-') || month_name(&p, &mo) || take(&p, '-') ||
          digits(&p, 2, &y))
        return STORE_MTIME_UNKNOWN;
      /* Two-digit years: RFC 9110 says to read them as the most recent
       * past year ending so; for timestamps servers send, 70..99 is the
       * 1900s and the rest this century. */
      y += y >= 70 ? 1900 : 2000;
    }
    if (take(&p, ' ') || clock_time(&p, &h, &mi, &sec) ||
        take_str(&p, " GMT"))
      return STORE_MTIME_UNKNOWN;
  } else {
    if (take(&p, ' ') || month_name(&p, &mo) || take(&p, ' '))
      return STORE_MTIME_UNKNOWN;
    if (take(&p, ' ') == 0 ? digits(&p, 1, &d) : digits(&p, 2, &d))
      return STORE_MTIME_UNKNOWN;
    if (take(&p, ' ') || clock_time(&p, &h, &mi, &sec) || take(&p, ' ') ||
        digits(&p, 4, &y))
      return STORE_MTIME_UNKNOWN;
  }
  if (*p || civil_to_unix(y, mo, d, h, mi, sec, &t))
    return STORE_MTIME_UNKNOWN;
  return to_ns(t, 0);
}

/* ---- formatters --------------------------------------------------------- */

/* Broken-down UTC time, or -1 when t has no four-digit year (the fixed
 * output sizes leave no room for more). */
static int utc(time_t t, struct tm *tm)
{
  if (!gmtime_r(&t, tm) || tm->tm_year < -1900 || tm->tm_year > 9999 - 1900)
    return -1;
  return 0;
}

/* v as exactly `width` decimal digits (v is in range by construction). */
static char *put_num(char *p, int v, int width)
{
  int i;

  for (i = width - 1; i >= 0; i--, v /= 10)
    p[i] = (char)('0' + v % 10);
  return p + width;
}

static char *put_str(char *p, const char *s)
{
  size_t n = strlen(s);

  memcpy(p, s, n);
  return p + n;
}

/* "YYYYMMDD" or "YYYY-MM-DD" */
static char *put_date(char *p, const struct tm *tm, const char *sep)
{
  p = put_num(p, tm->tm_year + 1900, 4);
  p = put_str(p, sep);
  p = put_num(p, tm->tm_mon + 1, 2);
  p = put_str(p, sep);
  return put_num(p, tm->tm_mday, 2);
}

/* "HHMMSS" or "HH:MM:SS" */
static char *put_clock(char *p, const struct tm *tm, const char *sep)
{
  p = put_num(p, tm->tm_hour, 2);
  p = put_str(p, sep);
  p = put_num(p, tm->tm_min, 2);
  p = put_str(p, sep);
  return put_num(p, tm->tm_sec, 2);
}

/* Each formatter writes "" when t is out of range. */
void sdk_time_format_amz(time_t t, char out[17])
{
  struct tm tm;
  char *p = out;

  if (utc(t, &tm) == 0) {
    p = put_date(p, &tm, "");
    p = put_str(p, "T");
    p = put_clock(p, &tm, "");
    p = put_str(p, "Z");
  }
  *p = '\0';
}

void sdk_time_format_ymd(time_t t, char out[9])
{
  struct tm tm;
  char *p = out;

  if (utc(t, &tm) == 0)
    p = put_date(p, &tm, "");
  *p = '\0';
}

void sdk_time_format_http(time_t t, char out[30])
{
  struct tm tm;
  char *p = out;

  if (utc(t, &tm) == 0) {
    p = put_str(p, wk_short[tm.tm_wday]);
    p = put_str(p, ", ");
    p = put_num(p, tm.tm_mday, 2);
    p = put_str(p, " ");
    p = put_str(p, months[tm.tm_mon]);
    p = put_str(p, " ");
    p = put_num(p, tm.tm_year + 1900, 4);
    p = put_str(p, " ");
    p = put_clock(p, &tm, ":");
    p = put_str(p, " GMT");
  }
  *p = '\0';
}

void sdk_time_format_iso8601(time_t t, char out[21])
{
  struct tm tm;
  char *p = out;

  if (utc(t, &tm) == 0) {
    p = put_date(p, &tm, "-");
    p = put_str(p, "T");
    p = put_clock(p, &tm, ":");
    p = put_str(p, "Z");
  }
  *p = '\0';
}
