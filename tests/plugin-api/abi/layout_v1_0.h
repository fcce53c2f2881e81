/*
** layout_v1_0.h -- every field of every ABI 1.0 boundary struct, and every
** 1.0 constant, as X-macro lists.
**
** FROZEN: this is the 1.0 ABI. Never edit, reorder or extend these lists
** (a later minor gets its own layout_v1_N.h). The good fixture compiles them
** against the frozen 1.0 header and exports the results; test_abi compiles
** them against the current header and compares, so a reordered, retyped or
** renumbered field or constant fails the build's tests.
**
** ST_LAYOUT_V1_0(F, S): F(struct tag, field) for each field, S(struct tag)
** for each struct's size.
** ST_CONSTANTS_V1_0(C): C(macro) for each constant.
*/
#ifndef ST_LAYOUT_V1_0_H
#define ST_LAYOUT_V1_0_H

#define ST_LAYOUT_V1_0(F, S) \
  F(store_error, struct_size) F(store_error, code) \
  F(store_error, http_status) F(store_error, flags) \
  F(store_error, sys_errno) F(store_error, retry_after_ms) \
  F(store_error, provider_code) F(store_error, request_id) \
  F(store_error, message) S(store_error) \
  F(store_host_api, struct_size) F(store_host_api, abi_major) \
  F(store_host_api, abi_minor) F(store_host_api, reserved) \
  F(store_host_api, host_ctx) F(store_host_api, log) \
  F(store_host_api, is_cancelled) S(store_host_api) \
  F(store_kv, key) F(store_kv, value) S(store_kv) \
  F(store_config_key, name) F(store_config_key, description) \
  F(store_config_key, required) F(store_config_key, secret) \
  S(store_config_key) \
  F(store_limits, struct_size) F(store_limits, max_parts) \
  F(store_limits, min_part_size) F(store_limits, max_part_size) \
  F(store_limits, max_object_size) F(store_limits, max_put_size) \
  F(store_limits, list_page_size) F(store_limits, equal_parts_required) \
  F(store_limits, max_key_length) F(store_limits, reserved) \
  S(store_limits) \
  F(store_entry, struct_size) F(store_entry, flags) F(store_entry, name) \
  F(store_entry, size) F(store_entry, mtime_ns) F(store_entry, etag) \
  F(store_entry, content_type) F(store_entry, snapshot_id) \
  F(store_entry, content_md5) F(store_entry, metadata) \
  F(store_entry, nmetadata) S(store_entry) \
  F(store_put_opts, struct_size) F(store_put_opts, flags) \
  F(store_put_opts, content_length) F(store_put_opts, content_type) \
  F(store_put_opts, metadata) F(store_put_opts, nmetadata) \
  F(store_put_opts, if_match) S(store_put_opts) \
  F(store_put_result, struct_size) F(store_put_result, reserved) \
  F(store_put_result, size) F(store_put_result, etag) \
  F(store_put_result, version_id) S(store_put_result) \
  F(store_get_opts, struct_size) F(store_get_opts, flags) \
  F(store_get_opts, offset) F(store_get_opts, length) \
  F(store_get_opts, snapshot_id) F(store_get_opts, if_match) \
  F(store_get_opts, on_entry) F(store_get_opts, on_entry_ctx) \
  S(store_get_opts) \
  F(store_head_opts, struct_size) F(store_head_opts, reserved) \
  F(store_head_opts, snapshot_id) S(store_head_opts) \
  F(store_delete_opts, struct_size) F(store_delete_opts, flags) \
  F(store_delete_opts, snapshot_id) S(store_delete_opts) \
  F(store_list_opts, struct_size) F(store_list_opts, flags) \
  F(store_list_opts, prefix) F(store_list_opts, delimiter) \
  F(store_list_opts, start_after) F(store_list_opts, page_size) \
  F(store_list_opts, reserved) S(store_list_opts) \
  F(store_copy_opts, struct_size) F(store_copy_opts, flags) \
  F(store_copy_opts, src_snapshot_id) F(store_copy_opts, content_type) \
  F(store_copy_opts, metadata) F(store_copy_opts, nmetadata) \
  S(store_copy_opts) \
  F(store_append_opts, struct_size) F(store_append_opts, reserved) \
  F(store_append_opts, content_length) F(store_append_opts, content_type) \
  S(store_append_opts) \
  F(store_interface, abi_major) F(store_interface, abi_minor) \
  F(store_interface, struct_size) F(store_interface, reserved) \
  F(store_interface, name) F(store_interface, version) \
  F(store_interface, description) F(store_interface, capabilities) \
  F(store_interface, limits) F(store_interface, config_keys) \
  F(store_interface, module_init) F(store_interface, module_fini) \
  F(store_interface, open) F(store_interface, close) \
  F(store_interface, container_create) F(store_interface, container_delete) \
  F(store_interface, container_list) F(store_interface, container_head) \
  F(store_interface, container_set_metadata) F(store_interface, blob_put) \
  F(store_interface, blob_get) F(store_interface, blob_head) \
  F(store_interface, blob_delete) F(store_interface, blob_list) \
  F(store_interface, blob_set_metadata) F(store_interface, blob_copy) \
  F(store_interface, blob_append) F(store_interface, blob_snapshot) \
  F(store_interface, multipart_begin) F(store_interface, multipart_part) \
  F(store_interface, multipart_complete) \
  F(store_interface, multipart_abort) S(store_interface)

#define ST_CONSTANTS_V1_0(C) \
  C(STORE_ABI_MAJOR) \
  C(STORE_OK) C(STORE_E_NOT_FOUND) C(STORE_E_EXISTS) C(STORE_E_PERMISSION) \
  C(STORE_E_INVALID) C(STORE_E_UNSUPPORTED) C(STORE_E_PRECONDITION) \
  C(STORE_E_THROTTLED) C(STORE_E_TIMEOUT) C(STORE_E_IO) C(STORE_E_NOMEM) \
  C(STORE_E_ABORTED) C(STORE_E_INTERNAL) C(STORE_E_AUTH) C(STORE_E_CONFIG) \
  C(STORE_E_NOT_EMPTY) C(STORE_E_SERVER) \
  C(STORE_ERR_RETRYABLE) C(STORE_ERR_MSG_SIZE) C(STORE_ERR_CODE_SIZE) \
  C(STORE_ERR_REQID_SIZE) \
  C(STORE_LOG_ERROR) C(STORE_LOG_WARN) C(STORE_LOG_INFO) C(STORE_LOG_DEBUG) \
  C(STORE_ENTRY_PREFIX) C(STORE_ENTRY_SNAPSHOT) C(STORE_ENTRY_DIR_MARKER) \
  C(STORE_ENTRY_CONTAINER) C(STORE_MTIME_UNKNOWN) \
  C(STORE_PUT_IF_NONE_MATCH) C(STORE_GET_RANGE) C(STORE_DELETE_SNAPSHOTS) \
  C(STORE_LIST_SNAPSHOTS) C(STORE_LIST_METADATA) \
  C(STORE_CONTAINER_DELETE_RECURSIVE) C(STORE_COPY_REPLACE_METADATA) \
  C(STORE_ID_SIZE) \
  C(STORE_CAP_CONTAINERS) C(STORE_CAP_RANGE_GET) C(STORE_CAP_METADATA) \
  C(STORE_CAP_APPEND) C(STORE_CAP_SNAPSHOT) C(STORE_CAP_COPY) \
  C(STORE_CAP_MULTIPART) C(STORE_CAP_CONDITIONAL) C(STORE_CAP_THREADSAFE) \
  C(STORE_CAP_CONTENT_TYPE) C(STORE_CAP_DIR_MARKERS) \
  C(STORE_CAP_CONTAINER_METADATA) \
  C(STORE_INTERFACE_V1_0_SIZE)

/* ST_SIGNATURES_V1_0(T, D): T(struct tag, field, type) for every function
 * pointer field of 1.0 and D(typedef, type) for every callback typedef,
 * with the exact 1.0 parameter lists. Offsets cannot see a changed
 * parameter list; test_abi (current header) and the good fixture (frozen
 * header) both assert these types at compile time. */
#define ST_SIGNATURES_V1_0(T, D) \
  T(store_host_api, log, void (*)(void *, int32_t, const char *)) \
  T(store_host_api, is_cancelled, int32_t (*)(void *)) \
  T(store_get_opts, on_entry, store_entry_fn) \
  T(store_interface, module_init, int32_t (*)(const store_host_api *, store_error *)) \
  T(store_interface, module_fini, void (*)(void)) \
  T(store_interface, open, int32_t (*)(const store_host_api *, const store_kv *, size_t, store_handle * *, store_error *)) \
  T(store_interface, close, void (*)(store_handle *)) \
  T(store_interface, container_create, int32_t (*)(store_handle *, const char *, const store_kv *, size_t, store_error *)) \
  T(store_interface, container_delete, int32_t (*)(store_handle *, const char *, uint32_t, store_error *)) \
  T(store_interface, container_list, int32_t (*)(store_handle *, const char *, store_entry_fn, void *, store_error *)) \
  T(store_interface, container_head, int32_t (*)(store_handle *, const char *, store_entry_fn, void *, store_error *)) \
  T(store_interface, container_set_metadata, int32_t (*)(store_handle *, const char *, const store_kv *, size_t, store_error *)) \
  T(store_interface, blob_put, int32_t (*)(store_handle *, const char *, const char *, const store_put_opts *, store_read_fn, void *, store_put_result *, store_error *)) \
  T(store_interface, blob_get, int32_t (*)(store_handle *, const char *, const char *, const store_get_opts *, store_write_fn, void *, store_error *)) \
  T(store_interface, blob_head, int32_t (*)(store_handle *, const char *, const char *, const store_head_opts *, store_entry_fn, void *, store_error *)) \
  T(store_interface, blob_delete, int32_t (*)(store_handle *, const char *, const char *, const store_delete_opts *, store_error *)) \
  T(store_interface, blob_list, int32_t (*)(store_handle *, const char *, const store_list_opts *, store_entry_fn, void *, store_error *)) \
  T(store_interface, blob_set_metadata, int32_t (*)(store_handle *, const char *, const char *, const store_kv *, size_t, store_error *)) \
  T(store_interface, blob_copy, int32_t (*)(store_handle *, const char *, const char *, const char *, const char *, const store_copy_opts *, store_error *)) \
  T(store_interface, blob_append, int32_t (*)(store_handle *, const char *, const char *, const store_append_opts *, store_read_fn, void *, store_error *)) \
  T(store_interface, blob_snapshot, int32_t (*)(store_handle *, const char *, const char *, char *, size_t, store_error *)) \
  T(store_interface, multipart_begin, int32_t (*)(store_handle *, const char *, const char *, const store_put_opts *, char *, size_t, store_error *)) \
  T(store_interface, multipart_part, int32_t (*)(store_handle *, const char *, const char *, const char *, uint32_t, uint64_t, store_read_fn, void *, char *, size_t, store_error *)) \
  T(store_interface, multipart_complete, int32_t (*)(store_handle *, const char *, const char *, const char *, const store_put_opts *, const char *const *, uint32_t, store_put_result *, store_error *)) \
  T(store_interface, multipart_abort, int32_t (*)(store_handle *, const char *, const char *, const char *, store_error *)) \
  D(store_read_fn, int32_t (*)(void *, void *, size_t, size_t *)) \
  D(store_write_fn, int32_t (*)(void *, const void *, size_t)) \
  D(store_entry_fn, int32_t (*)(void *, const store_entry *)) \
  /* end */

#endif /* ST_LAYOUT_V1_0_H */
