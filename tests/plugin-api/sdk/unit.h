/*
** unit.h -- the groups of the sdk/unit program; each returns the number
** of failed tests (cmocka_run_group_tests).
*/
#ifndef SDK_TEST_UNIT_H
#define SDK_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

int unit_buf(void);
int unit_digest(void);
int unit_time(void);
int unit_xml(void);
int unit_error(void);
int unit_request(void);
int unit_ini(void);
int unit_body(void);
int unit_range(void);
int unit_meta(void);
int unit_list(void);
int unit_http(void);
int unit_rsa(void);
int unit_parallel(void);

/* A zeroed store_error as the host passes it. */
#define UNIT_ERR(e) \
  do { memset(&(e), 0, sizeof(e)); (e).struct_size = sizeof(e); } while (0)

#endif
