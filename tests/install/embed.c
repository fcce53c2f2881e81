/*
** embed.c -- a program that embeds the installed libxtstore (pkg-config
** xtstore): it opens a context and prints the library's version.
*/
#include <stdio.h>
#include <string.h>

#include "xtstore.h"

int main(void)
{
  xtstore_ctx_opts o;
  xtstore_ctx *ctx = NULL;
  store_error err;

  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
            XTSTORE_CTX_NO_CWD_CONFIG;
  memset(&err, 0, sizeof err);
  err.struct_size = sizeof err;
  if (xtstore_ctx_open(&o, &ctx, &err) != STORE_OK) {
    fprintf(stderr, "embed: %s\n", err.message);
    return 1;
  }
  printf("embedded xtstore %s\n", xtstore_version());
  xtstore_ctx_close(ctx);
  return 0;
}
