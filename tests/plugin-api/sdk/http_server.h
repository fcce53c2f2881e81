/*
** http_server.h -- start and stop scripted_server.py for sdk/http.
*/
#ifndef SDK_TEST_HTTP_SERVER_H
#define SDK_TEST_HTTP_SERVER_H

#include <sys/types.h>

typedef struct test_server {
  pid_t pid;      /* 0 when not running */
  int port;
  int stdin_fd;   /* closing it makes the server exit */
} test_server;

/* Spawn the server and read its port. 0, or -1 (nothing left running). */
int test_server_start(test_server *s);
/* The same over HTTPS, with this certificate chain and key (PEM files). */
int test_server_start_tls(test_server *s, const char *cert, const char *key);
/* Stop it by pid and reap it. Safe to call twice. */
void test_server_stop(test_server *s);

#endif
