/*
** local.h -- private interface of the `local` storage provider.
**
** Layout on disk (root = the service's `path`):
**   <root>/<container>/<key>                 blobs; '/' in a key nests dirs
**   <root>/<container>/.xtstore/             private area, never listed:
**     tmp/                                   temp files, renamed into place
**     keys/<key>/.xtstore.meta               metadata sidecar of a blob
**     keys/<key>/.xtstore.snap.<id>          a snapshot of a blob
**     keys/<key>/.xtstore.smeta.<id>         metadata sidecar of a snapshot
**     uploads/<upload-id>/                   multipart staging
**     container-meta                         container metadata sidecar
**     lock                                   serialises sidecar commits
**   <root>/.xtstore-trash-*                  a container being deleted
**   <root>/<container>/<dir>/                also the directory marker
**                                            "<dir>/" (see local_dir.c)
** Key segments may not start with ".xtstore", so names in the private area
** and the reserved ".xtstore.*" names inside keys/<key>/ never collide with
** user keys.
**
** Every operation works relative to directory fds opened one component at a
** time with O_NOFOLLOW, so a symlink anywhere below the root is never
** followed and nothing can escape the root.
*/
#ifndef LOCAL_H
#define LOCAL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "store_interface.h"

#define LP_CHUNK         ((size_t)1 << 20) /* streaming buffer size       */
#define LP_MAX_CONTAINER 63
#define LP_MAX_KEY       1024
#define LP_MAX_SEGMENT   255
#define LP_MAX_SNAP_ID   127
#define LP_MAX_PARTS     10000u
#define LP_ETAG_SIZE     64    /* "ino-mtimens-size" in hex, NUL included  */
#define LP_TMPNAME_SIZE  64
#define LP_UPLOAD_ID_LEN 32    /* hex digits                               */

#define LP_PRIVATE       ".xtstore"
#define LP_SHADOW_DIR    ".xtstore/keys"
#define LP_META_FILE     ".xtstore.meta"
#define LP_SNAP_PREFIX   ".xtstore.snap."
#define LP_SMETA_PREFIX  ".xtstore.smeta."
#define LP_DEFAULT_CT    "application/octet-stream"

/* Where metadata lives; see local_meta.c. */
#define LP_META_AUTO    0
#define LP_META_XATTR   1
#define LP_META_SIDECAR 2

struct store_handle {
  char *root;                   /* absolute, no trailing '/'; owned        */
  char *name;                   /* service name, informational; owned      */
  int fsync;                    /* fsync data and directories on commit   */
  int meta_mode;                /* LP_META_*                              */
  const store_host_api *host;   /* valid for the life of the process      */
};

/* One addressed object: a blob (key set) or a container (key NULL). The
 * names are borrowed; the fds are owned and closed by lp_obj_close(). */
typedef struct lp_obj {
  store_handle *h;
  const char *container;
  const char *key;
  int cfd;                      /* container directory, or -1             */
  int pfd;                      /* directory holding the key's leaf, or -1 */
  const char *leaf;             /* last segment of key (points into key)  */
} lp_obj;

/* Metadata of one object. Either borrowed (from caller options; buf and
 * own_kv NULL) or loaded (buf/own_kv owned, released by lp_meta_free). */
typedef struct lp_meta {
  const char *content_type;     /* NULL when none                         */
  const store_kv *kv;
  size_t n;
  char *buf;
  store_kv *own_kv;
} lp_meta;

/* A metadata sidecar written to a temp file, waiting to be put in place
 * next to the object it describes. name[0] == 0: nothing pending. */
typedef struct lp_side_tmp {
  int dirfd;                    /* .xtstore/tmp, or -1                     */
  char name[LP_TMPNAME_SIZE];
} lp_side_tmp;

/* A growing array of owned names, e.g. of a directory's entries. */
typedef struct lp_names {
  char **v;
  size_t n, cap;
} lp_names;

/* A temp file being filled, to be published by lp_commit(). */
typedef struct lp_tmp {
  int fd;                       /* read-write, or -1                      */
  uint32_t checksums;           /* STORE_CKSUM_CRC32C: crc32c is the CRC of
                                   every byte written to fd               */
  uint32_t crc32c;
  int dirfd;                    /* .xtstore/tmp, or -1                     */
  char name[LP_TMPNAME_SIZE];
  lp_side_tmp side;
} lp_tmp;

/* local_error.c */
int32_t lp_fail(store_error *err, int32_t code, int e, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
int32_t lp_obj_fail(const lp_obj *o, store_error *err, int32_t code, int e,
                    const char *fmt, ...)
  __attribute__((format(printf, 5, 6)));
int32_t lp_check_opts(const void *opts, const char *what, store_error *err);
/* STORE_E_PERMISSION naming the blob when the file st has more than one
 * hard link: a link planted in the store would let an in-place change
 * (`doing`: "append to", ...) reach a file outside the root. */
int32_t lp_check_single_link(const lp_obj *o, const struct stat *st,
                             const char *doing, store_error *err);

/* local.c */
int lp_cancelled(const store_handle *h);

/* local_path.c */
int32_t lp_check_container(const char *container, store_error *err);
int lp_segment_ok(const char *seg, size_t len);
int32_t lp_check_snapshot_id(const char *id, store_error *err);
int32_t lp_expand_root(const char *path, char **out, store_error *err);
int lp_walk(int base, const char *path, size_t len, int create, int *out_fd,
            size_t *bad_len);
int lp_open_root(const store_handle *h, int create, int *out_fd);
void lp_obj_init(lp_obj *o, store_handle *h, const char *container,
                 const char *key);
int32_t lp_obj_open(lp_obj *o, store_error *err);
int32_t lp_obj_start(lp_obj *o, store_handle *h, const char *container,
                     const char *key, const void *opts, const char *what,
                     store_error *err);
int32_t lp_obj_parent(lp_obj *o, int create, store_error *err);
void lp_obj_close(lp_obj *o);
int32_t lp_private_open(const lp_obj *o, const char *sub, int create,
                        int *out_fd, store_error *err);
int32_t lp_shadow_open(const lp_obj *o, int create, int *out_fd,
                       store_error *err);
void lp_shadow_prune(const lp_obj *o);

/* local_fs.c */
int lp_write_all(int fd, const void *buf, size_t len);
char *lp_read_file(int fd, size_t size, size_t *got);
int lp_fsync_dir(const store_handle *h, int dirfd);
DIR *lp_opendir(int fd);
int lp_names_add(lp_names *ns, const char *s, const char *suffix);
int lp_names_done(lp_names *ns, int e);
void lp_names_free(lp_names *ns);
int lp_rmtree(int dirfd, const char *name);
void lp_prune_dirs(int base, const char *path, size_t len);
int64_t lp_mtime_ns(const struct stat *st);
void lp_etag(const struct stat *st, char out[LP_ETAG_SIZE]);
void lp_entry_fill(store_entry *e, const char *name, const struct stat *st,
                   char etag[LP_ETAG_SIZE], const lp_meta *m);
void lp_unique_name(const char *tag, char *out, size_t cap);

/* local_body.c */
int32_t lp_check_source(const lp_obj *o, store_read_fn src, int64_t len,
                        store_error *err);
int32_t lp_stream_in(const lp_obj *o, int fd, store_read_fn src, void *ctx,
                     int64_t expect, uint32_t *out_crc, store_error *err);
int32_t lp_check_crc(const lp_obj *o, const store_put_opts *opts,
                     uint32_t crc, const char *what, store_error *err);
int32_t lp_stream_out(const lp_obj *o, int fd, uint64_t off, uint64_t len,
                      store_write_fn sink, void *ctx, store_error *err);
int32_t lp_copy_data(const lp_obj *o, int dst, uint64_t dst_off, int src,
                     uint64_t len, int may_clone, store_error *err);

/* local_cksum.c */
void lp_cksum_keep(int fd, uint32_t crc);
int lp_cksum_get(int fd, const struct stat *st, uint32_t *out);
int lp_cksum_get_at(int dfd, const char *leaf, const struct stat *st,
                    uint32_t *out);
void lp_cksum_report(int fd, const struct stat *st, store_entry *e);

/* local_meta.c */
int32_t lp_meta_check(const lp_obj *o, const char *ct, const store_kv *kv,
                      size_t n, store_error *err);
int32_t lp_meta_load(const lp_obj *o, const char *snap, int fd,
                     const struct stat *st, lp_meta *out, store_error *err);
void lp_meta_free(lp_meta *m);
int32_t lp_meta_prepare(const lp_obj *o, int fd, const lp_meta *m,
                        lp_side_tmp *side, store_error *err);
int32_t lp_meta_place(const lp_obj *o, const char *snap, lp_side_tmp *side,
                      store_error *err);
void lp_meta_discard(lp_side_tmp *side);
int32_t lp_meta_lock(const lp_obj *o, int exclusive, int *out_fd,
                     store_error *err);
void lp_meta_unlock(int *fd);
int32_t lp_meta_replace(const lp_obj *o, int fd, const store_kv *kv,
                        size_t n, store_error *err);

/* local_tmp.c */
int32_t lp_tmp_create(const lp_obj *o, lp_tmp *t, store_error *err);
void lp_tmp_discard(lp_tmp *t);
int lp_publish_noreplace(lp_tmp *t, int pfd, const char *leaf);
int32_t lp_precheck(const lp_obj *o, uint32_t put_flags, const char *if_match,
                    store_error *err);
int32_t lp_commit(lp_obj *o, lp_tmp *t, uint32_t put_flags,
                  const char *if_match, store_put_result *out,
                  store_error *err);
void lp_put_result(store_put_result *out, uint64_t size, const char *etag,
                   uint32_t checksums, uint32_t crc32c);

/* local_blob.c */
int32_t lp_blob_open_read(lp_obj *o, const char *snap, int *out_fd,
                          struct stat *st, store_error *err);
int32_t lp_blob_open_settled(lp_obj *o, const char *snap, int *out_fd,
                             struct stat *st, store_error *err);
int32_t lp_blob_describe(const lp_obj *o, const char *snap, int fd,
                         const struct stat *st, int meta,
                         char etag[LP_ETAG_SIZE], lp_meta *m, store_entry *e,
                         store_error *err);
store_blob_put_op lp_blob_put;
store_blob_get_op lp_blob_get;
store_blob_head_op lp_blob_head;
store_blob_delete_op lp_blob_delete;
store_blob_set_metadata_op lp_blob_set_metadata;

/* local_dir.c: directory markers, keys ending in '/' */
int lp_is_dir_key(const char *key);
store_blob_put_op lp_dir_put;
int32_t lp_dir_get(store_handle *h, const char *container, const char *key,
                   const store_get_opts *opts, store_error *err);
store_blob_head_op lp_dir_head;
store_blob_delete_op lp_dir_delete;

/* local_list.c */
store_blob_list_op lp_blob_list;
int lp_dir_has_blob(int dirfd);

/* local_container.c */
store_container_create_op lp_container_create;
store_container_delete_op lp_container_delete;
store_container_list_op lp_container_list;
store_container_head_op lp_container_head;
store_container_set_metadata_op lp_container_set_metadata;

/* local_snapshot.c */
store_blob_snapshot_op lp_blob_snapshot;
int32_t lp_snap_list(const lp_obj *o, lp_names *out, store_error *err);
int32_t lp_snap_delete_all(const lp_obj *o, int only_check, store_error *err);

/* local_copy.c */
store_blob_copy_op lp_blob_copy;
store_blob_copy_checked_op lp_blob_copy_checked;

/* local_append.c */
store_blob_append_op lp_blob_append;

/* local_multipart.c */
store_multipart_begin_op lp_multipart_begin;
store_multipart_part_op lp_multipart_part;
store_multipart_part_checked_op lp_multipart_part_checked;
store_multipart_complete_op lp_multipart_complete;
store_multipart_abort_op lp_multipart_abort;
store_multipart_list_op lp_multipart_list;

#endif /* LOCAL_H */
