/*
** sdk_xml.h -- a small read-only XML tree built with expat, for listing
** pages and error bodies (bounded in size: one response at a time).
** Element names are local names (namespace prefixes and URIs dropped).
*/
#ifndef SDK_XML_H
#define SDK_XML_H

#include <stddef.h>
#include "store_interface.h"
#include "sdk_buf.h"

typedef struct sdk_xml_node sdk_xml_node;

/* Parse buf[0..len). On success *out is the root element (caller frees
 * with sdk_xml_free). On failure *out is NULL and err holds
 * STORE_E_INTERNAL "malformed XML at line L: <expat message>". Depth is
 * limited to 64. */
int sdk_xml_parse(const char *buf, size_t len, sdk_xml_node **out,
                  store_error *err);
void sdk_xml_free(sdk_xml_node *root);

const char *sdk_xml_name(const sdk_xml_node *n);
/* Concatenated character data directly inside n ("" when none). */
const char *sdk_xml_text(const sdk_xml_node *n);
/* Attribute value, or NULL. */
const char *sdk_xml_attr(const sdk_xml_node *n, const char *name);
/* First child named `name` (any child when name is NULL), or NULL. */
sdk_xml_node *sdk_xml_child(const sdk_xml_node *n, const char *name);
/* Next sibling named `name` (any when NULL), or NULL. */
sdk_xml_node *sdk_xml_next(const sdk_xml_node *n, const char *name);
/* Text of the first child named `name`, or NULL when there is none. */
const char *sdk_xml_child_text(const sdk_xml_node *n, const char *name);
/* Follow a '/'-separated path of child names from n ("Blobs/Blob"). */
sdk_xml_node *sdk_xml_path(const sdk_xml_node *n, const char *path);

/* Append s to out with & < > " ' escaped (for request bodies). 0 or -1. */
int sdk_xml_escape(sdk_buf *out, const char *s);

#endif /* SDK_XML_H */
