/*
** unit_main.c -- sdk/unit: every group of SDK unit tests (no network).
*/
#include "unit.h"

int main(void)
{
  int failed = 0;

  failed += unit_buf();
  failed += unit_digest();
  failed += unit_time();
  failed += unit_xml();
  failed += unit_error();
  failed += unit_request();
  failed += unit_ini();
  failed += unit_body();
  failed += unit_range();
  failed += unit_meta();
  failed += unit_list();
  failed += unit_http();
  failed += unit_rsa();
  failed += unit_parallel();
  return failed ? 1 : 0;
}
