#!/usr/bin/env bash
# The conformance suite against the S3 provider on a fixture server:
#
#   run-conformance.sh CONFORMANCE_BIN PLUGIN_DIR s3rver|moto|moto-versioned|swift
#
# writes a config for the server (from ctest's XTSTORE_S3RVER_DIR /
# XTSTORE_MOTO_DIR / XTSTORE_SWIFT_DIR) and runs the suite, skipping exactly
# what that server lacks, each with its reason (printed by the suite).
# Everything else must pass.
set -u
bin=${1:?usage: run-conformance.sh CONFORMANCE_BIN PLUGIN_DIR SERVER}
export XTSTORE_PLUGIN_PATH=${2:?plugin dir}
server=${3:?server}
shift 3

case "$server" in
  s3rver) var=XTSTORE_S3RVER_DIR ;;
  moto | moto-versioned) var=XTSTORE_MOTO_DIR ;;
  swift) var=XTSTORE_SWIFT_DIR ;;
  *) echo "unknown server '$server'" >&2; exit 2 ;;
esac
dir=${!var:-}
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "skip: $var is not set (run through ctest)"
  exit 77
fi
if [ -f "$dir/unavailable" ]; then
  echo "skip: $server is unavailable: $(cat "$dir/unavailable")"
  exit 77
fi
endpoint=$(cat "$dir/endpoint") || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-s3conf.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp"
export XDG_STATE_HOME="$tmp/.local/state"
unset XTSTORE_CONFIG AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_PROFILE

skips=()
case "$server" in
  s3rver)
    ak=S3RVER sk=S3RVER
    # The default configuration: s3rver stores aws-chunked framing as
    # data, which the provider finds out on its first upload and falls
    # back from (plugins/s3/README.md).
    extra=''
    skips=(
      --skip 'blobs_if_none_match,blobs_if_match,multipart_if_none_match:s3rver ignores If-None-Match and If-Match on PUT and on CompleteMultipartUpload (testbed.md), so a conditional put always succeeds there'
      --skip 'blobs_delete_if_match,multipart_delete_if_match:s3rver ignores If-Match on HEAD and DELETE (boto3 too: a DeleteObject with a wrong If-Match gets 204 and deletes), so a conditional delete always deletes there (plugins/s3/README.md)'
      --skip 'multipart_abort,multipart_bad_token:s3rver has no AbortMultipartUpload (405, testbed.md) and does not check part ETags when completing'
      --skip 'snapshot_basic,snapshot_delete_base,snapshot_of_current_deleted:s3rver has no bucket versioning (?versioning is NotImplemented); S3 snapshots are object versions'
      --skip 'blobs_put_abort:s3rver keeps the part of an interrupted PUT it received (testbed.md), so an aborted put leaves a truncated object (S3 discards it)'
      --skip 'listing_delimiter:s3rver drops CommonPrefixes below the first level: prefix foo/ with delimiter / lists no foo/bar/ (its directory walk prunes them; /usr/bin/aws sees the same)'
      --skip 'listing_entries:s3rver answers a PUT before the object bytes are written (its putObject resolves when the body is read, not when the file write ends), so a listing right after the last put may show that object with size 0'
    )
    ;;
  moto | moto-versioned)
    read -r ak sk < "$dir/keys" || exit 1
    extra=''
    # moto recomputes SigV4 wrongly for a query holding %2F (delimiter=/,
    # prefix=a/) and for paths with non-ASCII bytes; /usr/bin/aws fails on
    # both the same way.
    moto_bug='moto rejects correct signatures of requests whose query has %2F or whose path has non-ASCII bytes (/usr/bin/aws fails the same way)'
    skips=(
      --skip "blobs_special_keys,listing_recursive,listing_delimiter,listing_root_delimiter,listing_start_after,listing_pages,listing_pages_delimiter:$moto_bug"
    )
    if [ "$server" = moto ]; then
      skips+=(--skip 'snapshot_basic,snapshot_delete_base,snapshot_of_current_deleted:buckets of this run are unversioned and S3 snapshots are object versions (the moto-versioned run has these cases, but snapshot_basic, which moto cannot pass: see there)')
    else
      # The whole suite again in versioned buckets. Deleting a blob there
      # lists its versions with the key as prefix: a key with '/' puts %2F
      # in the query, which moto's signature check gets wrong.
      extra=', versioned-buckets: "true"'
      skips+=(--skip "containers_empty_delete,blobs_small_text,snapshot_basic,large_streaming,concurrency_threads:in a versioned bucket deleting a key with '/' lists its versions with prefix=KEY, and $moto_bug")
    fi
    ;;
  swift)
    # The default configuration (no payload-signing): Swift's s3api
    # refuses the first aws-chunked body with NotImplemented and the
    # provider falls back to plain bodies (plugins/s3/README.md). Each
    # reason below is Swift's answer, as a real client gets it too (boto3;
    # /usr/bin/aws for versioning).
    read -r ak sk < "$dir/keys" || exit 1
    extra=''
    skips=(
      --skip "blobs_if_none_match,blobs_if_match:Swift's s3api refuses conditional PUTs: PutObject with If-None-Match: * or If-Match gets 501 NotImplemented 'Conditional object PUTs are not supported.'"
      --skip "snapshot_basic,snapshot_delete_base,snapshot_of_current_deleted:S3 snapshots are object versions, and Swift's s3api (this pipeline) has no bucket versioning: PutBucketVersioning gets 501 NotImplemented 'Not implemented.'"
    )
    ;;
esac

cat > "$tmp/xt.yaml" <<EOF
providers:
  storage:
    s3: "store-s3"
external-services:
  conf-s3: {type: "storage", provider: "s3", endpoint: "$endpoint", access-key: "$ak", secret-key: "$sk", addressing: "path"$extra}
xt-services:
  storage: "conf-s3"
EOF
"$bin" --config "$tmp/xt.yaml" --service conf-s3 \
  --large-mib "${XTSTORE_CONF_LARGE_MIB:-256}" "${skips[@]}" "$@"
