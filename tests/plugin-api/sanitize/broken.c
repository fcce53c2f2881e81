/* Linked into a second build of the dirstore example: a bug in the
 * plugin's own code as soon as it is loaded, which the sanitizer recipe of
 * PLUGIN_GUIDE.md must report. SAN_UB: undefined behaviour for UBSan;
 * otherwise a heap overflow for ASan. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

__attribute__((constructor)) static void san_broken(void)
{
#ifdef SAN_UB
  volatile int big = INT_MAX;
  volatile int sum = big + 1;
  (void)sum;
#else
  char *volatile p = malloc(8);
  memset(p, 'x', 9);
  free(p);
#endif
}
