// Fidelity of the OCI test server, proved by Oracle's own TypeScript SDK (npm
// oci-objectstorage + oci-common 2.142.1, tests/servers/node): a config-file profile, bucket
// create/get/list, PutObject with metadata and Content-MD5, the UploadManager's multipart
// upload, ListObjects paging and prefixes, GetObject (whole and ranged), HeadObject,
// versions, copy with work-request polling, multipart list/abort, deletes.
//
//   node test_oci_sdk.js STATE_DIR      (the state dir of `server.sh start oci`)
"use strict";
const assert = require("assert");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const nm = path.join(__dirname, "..", "node", "node_modules");
const common = require(path.join(nm, "oci-common"));
const os = require(path.join(nm, "oci-objectstorage"));

const dir = path.resolve(process.argv[2] || process.env.XTSTORE_OCI_DIR || "");
const endpoint = fs.readFileSync(path.join(dir, "endpoint"), "utf8").trim();
const md5 = (b) => crypto.createHash("md5").update(b).digest();
const b64 = (b) => b.toString("base64");

async function body(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

function client(profile) {
  // key_file in the config is relative (as the migrator's were); oci-common resolves it
  // against the working directory.
  process.chdir(dir);
  const p = new common.ConfigFileAuthenticationDetailsProvider(path.join(dir, "config"), profile);
  const c = new os.ObjectStorageClient({ authenticationDetailsProvider: p });
  c.endpoint = endpoint;
  return { c, tenancy: p.getTenantId() };
}

async function main() {
  const { c, tenancy } = client("DEFAULT");
  const ns = (await c.getNamespace({})).value;
  assert.strictEqual(ns, "xtns");
  // The pass-phrase profile signs too (key-enc.pem, traditional PEM with DEK-Info).
  assert.strictEqual((await client("ENCRYPTED").c.getNamespace({})).value, "xtns");
  assert.strictEqual((await client("DATAFLOW").c.getNamespace({})).value, "xtns");

  const bucket = "sdk-" + process.pid;
  const created = await c.createBucket({
    namespaceName: ns,
    createBucketDetails: { name: bucket, compartmentId: tenancy, metadata: { team: "xt" },
                           versioning: os.models.CreateBucketDetails.Versioning.Enabled },
  });
  assert.strictEqual(created.bucket.name, bucket);
  const got = await c.getBucket({ namespaceName: ns, bucketName: bucket });
  assert.deepStrictEqual(got.bucket.metadata, { team: "xt" });
  assert.strictEqual(got.bucket.versioning, "Enabled");
  assert.ok(got.eTag);
  const listed = await c.listBuckets({ namespaceName: ns, compartmentId: tenancy });
  assert.ok(listed.items.some((b) => b.name === bucket));
  await assert.rejects(c.createBucket({ namespaceName: ns,
    createBucketDetails: { name: bucket, compartmentId: tenancy } }),
    (e) => e.statusCode === 409 && e.serviceCode === "BucketAlreadyExists");

  // PutObject with metadata, content type and Content-MD5.
  const small = Buffer.from("hello, oracle\n");
  const put = await c.putObject({ namespaceName: ns, bucketName: bucket, objectName: "dir/a.txt",
    putObjectBody: small, contentLength: small.length, contentType: "text/plain",
    contentMD5: b64(md5(small)), opcMeta: { color: "blue" } });
  assert.strictEqual(put.opcContentMd5, b64(md5(small)));
  assert.ok(put.eTag && put.versionId && put.lastModified);
  await assert.rejects(c.putObject({ namespaceName: ns, bucketName: bucket, objectName: "bad",
    putObjectBody: small, contentLength: small.length, contentMD5: b64(md5(Buffer.from("x"))),
    retryConfiguration: common.NoRetryConfigurationDetails }), (e) => e.statusCode === 400);
  await assert.rejects(c.putObject({ namespaceName: ns, bucketName: bucket,
    objectName: "dir/a.txt", putObjectBody: small, contentLength: small.length, ifNoneMatch: "*",
    retryConfiguration: common.NoRetryConfigurationDetails }),
    (e) => e.statusCode === 409 && e.serviceCode === "IfNoneMatchFailed");

  // The UploadManager: 1 MiB parts force a multipart upload of 3.5 MiB.
  const big = crypto.randomBytes(3.5 * 1024 * 1024);
  const um = new os.UploadManager(c, { partSize: 1024 * 1024, enforceMD5: true,
                                       maxConcurrentUploads: 2 });
  const up = await um.upload({ content: { blob: new Blob([big]) },
    requestDetails: { namespaceName: ns, bucketName: bucket, objectName: "dir/sub/big.bin",
                      contentType: "application/x-test", opcMeta: { kind: "big" } } });
  const parts = [0, 1, 2, 3].map((i) => md5(big.subarray(i << 20, (i + 1) << 20)));
  const mpMd5 = b64(md5(Buffer.concat(parts))) + "-4";
  assert.strictEqual(up.multipartMd5, mpMd5);

  // A few more objects, then list with paging (limit 2) and with a delimiter.
  for (const n of ["e/1", "e/2", "f", "g"]) {
    await c.putObject({ namespaceName: ns, bucketName: bucket, objectName: n,
      putObjectBody: Buffer.from(n), contentLength: n.length });
  }
  const names = [];
  let start;
  let pages = 0;
  do {
    const r = await c.listObjects({ namespaceName: ns, bucketName: bucket, limit: 2, start,
                                    fields: "name,size,md5,etag,timeCreated,timeModified" });
    names.push(...r.listObjects.objects.map((o) => o.name));
    for (const o of r.listObjects.objects) {
      assert.ok(o.etag && o.md5 && o.timeCreated && o.timeModified && o.size >= 1, o.name);
    }
    start = r.listObjects.nextStartWith;
    pages++;
  } while (start);
  assert.deepStrictEqual(names, ["dir/a.txt", "dir/sub/big.bin", "e/1", "e/2", "f", "g"]);
  assert.strictEqual(pages, 3);
  const delim = await c.listObjects({ namespaceName: ns, bucketName: bucket, delimiter: "/",
                                      prefix: "dir/" });
  assert.deepStrictEqual(delim.listObjects.objects.map((o) => o.name), ["dir/a.txt"]);
  assert.deepStrictEqual(delim.listObjects.prefixes, ["dir/sub/"]);
  assert.strictEqual(delim.listObjects.objects[0].size, undefined);   // fields default: name
  const all = [];
  for await (const o of c.listObjectsRecordIterator({ namespaceName: ns, bucketName: bucket,
                                                      limit: 1 })) all.push(o.name);
  assert.deepStrictEqual(all, names);

  // GetObject whole and ranged, HeadObject: bytes and metadata.
  const g = await c.getObject({ namespaceName: ns, bucketName: bucket,
                                objectName: "dir/sub/big.bin" });
  assert.ok((await body(g.value)).equals(big));
  assert.strictEqual(g.opcMultipartMd5, mpMd5);
  assert.strictEqual(g.contentType, "application/x-test");
  assert.deepStrictEqual(g.opcMeta, { "opc-meta-kind": "big" });
  const r = await c.getObject({ namespaceName: ns, bucketName: bucket,
                                objectName: "dir/sub/big.bin",
                                range: new common.Range(1000, 1999) });
  assert.ok((await body(r.value)).equals(big.subarray(1000, 2000)));
  assert.strictEqual(r.contentLength, 1000);
  const h = await c.headObject({ namespaceName: ns, bucketName: bucket, objectName: "dir/a.txt" });
  assert.strictEqual(h.contentLength, small.length);
  assert.strictEqual(h.contentMd5, b64(md5(small)));
  assert.strictEqual(h.contentType, "text/plain");
  assert.strictEqual(h.eTag, put.eTag);
  assert.deepStrictEqual(h.opcMeta, { "opc-meta-color": "blue" });
  await assert.rejects(c.headObject({ namespaceName: ns, bucketName: bucket, objectName: "nope" }),
    (e) => e.statusCode === 404);
  await assert.rejects(c.getObject({ namespaceName: ns, bucketName: bucket, objectName: "nope" }),
    (e) => e.statusCode === 404 && e.serviceCode === "ObjectNotFound");

  // Versions: overwrite, list both, read the old one by versionId.
  await c.putObject({ namespaceName: ns, bucketName: bucket, objectName: "dir/a.txt",
    putObjectBody: Buffer.from("v2"), contentLength: 2 });
  const vs = await c.listObjectVersions({ namespaceName: ns, bucketName: bucket,
                                          prefix: "dir/a.txt" });
  assert.deepStrictEqual(vs.objectVersionCollection.items.map((v) => v.versionId),
    [vs.objectVersionCollection.items[0].versionId, put.versionId]);
  const old = await c.getObject({ namespaceName: ns, bucketName: bucket, objectName: "dir/a.txt",
                                  versionId: put.versionId });
  assert.ok((await body(old.value)).equals(small));

  // CopyObject: 202 + work request, polled to COMPLETED by the SDK's waiter.
  const cp = await c.copyObject({ namespaceName: ns, bucketName: bucket, copyObjectDetails: {
    sourceObjectName: "dir/sub/big.bin", destinationRegion: "us-ashburn-1",
    destinationNamespace: ns, destinationBucket: bucket, destinationObjectName: "copy.bin" } });
  assert.ok(cp.opcWorkRequestId);
  const first = await c.getWorkRequest({ workRequestId: cp.opcWorkRequestId });
  assert.strictEqual(first.workRequest.status, "ACCEPTED");
  const done = await c.createWaiters().forWorkRequest({ workRequestId: cp.opcWorkRequestId });
  assert.strictEqual(done.workRequest.status, "COMPLETED");
  const cg = await c.getObject({ namespaceName: ns, bucketName: bucket, objectName: "copy.bin" });
  assert.ok((await body(cg.value)).equals(big));
  assert.deepStrictEqual(cg.opcMeta, { "opc-meta-kind": "big" });

  // Multipart by hand: list uploads and parts, abort.
  const mu = await c.createMultipartUpload({ namespaceName: ns, bucketName: bucket,
    createMultipartUploadDetails: { object: "aborted" } });
  const uid = mu.multipartUpload.uploadId;
  await c.uploadPart({ namespaceName: ns, bucketName: bucket, objectName: "aborted",
    uploadId: uid, uploadPartNum: 1, uploadPartBody: Buffer.from("part"), contentLength: 4 });
  const ups = await c.listMultipartUploads({ namespaceName: ns, bucketName: bucket });
  assert.deepStrictEqual(ups.items.map((u) => u.uploadId), [uid]);
  const ps = await c.listMultipartUploadParts({ namespaceName: ns, bucketName: bucket,
                                                objectName: "aborted", uploadId: uid });
  assert.deepStrictEqual(ps.items.map((p) => [p.partNumber, p.size, p.md5]),
                         [[1, 4, b64(md5(Buffer.from("part")))]]);
  await c.abortMultipartUpload({ namespaceName: ns, bucketName: bucket, objectName: "aborted",
                                 uploadId: uid });
  assert.strictEqual((await c.listMultipartUploads({ namespaceName: ns, bucketName: bucket }))
    .items.length, 0);

  // Pre-authenticated requests (oci_par.py): created, read through its accessUri
  // without signing, fetched and deleted by id; after deletion the URL is refused.
  const until = new Date(Date.now() + 10 * 60 * 1000);
  const par = (await c.createPreauthenticatedRequest({ namespaceName: ns, bucketName: bucket,
    createPreauthenticatedRequestDetails: { name: "sdk-par", objectName: "dir/a.txt",
      accessType: os.models.CreatePreauthenticatedRequestDetails.AccessType.ObjectRead,
      timeExpires: until } })).preauthenticatedRequest;
  assert.ok(par.id && par.accessUri.startsWith("/p/"));
  const viaPar = await fetch(endpoint + par.accessUri);
  assert.strictEqual(viaPar.status, 200);
  const current = await body((await c.getObject({ namespaceName: ns, bucketName: bucket,
                                                  objectName: "dir/a.txt" })).value);
  assert.ok(Buffer.from(await viaPar.arrayBuffer()).equals(current));
  assert.strictEqual((await fetch(endpoint + par.accessUri, { method: "PUT", body: "x" })).status,
                     404);
  const gotPar = (await c.getPreauthenticatedRequest({ namespaceName: ns, bucketName: bucket,
    parId: par.id })).preauthenticatedRequestSummary;
  assert.strictEqual(gotPar.accessType, "ObjectRead");
  await c.deletePreauthenticatedRequest({ namespaceName: ns, bucketName: bucket, parId: par.id });
  assert.strictEqual((await fetch(endpoint + par.accessUri)).status, 404);

  // Cleanup: a non-empty bucket refuses deletion; every version goes, then the bucket.
  await assert.rejects(c.deleteBucket({ namespaceName: ns, bucketName: bucket }),
    (e) => e.statusCode === 409 && e.serviceCode === "BucketNotEmpty");
  const every = await c.listObjectVersions({ namespaceName: ns, bucketName: bucket });
  for (const v of every.objectVersionCollection.items) {
    await c.deleteObject({ namespaceName: ns, bucketName: bucket, objectName: v.name,
                           versionId: v.versionId });
  }
  await c.deleteBucket({ namespaceName: ns, bucketName: bucket });
  await assert.rejects(c.getBucket({ namespaceName: ns, bucketName: bucket }),
    (e) => e.statusCode === 404 && e.serviceCode === "BucketNotFound");
  console.log("ok: oci-objectstorage SDK against", endpoint);
}

main().then(() => process.exit(0), (e) => {
  console.error("FAIL:", e && e.stack ? e.stack : e);
  process.exit(1);
});
