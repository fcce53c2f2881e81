// interop.js -- Oracle's own TypeScript client (npm oci-objectstorage and
// oci-common, tests/servers/node) writing and reading objects for
// test_interop.sh, against the OCI test server with its config file:
//   node interop.js STATE_DIR put BUCKET KEY FILE CONTENT_TYPE [NAME=VALUE...] [:FIELD=VALUE...]
//   node interop.js STATE_DIR upload BUCKET KEY FILE CONTENT_TYPE [NAME=VALUE...]
//   node interop.js STATE_DIR get BUCKET KEY OUT
// put is one PutObject (:FIELD: one of its content headers, e.g.
// :contentEncoding=gzip); upload is the UploadManager's multipart upload
// (1 MiB parts). get writes the bytes to OUT and prints
// {"contentType": ..., "metadata": {NAME: VALUE}} (names without opc-meta-),
// plus "headers": {FIELD: VALUE} when the object has any of CONTENT_FIELDS.
"use strict";
const fs = require("fs");
const path = require("path");
const nm = path.join(__dirname, "..", "..", "servers", "node", "node_modules");
const common = require(path.join(nm, "oci-common"));
const os = require(path.join(nm, "oci-objectstorage"));

const [dir, verb, bucket, key, file, ctype, ...args] = process.argv.slice(2);
const CONTENT_FIELDS = ["contentEncoding", "contentLanguage", "contentDisposition",
                        "cacheControl"];
const split = (p) => p.split(/=(.*)/s).slice(0, 2);
const pairs = args.filter((p) => !p.startsWith(":"));
const fields = Object.fromEntries(args.filter((p) => p.startsWith(":"))
                                      .map((p) => split(p.slice(1))));

async function main() {
  // key_file in the fixture's config is relative: oci-common resolves it
  // against the working directory.
  process.chdir(dir);
  const auth = new common.ConfigFileAuthenticationDetailsProvider(
    path.join(dir, "config"), "DEFAULT");
  const c = new os.ObjectStorageClient({ authenticationDetailsProvider: auth });
  c.endpoint = fs.readFileSync(path.join(dir, "endpoint"), "utf8").trim();
  const ns = (await c.getNamespace({})).value;
  const meta = Object.fromEntries(pairs.map(split));
  const where = { namespaceName: ns, bucketName: bucket, objectName: key };
  if (verb === "put") {
    const body = fs.readFileSync(file);
    await c.putObject({ ...where, putObjectBody: body, contentLength: body.length,
                        contentType: ctype, opcMeta: meta, ...fields });
  } else if (verb === "upload") {
    const um = new os.UploadManager(c, { partSize: 1024 * 1024, enforceMD5: true });
    await um.upload({ content: { blob: new Blob([fs.readFileSync(file)]) },
                      requestDetails: { ...where, contentType: ctype, opcMeta: meta } });
  } else if (verb === "get") {
    const r = await c.getObject(where);
    const chunks = [];
    for await (const ch of r.value) chunks.push(Buffer.from(ch));
    fs.writeFileSync(file, Buffer.concat(chunks));
    const md = {};
    for (const [k, v] of Object.entries(r.opcMeta || {}))
      md[k.replace(/^opc-meta-/, "")] = v;
    const out = { contentType: r.contentType, metadata: md };
    const hs = Object.fromEntries(CONTENT_FIELDS.filter((f) => r[f]).map((f) => [f, r[f]]));
    if (Object.keys(hs).length)
      out.headers = hs;
    process.stdout.write(JSON.stringify(out) + "\n");
  } else {
    throw new Error("unknown verb " + verb);
  }
}
main().catch((e) => { console.error("interop.js: " + (e.message || e)); process.exit(1); });
