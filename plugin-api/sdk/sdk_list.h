/*
** sdk_list.h -- one listing page in byte order of name, for providers
** whose services send a page's objects and common prefixes apart (S3's
** Contents and CommonPrefixes) or not quite in order (Azurite puts a
** page's prefixes before its blobs), while the ABI wants every entry of a
** listing in byte-wise ascending order; and the filter for what a
** provider must hide itself: names up to start_after (when the service
** has no such parameter, or cannot apply it to every kind of entry) and a
** prefix repeated across pages.
**
** Use, per page: add every item (sdk_list_page_add or _take), sort, then
** report the items sdk_list_page_next returns; reset before the next page.
** The filter lives for the whole listing.
*/
#ifndef SDK_LIST_H
#define SDK_LIST_H

#include <stddef.h>
#include <stdint.h>

/* Kinds of items. */
#define SDK_LIST_OBJECT 0
#define SDK_LIST_PREFIX 1

typedef struct sdk_list_item {
  const char *name;             /* what items are ordered by              */
  uint32_t kind;                /* SDK_LIST_OBJECT or SDK_LIST_PREFIX     */
  const void *node;             /* the provider's (an XML element ...),
                                   borrowed                               */
  char *owned;                  /* private: name, when the page owns it   */
  size_t seq;                   /* private: the order items were added in */
} sdk_list_item;

/* items[0..n) may be read; change them only through the functions. */
typedef struct sdk_list_page {
  sdk_list_item *items;
  size_t n, cap;
} sdk_list_page;

#define SDK_LIST_PAGE_INIT {NULL, 0, 0}

/* Add an item whose name is borrowed (it must outlive the page's use).
 * 0, or -1 when memory runs out (the page is unchanged). */
int sdk_list_page_add(sdk_list_page *p, const char *name, uint32_t kind,
                      const void *node);
/* Add an item whose name (from malloc) the page takes: freed by
 * sdk_list_page_reset and _free, or at once when the add fails (-1,
 * memory; the page is unchanged). */
int sdk_list_page_take(sdk_list_page *p, char *name, uint32_t kind,
                       const void *node);
/* Sort the items by name, byte-wise (strcmp); items of equal names keep
 * the order they were added in (a blob's snapshots before the blob, as
 * listed; a prefix added before an object of the same name first). */
void sdk_list_page_sort(sdk_list_page *p);
/* Drop every item (freeing the names the page owns), keep the array. */
void sdk_list_page_reset(sdk_list_page *p);
/* Reset and free the array; the page is empty and usable again. */
void sdk_list_page_free(sdk_list_page *p);

/* What a listing hides. after is borrowed for the listing; last_prefix
 * is owned (sdk_list_filter_free). Both may be read. */
typedef struct sdk_list_filter {
  const char *after;            /* report only names after this; or NULL */
  char *last_prefix;            /* the prefix reported last, or NULL      */
} sdk_list_filter;

/* start_after NULL or "": no name is held back. */
void sdk_list_filter_init(sdk_list_filter *f, const char *start_after);
void sdk_list_filter_free(sdk_list_filter *f);

/* Non-zero when name comes after start_after (byte-wise), or there is no
 * start_after: report it. */
int sdk_list_after(const sdk_list_filter *f, const char *name);

/* name[0..len) as the next prefix to report: 1 when it differs from the
 * last one (it is then f->last_prefix, NUL-terminated), 0 when it repeats
 * it (a prefix spanning two pages: report it once), -1 when memory runs
 * out (f unchanged). */
int sdk_list_new_prefix(sdk_list_filter *f, const char *name, size_t len);

/*
** The next item of a sorted page from *pos on to report (*pos moves past
** it): items not after start_after are skipped, and so is a prefix that
** repeats the last one reported; a new prefix is recorded as the last
** one. With f NULL every item is reported. 1 with *out set, 0 at the end
** of the page, -1 when memory runs out.
*/
int sdk_list_page_next(sdk_list_page *p, size_t *pos, sdk_list_filter *f,
                       const sdk_list_item **out);

#endif /* SDK_LIST_H */
