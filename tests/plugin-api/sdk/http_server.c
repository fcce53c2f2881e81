/*
** http_server.c -- run scripted_server.py as a child: posix_spawn with a
** pipe on stdout (the port comes first) and one on stdin (if this process
** dies, the server sees EOF and exits by itself); plain HTTP or, with a
** certificate and key, HTTPS.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_server.h"

extern char **environ;

/* Read the first line (the port), waiting at most 20 s. */
static int read_port(int fd)
{
  char line[32];
  size_t n = 0;
  char *end;
  long port;

  while (n < sizeof(line) - 1) {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r;

    if (poll(&p, 1, 20000) <= 0)
      return -1;
    r = read(fd, line + n, 1);
    if (r <= 0)
      return -1;
    if (line[n] == '\n')
      break;
    n++;
  }
  line[n] = '\0';
  errno = 0;
  port = strtol(line, &end, 10);
  if (errno || end == line || *end || port <= 0 || port > 65535)
    return -1;
  return (int)port;
}

static int start(test_server *s, char **argv)
{
  posix_spawn_file_actions_t fa;
  int in[2] = {-1, -1}, out[2] = {-1, -1}, rc = -1;

  memset(s, 0, sizeof(*s));
  s->stdin_fd = -1;
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
    goto out;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  rc = posix_spawnp(&s->pid, argv[0], &fa, NULL, argv, environ) ? -1 : 0;
  posix_spawn_file_actions_destroy(&fa);
  if (rc) {
    s->pid = 0;
    goto out;
  }
  s->stdin_fd = in[1];
  in[1] = -1;
  s->port = read_port(out[0]);
  if (s->port < 0) {
    test_server_stop(s);
    rc = -1;
  }
out:
  if (in[0] >= 0)
    close(in[0]);
  if (in[1] >= 0)
    close(in[1]);
  if (out[0] >= 0)
    close(out[0]);
  if (out[1] >= 0)
    close(out[1]);
  return rc;
}

int test_server_start(test_server *s)
{
  char *argv[] = {SDK_TEST_PYTHON, SDK_TEST_SERVER, "--timeout", "60", NULL};

  return start(s, argv);
}

int test_server_start_tls(test_server *s, const char *cert, const char *key)
{
  char *argv[] = {SDK_TEST_PYTHON, SDK_TEST_SERVER, "--timeout", "60",
                  "--tls", (char *)cert, (char *)key, NULL};

  return start(s, argv);
}

void test_server_stop(test_server *s)
{
  if (s->stdin_fd >= 0)
    close(s->stdin_fd);
  s->stdin_fd = -1;
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
  }
  s->pid = 0;
}
