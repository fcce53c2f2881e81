/*
** layout_v1_1.h -- what ABI 1.1 added: the exact types of its slots, op
** types and callback, of the fields it appended, in their order, and its
** constants, as X-macro lists that test_abi asserts against the current
** header at compile time.
**
** NOT FROZEN YET: 1.1 is open while this is the newest minor, so its
** additions may still change -- but only deliberately: a change to the
** header fails test_abi until the same change is made here, in the same
** commit, saying why. Once the next minor opens, this file freezes as
** 1.0's has (layout_v1_0.h), and that minor gets a list of its own.
*/
#ifndef ST_LAYOUT_V1_1_H
#define ST_LAYOUT_V1_1_H

/* ST_SIGNATURES_V1_1(T, D): T(struct tag, field, type) for every function
 * pointer slot 1.1 appended, D(typedef, type) for its callback and op
 * types, with their exact parameter lists. */
#define ST_SIGNATURES_V1_1(T, D) \
  T(store_interface, multipart_part_checked, int32_t (*)(store_handle *, const char *, const char *, const char *, uint32_t, uint64_t, const store_put_opts *, store_read_fn, void *, char *, size_t, store_put_result *, store_error *)) \
  T(store_interface, blob_delete_batch, int32_t (*)(store_handle *, const char *, const char *const *, size_t, store_batch_fn, void *, store_error *)) \
  T(store_interface, blob_presign, int32_t (*)(store_handle *, const char *, const char *, const store_presign_opts *, char *, size_t, store_presign_result *, store_error *)) \
  T(store_interface, multipart_list, int32_t (*)(store_handle *, const char *, const char *, store_upload_fn, void *, store_error *)) \
  T(store_interface, blob_copy_checked, int32_t (*)(store_handle *, const char *, const char *, const char *, const char *, const store_copy_opts *, store_put_result *, store_error *)) \
  D(store_upload_fn, int32_t (*)(void *, const store_upload *)) \
  D(store_multipart_list_op, int32_t (store_handle *, const char *, const char *, store_upload_fn, void *, store_error *)) \
  D(store_blob_copy_checked_op, int32_t (store_handle *, const char *, const char *, const char *, const char *, const store_copy_opts *, store_put_result *, store_error *)) \
  D(store_batch_fn, int32_t (*)(void *, size_t, int32_t, const store_error *)) \
  D(store_multipart_part_checked_op, int32_t (store_handle *, const char *, const char *, const char *, uint32_t, uint64_t, const store_put_opts *, store_read_fn, void *, char *, size_t, store_put_result *, store_error *)) \
  D(store_blob_delete_batch_op, int32_t (store_handle *, const char *, const char *const *, size_t, store_batch_fn, void *, store_error *)) \
  D(store_blob_presign_op, int32_t (store_handle *, const char *, const char *, const store_presign_opts *, char *, size_t, store_presign_result *, store_error *)) \
  /* end */

/* ST_FIELDS_V1_1(F): F(struct tag, field, type, previous field) for every
 * field 1.1 appended to a 1.0 struct, and every field of the structs it
 * added; previous is the field it must follow (the first field of a struct
 * names itself). */
#define ST_FIELDS_V1_1(F) \
  F(store_entry, checksums, uint32_t, nmetadata) \
  F(store_entry, crc32c, uint32_t, checksums) \
  F(store_put_opts, checksums, uint32_t, if_match) \
  F(store_put_opts, crc32c, uint32_t, checksums) \
  F(store_put_opts, md5, uint8_t[16], crc32c) \
  F(store_put_opts, trailer_checksums, uint32_t, md5) \
  F(store_put_opts, reserved1, uint32_t, trailer_checksums) \
  F(store_put_result, checksums, uint32_t, version_id) \
  F(store_put_result, crc32c, uint32_t, checksums) \
  F(store_put_result, md5, uint8_t[16], crc32c) \
  F(store_presign_opts, struct_size, uint32_t, struct_size) \
  F(store_presign_opts, method, uint32_t, struct_size) \
  F(store_presign_opts, expires_s, uint32_t, method) \
  F(store_presign_opts, reserved, uint32_t, expires_s) \
  F(store_presign_opts, content_type, const char *, reserved) \
  F(store_presign_result, struct_size, uint32_t, struct_size) \
  F(store_presign_result, reserved, uint32_t, struct_size) \
  F(store_presign_result, expires_at, int64_t, reserved) \
  F(store_presign_result, id, char[256], expires_at) \
  F(store_presign_result, headers, char[256], id) \
  F(store_upload, struct_size, uint32_t, struct_size) \
  F(store_upload, reserved, uint32_t, struct_size) \
  F(store_upload, key, const char *, reserved) \
  F(store_upload, upload_id, const char *, key) \
  F(store_upload, initiated, int64_t, upload_id) \
  F(store_upload, last_activity, int64_t, initiated) \
  F(store_delete_opts, if_match, const char *, snapshot_id) \
  /* end */

/* ST_CONSTANTS_V1_1(C): C(macro, value) for every constant 1.1 added. */
#define ST_CONSTANTS_V1_1(C) \
  C(STORE_CKSUM_CRC32C, 1u) \
  C(STORE_CKSUM_MD5, 2u) \
  C(STORE_CAP_PRESIGN, UINT64_C(1) << 12) \
  C(STORE_CAP_DELETE_IF_MATCH, UINT64_C(1) << 13) \
  C(STORE_PRESIGN_GET, 0) \
  C(STORE_PRESIGN_PUT, 1) \
  C(STORE_PRESIGN_HEADERS_SIZE, 256) \
  /* end */

#endif /* ST_LAYOUT_V1_1_H */
