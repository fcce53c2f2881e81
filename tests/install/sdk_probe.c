/*
** sdk_probe.c -- linked into the dirstore example by the install test, to
** show that a plugin links the installed SDK with pkg-config alone and
** exports none of it: when the plugin loads, this calls the SDK's CRC-32C.
*/
#include <stdlib.h>

#include <sdk_util.h>

__attribute__((constructor)) static void sdk_probe(void)
{
  if (sdk_crc32c(0, "123456789", 9) != 0xe3069283u)
    abort();
}
