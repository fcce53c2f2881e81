/* Linked into a second build of the dirstore example: a bug in the
 * plugin's own code as soon as it is loaded, which the sanitizer recipe of
 * PLUGIN_GUIDE.md must report. SAN_UB: undefined behaviour for UBSan;
 * SAN_LEAK: memory never freed, for LeakSanitizer at exit; otherwise
 * (SAN_OVERFLOW) a heap overflow for ASan. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifdef SAN_LEAK
/* A global, so the only pointer to the block is overwritten, not left in a
 * register or on the stack where LeakSanitizer would count it as reachable. */
static char *volatile san_lost;
#endif

__attribute__((constructor)) static void san_broken(void)
{
#if defined(SAN_UB)
  volatile int big = INT_MAX;
  volatile int sum = big + 1;
  (void)sum;
#elif defined(SAN_LEAK)
  san_lost = malloc(48);
  if (san_lost)
    memset(san_lost, 'x', 48);
  san_lost = NULL;
#else
  char *volatile p = malloc(8);
  memset(p, 'x', 9);
  free(p);
#endif
}
