/*
** sdk_xml.c -- a read-only XML tree built with expat (sdk_xml.h).
**
** Listing pages and error bodies are small and arrive whole, so a tree is
** simpler for providers than SAX callbacks. Untrusted input: depth is
** capped, and a document that declares any entity is refused, so there is
** no entity expansion beyond the five predefined ones (no billion laughs,
** no external entities; expat never fetches anything by itself either).
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "sdk_xml.h"

#define XML_MAX_DEPTH 64
/* Between a namespace URI and a local name in expat's names. No URI or
 * XML name can contain it. */
#define NS_SEP '\x01'

struct sdk_xml_node {
  char *name;             /* local name, in the node's own allocation */
  char **attrs;           /* name, value, ..., NULL; one allocation */
  sdk_buf text;
  sdk_xml_node *parent, *first, *last, *next;
};

typedef struct xml_parse {
  XML_Parser p;
  sdk_xml_node *root, *cur;
  int depth;
  const char *stop;       /* why we stopped expat, or NULL */
} xml_parse;

/* "uri\x01local" -> "local"; names without a namespace are unchanged. */
static const char *local_name(const char *name)
{
  const char *sep = strrchr(name, NS_SEP);

  return sep ? sep + 1 : name;
}

static void halt(xml_parse *ps, const char *why)
{
  if (!ps->stop)
    ps->stop = why;
  XML_StopParser(ps->p, XML_FALSE);
}

/* Copy expat's attribute list (local names) into one block: the pointer
 * array first, then the strings. NULL when memory runs out. */
static char **copy_attrs(const XML_Char **atts)
{
  size_t n = 0, bytes = 0, i;
  char **v, *s;

  for (i = 0; atts[i]; i += 2) {
    bytes += strlen(local_name(atts[i])) + strlen(atts[i + 1]) + 2;
    n += 2;
  }
  v = malloc((n + 1) * sizeof(*v) + bytes);
  if (!v)
    return NULL;
  s = (char *)(v + n + 1);
  for (i = 0; i < n; i++) {
    const char *src = i % 2 ? atts[i] : local_name(atts[i]);
    size_t len = strlen(src) + 1;

    memcpy(s, src, len);
    v[i] = s;
    s += len;
  }
  v[n] = NULL;
  return v;
}

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **atts)
{
  xml_parse *ps = ud;
  const char *local = local_name(name);
  size_t len = strlen(local) + 1;
  sdk_xml_node *n;

  if (ps->stop)
    return;
  if (ps->depth >= XML_MAX_DEPTH) {
    halt(ps, "elements nested deeper than 64 levels");
    return;
  }
  n = calloc(1, sizeof(*n) + len);
  if (!n) {
    halt(ps, "out of memory");
    return;
  }
  n->name = (char *)(n + 1);
  memcpy(n->name, local, len);
  n->attrs = copy_attrs(atts);
  if (!n->attrs) {
    free(n);
    halt(ps, "out of memory");
    return;
  }
  n->parent = ps->cur;
  if (!ps->cur)
    ps->root = n;
  else if (ps->cur->last)
    ps->cur->last->next = n;
  else
    ps->cur->first = n;
  if (ps->cur)
    ps->cur->last = n;
  ps->cur = n;
  ps->depth++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
  xml_parse *ps = ud;

  (void)name;
  /* expat may still report the end of an element whose start we
   * refused while stopping. */
  if (ps->stop)
    return;
  ps->cur = ps->cur->parent;
  ps->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
  xml_parse *ps = ud;

  if (!ps->stop && ps->cur && sdk_buf_append(&ps->cur->text, s, (size_t)len))
    halt(ps, "out of memory");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name,
                                   int is_param, const XML_Char *value,
                                   int value_len, const XML_Char *base,
                                   const XML_Char *system_id,
                                   const XML_Char *public_id,
                                   const XML_Char *notation)
{
  halt(ud, "entity declarations are not allowed");
}

int sdk_xml_parse(const char *buf, size_t len, sdk_xml_node **out,
                  store_error *err)
{
  xml_parse ps;
  int rc = STORE_OK;

  *out = NULL;
  memset(&ps, 0, sizeof(ps));
  if (len > INT_MAX)
    return store_error_set(err, STORE_E_INTERNAL,
                           "malformed XML at line 1: document too large");
  ps.p = XML_ParserCreateNS(NULL, NS_SEP);
  if (!ps.p)
    return store_error_set(err, STORE_E_NOMEM, "XML parser: out of memory");
  XML_SetUserData(ps.p, &ps);
  XML_SetElementHandler(ps.p, on_start, on_end);
  XML_SetCharacterDataHandler(ps.p, on_text);
  XML_SetEntityDeclHandler(ps.p, on_entity_decl);
  /* The default, stated because safety depends on it: never read the
   * external DTD subset or parameter entities. */
  XML_SetParamEntityParsing(ps.p, XML_PARAM_ENTITY_PARSING_NEVER);
  if (XML_Parse(ps.p, buf ? buf : "", (int)len, XML_TRUE) != XML_STATUS_OK) {
    rc = store_error_set(err, STORE_E_INTERNAL, "malformed XML at line %lu: %s",
                         (unsigned long)XML_GetCurrentLineNumber(ps.p),
                         ps.stop ? ps.stop
                                 : XML_ErrorString(XML_GetErrorCode(ps.p)));
    goto out;
  }
  *out = ps.root;
  ps.root = NULL;
out:
  sdk_xml_free(ps.root);
  XML_ParserFree(ps.p);
  return rc;
}

/* Recursion is bounded by the depth limit; siblings are a loop. */
void sdk_xml_free(sdk_xml_node *root)
{
  sdk_xml_node *next;

  while (root) {
    next = root->next;
    sdk_xml_free(root->first);
    sdk_buf_free(&root->text);
    free(root->attrs);
    free(root);
    root = next;
  }
}

const char *sdk_xml_name(const sdk_xml_node *n)
{
  return n->name;
}

const char *sdk_xml_text(const sdk_xml_node *n)
{
  return sdk_buf_str(&n->text);
}

const char *sdk_xml_attr(const sdk_xml_node *n, const char *name)
{
  char **a;

  for (a = n->attrs; *a; a += 2)
    if (!strcmp(a[0], name))
      return a[1];
  return NULL;
}

/* First node from n on (n included) named name[0..len); any when name is
 * NULL. */
static sdk_xml_node *match_from(const sdk_xml_node *n, const char *name,
                                size_t len)
{
  for (; n; n = n->next)
    if (!name || (strlen(n->name) == len && !memcmp(n->name, name, len)))
      return (sdk_xml_node *)n;
  return NULL;
}

sdk_xml_node *sdk_xml_child(const sdk_xml_node *n, const char *name)
{
  return match_from(n->first, name, name ? strlen(name) : 0);
}

sdk_xml_node *sdk_xml_next(const sdk_xml_node *n, const char *name)
{
  return match_from(n->next, name, name ? strlen(name) : 0);
}

const char *sdk_xml_child_text(const sdk_xml_node *n, const char *name)
{
  sdk_xml_node *c = sdk_xml_child(n, name);

  return c ? sdk_xml_text(c) : NULL;
}

/* Empty segments ("a//b", a leading or trailing '/') are skipped, so ""
 * is n itself. */
sdk_xml_node *sdk_xml_path(const sdk_xml_node *n, const char *path)
{
  const char *seg = path, *end;

  while (n && *seg) {
    end = strchr(seg, '/');
    if (!end)
      end = seg + strlen(seg);
    if (end > seg)
      n = match_from(n->first, seg, (size_t)(end - seg));
    seg = *end ? end + 1 : end;
  }
  return (sdk_xml_node *)n;
}

int sdk_xml_escape(sdk_buf *out, const char *s)
{
  size_t start = out->len;
  const char *run = s, *rep;

  for (; *s; s++) {
    switch (*s) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&apos;"; break;
    default: continue;
    }
    if (sdk_buf_append(out, run, (size_t)(s - run)) || sdk_buf_puts(out, rep))
      goto fail;
    run = s + 1;
  }
  if (sdk_buf_append(out, run, (size_t)(s - run)))
    goto fail;
  return 0;
fail:
  sdk_buf_truncate(out, start);
  return -1;
}
