/* The smallest valid provider, built by the install test with nothing but
 * the installed header and pkg-config flags. With -DTINY_SDK it is built on
 * the installed SDK too (xtstore-sdk.pc) and calls into it when it opens. */
#include <store_interface.h>
#ifdef TINY_SDK
#include <sdk_util.h>
#endif

static int tiny_handle;

static int32_t t_open(const store_host_api *host, const store_kv *cfg, size_t n,
                      store_handle **out, store_error *err)
{
  (void)host; (void)cfg; (void)n; (void)err;
#ifdef TINY_SDK
  if (sdk_crc32c(0, "123456789", 9) != 0xe3069283u)
    return store_error_set(err, STORE_E_INTERNAL, "tiny: the SDK's CRC-32C");
#endif
  *out = (store_handle *)&tiny_handle;
  return STORE_OK;
}

static void t_close(store_handle *h) { (void)h; }

static int32_t t_missing(store_error *err)
{
  return store_error_set(err, STORE_E_NOT_FOUND, "tiny: nothing is stored");
}

static int32_t t_put(store_handle *h, const char *c, const char *k,
                     const store_put_opts *o, store_read_fn src, void *ud,
                     store_put_result *out, store_error *err)
{
  (void)h; (void)c; (void)k; (void)o; (void)src; (void)ud; (void)out;
  return store_error_set(err, STORE_E_PERMISSION, "tiny: read-only");
}

static int32_t t_get(store_handle *h, const char *c, const char *k,
                     const store_get_opts *o, store_write_fn sink, void *ud,
                     store_error *err)
{
  (void)h; (void)c; (void)k; (void)o; (void)sink; (void)ud;
  return t_missing(err);
}

static int32_t t_head(store_handle *h, const char *c, const char *k,
                      const store_head_opts *o, store_entry_fn cb, void *ud,
                      store_error *err)
{
  (void)h; (void)c; (void)k; (void)o; (void)cb; (void)ud;
  return t_missing(err);
}

static int32_t t_delete(store_handle *h, const char *c, const char *k,
                        const store_delete_opts *o, store_error *err)
{
  (void)h; (void)c; (void)k; (void)o;
  return t_missing(err);
}

static int32_t t_list(store_handle *h, const char *c, const store_list_opts *o,
                      store_entry_fn cb, void *ud, store_error *err)
{
  (void)h; (void)c; (void)o; (void)cb; (void)ud; (void)err;
  return STORE_OK;
}

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .name = "tiny",
  .version = "0.0.1",
  .description = "empty read-only store",
  .open = t_open,
  .close = t_close,
  .blob_put = t_put,
  .blob_get = t_get,
  .blob_head = t_head,
  .blob_delete = t_delete,
  .blob_list = t_list,
};
