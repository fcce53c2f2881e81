/*
** fuzz_xml.c -- the SDK's XML reader (sdk_xml.h), as S3 listings and
** errors and Azure's reach it: parse any bytes, then walk the tree as the
** providers do (children, names, texts, attributes).
*/
#include <stdint.h>
#include <string.h>

#include "sdk_xml.h"

static void walk(const sdk_xml_node *n, int depth)
{
  const char *t;

  if (depth > 64)
    return;
  for (const sdk_xml_node *c = sdk_xml_child(n, NULL); c;
       c = sdk_xml_next(c, NULL)) {
    t = sdk_xml_text(c);
    if (t)
      (void)strlen(t);
    (void)sdk_xml_name(c);
    (void)sdk_xml_attr(c, "Encoded");
    (void)sdk_xml_child_text(c, "Key");
    walk(c, depth + 1);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  sdk_xml_node *root = NULL;
  store_error err;

  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  if (sdk_xml_parse((const char *)data, size, &root, &err) == STORE_OK) {
    walk(root, 0);
    sdk_xml_free(root);
  }
  return 0;
}
