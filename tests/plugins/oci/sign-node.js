// sign-node.js -- the Authorization header npm oci-common's
// DefaultRequestSigner writes for one request, to compare ours with
// (test_signer_node.sh):
//   node sign-node.js NODE_MODULES KEYFILE KEYID METHOD URL XDATE [BODY|-object]
// BODY: a JSON body signed with the request; -object: a body left out of
// the signature, as oci-objectstorage's putObject and uploadPart send it.
"use strict";
const fs = require("fs");
const path = require("path");
const [mods, keyfile, keyid, method, url, xdate, body] = process.argv.slice(2);
const common = require(path.join(mods, "oci-common"));
const [tenancy, user, fingerprint] = keyid.split("/");
const auth = new common.SimpleAuthenticationDetailsProvider(
  tenancy, user, fingerprint, fs.readFileSync(keyfile, "utf8"), null,
  null);
const signer = new common.DefaultRequestSigner(auth);
const headers = new Headers();
headers.set("x-date", xdate);
const req = { method, uri: url, headers };
const object = body === "-object";
if (body !== undefined && !object) req.body = body;
signer.signHttpRequest(req, object).then(() => {
  process.stdout.write(headers.get("authorization") + "\n");
}, (e) => { console.error("sign-node.js: " + e.message); process.exit(1); });
