// The OCI test server's signature checks, driven by oci-common's DefaultRequestSigner (the
// signer Oracle's TypeScript SDK uses): what it signs is accepted; a tampered signature, a
// wrong body hash, a stale or future date, missing signed headers and an unknown key are
// 401 NotAuthenticated with an opc-request-id. Also the test hooks (oci/README.md): clock
// skew, page size, work-request delay and counters, each scoped to this test's bucket.
//
//   node test_oci_auth.js STATE_DIR      (the state dir of `server.sh start oci`)
"use strict";
const assert = require("assert");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const nm = path.join(__dirname, "..", "node", "node_modules");
const common = require(path.join(nm, "oci-common"));

const dir = path.resolve(process.argv[2] || process.env.XTSTORE_OCI_DIR || "");
const endpoint = fs.readFileSync(path.join(dir, "endpoint"), "utf8").trim();
process.chdir(dir);   // key_file in the config is relative
const provider = new common.ConfigFileAuthenticationDetailsProvider(path.join(dir, "config"),
                                                                     "DEFAULT");
const signer = new common.DefaultRequestSigner(provider);
const tenancy = provider.getTenantId();
const bucket = "auth-" + process.pid;
const sha = (s) => crypto.createHash("sha256").update(s).digest("base64");

// Signs with oci-common; `tamper` may edit the headers after signing.
// `wire` replaces the body sent (signed with `body`).
async function send(method, p, { body, excludeBody = false, headers = {}, tamper, wire } = {}) {
  const h = new Headers(headers);
  const req = { method, uri: endpoint + p, headers: h, body };
  await signer.signHttpRequest(req, excludeBody);
  if (tamper) tamper(h);
  const res = await fetch(endpoint + p, { method, headers: h, body: wire || body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text,
           json: text && res.headers.get("content-type") === "application/json"
             ? JSON.parse(text) : undefined };
}

// Signs by hand (date rather than x-date, any header list), as a client other than the npm
// signer may.
async function sendManual(method, p, signed, extra = {}) {
  const url = new URL(endpoint + p);
  const h = { host: url.host, date: new Date().toUTCString(), ...extra };
  const lines = signed.map((n) => n === "(request-target)"
    ? `(request-target): ${method.toLowerCase()} ${url.pathname}${url.search}`
    : `${n.toLowerCase()}: ${h[n.toLowerCase()]}`);
  const sig = crypto.sign("sha256", Buffer.from(lines.join("\n")),
                          fs.readFileSync(path.join(dir, "key.pem")));
  h.authorization = `Signature version="1",keyId="${await provider.getKeyId()}",` +
    `algorithm="rsa-sha256",headers="${signed.join(" ")}",signature="${sig.toString("base64")}"`;
  const res = await fetch(url, { method, headers: h });
  return { status: res.status, text: await res.text() };
}

function rejected(r, what) {
  assert.strictEqual(r.status, 401, `${what}: ${r.status} ${r.text}`);
  assert.strictEqual(r.json.code, "NotAuthenticated", what);
  assert.ok(r.json.message, what);
  assert.ok(r.headers.get("opc-request-id"), what);
}

async function hook(method, p, body) {
  const res = await fetch(endpoint + p, { method, body: body && JSON.stringify(body) });
  assert.ok(res.ok, `${method} ${p}: ${res.status}`);
  return res.status === 204 ? null : res.json();
}

async function main() {
  // What the npm signer produces is accepted: GET, POST with a JSON body, object PUT.
  let r = await send("GET", "/n/");
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json, "xtns");
  assert.ok(r.headers.get("opc-request-id"));
  const details = JSON.stringify({ name: bucket, compartmentId: tenancy });
  r = await send("POST", "/n/xtns/b/", { body: details });
  assert.strictEqual(r.status, 200, r.text);
  r = await send("PUT", `/n/xtns/b/${bucket}/o/a%2Fb.txt`, { body: "abc", excludeBody: true,
    headers: { "content-length": "3" } });
  assert.strictEqual(r.status, 200, r.text);
  r = await send("GET", `/n/xtns/b/${bucket}/o?prefix=a%2F&fields=name%2Csize`);
  assert.deepStrictEqual(r.json.objects, [{ name: "a/b.txt", size: 3 }]);

  // A hand-made signature over `date` (not x-date), header names in any case.
  r = await sendManual("GET", `/n/xtns/b/${bucket}`, ["Date", "(request-target)", "Host"]);
  assert.strictEqual(r.status, 200, r.text);
  r = await sendManual("GET", `/n/xtns/b/${bucket}`, ["date", "(request-target)"]);
  assert.strictEqual(r.status, 401, "host not signed");

  // Tampered signature, tampered request target, unknown key, no Authorization.
  rejected(await send("GET", "/n/", { tamper: (h) => h.set("authorization",
    h.get("authorization").replace(/signature="(.)/, (m, c) =>
      `signature="${c === "A" ? "B" : "A"}`)) }), "tampered signature");
  rejected(await send("GET", `/n/xtns/b/${bucket}`, { tamper: (h) => h.set("x-date",
    new Date(Date.parse(h.get("x-date")) - 1000).toUTCString()) }), "x-date changed after signing");
  rejected(await send("GET", "/n/", { tamper: (h) => h.set("authorization",
    h.get("authorization").replace(/keyId="[^"]*"/, 'keyId="t/u/00:11"')) }), "unknown keyId");
  const res = await fetch(endpoint + "/n/");
  assert.strictEqual(res.status, 401);
  assert.strictEqual((await res.json()).code, "NotAuthenticated");

  // The body hash: a wrong x-content-sha256, a body changed after signing, body headers
  // left out of a JSON POST.
  const other = JSON.stringify({ name: bucket + "-x", compartmentId: tenancy });
  rejected(await send("POST", "/n/xtns/b/", { body: other,
    tamper: (h) => h.set("x-content-sha256", sha("something else")) }), "x-content-sha256 changed");
  rejected(await send("POST", "/n/xtns/b/", { body: other, wire: other.replace("-x", "-y") }),
           "a body other than the signed one");
  rejected(await send("POST", "/n/xtns/b/", { body: other, excludeBody: true,
    headers: { "content-type": "application/json" } }), "POST without the body headers");
  r = await send("GET", "/n/xtns/b?compartmentId=" + encodeURIComponent(tenancy));
  assert.ok(!r.json.some((b) => b.name === bucket + "-x"), "a rejected create created");

  // The clock: 6 minutes off either way is refused, 4 minutes is fine.
  const at = (s) => new Date(Date.now() + s * 1000).toUTCString();
  rejected(await send("GET", "/n/", { headers: { "x-date": at(-360) } }), "stale date");
  rejected(await send("GET", "/n/", { headers: { "x-date": at(360) } }), "future date");
  assert.strictEqual((await send("GET", "/n/", { headers: { "x-date": at(-240) } })).status, 200);

  // Hooks, scoped to this bucket: the server's clock 10 minutes ahead refuses a correct
  // client there (and its Date header shows the server's time), not elsewhere.
  await hook("PUT", `/_test/config?bucket=${bucket}`, { clock_skew: 600 });
  r = await send("GET", `/n/xtns/b/${bucket}`);
  rejected(r, "client behind a skewed server");
  const skew = (Date.parse(r.headers.get("date")) - Date.now()) / 1000;
  assert.ok(skew > 590 && skew < 610, `Date header skew ${skew}`);
  assert.strictEqual((await send("GET", `/n/xtns/b/${bucket}`,
    { headers: { "x-date": at(600) } })).status, 200, "client corrected to the server's Date");
  assert.strictEqual((await send("GET", "/n/")).status, 200, "skew leaked past the bucket");

  // Page size 1: a listing without limit pages one object at a time.
  await hook("PUT", `/_test/config?bucket=${bucket}`, { clock_skew: 0, page_size: 1 });
  await send("PUT", `/n/xtns/b/${bucket}/o/c`, { body: "c", excludeBody: true,
    headers: { "content-length": "1" } });
  r = await send("GET", `/n/xtns/b/${bucket}/o`);
  assert.deepStrictEqual(r.json, { objects: [{ name: "a/b.txt" }], nextStartWith: "c" });

  // Work-request delay: the copy stays ACCEPTED while delayed, then COMPLETED.
  await hook("PUT", `/_test/config?bucket=${bucket}`, { work_request_delay: 1 });
  r = await send("POST", `/n/xtns/b/${bucket}/actions/copyObject`, { body: JSON.stringify({
    sourceObjectName: "c", destinationRegion: "us-ashburn-1", destinationNamespace: "xtns",
    destinationBucket: bucket, destinationObjectName: "d" }) });
  assert.strictEqual(r.status, 202, r.text);
  const wr = r.headers.get("opc-work-request-id");
  const states = [];
  for (let i = 0; i < 40 && states[states.length - 1] !== "COMPLETED"; i++) {
    states.push((await send("GET", `/workRequests/${wr}`)).json.status);
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(states.filter((s) => s === "ACCEPTED").length >= 2, states.join(","));
  assert.strictEqual(states[states.length - 1], "COMPLETED", states.join(","));
  assert.strictEqual((await send("GET", `/n/xtns/b/${bucket}/o/d`)).text, "c");

  // Counters for this bucket.
  const c = await hook("GET", `/_test/counters?bucket=${bucket}`);
  assert.strictEqual(c.PutObject, 2);
  assert.ok(c.NotAuthenticated >= 1 && c.GetWorkRequest === undefined, JSON.stringify(c));
  await hook("DELETE", `/_test/config?bucket=${bucket}`);

  for (const o of ["a%2Fb.txt", "c", "d"]) {
    assert.strictEqual((await send("DELETE", `/n/xtns/b/${bucket}/o/${o}`)).status, 204);
  }
  assert.strictEqual((await send("DELETE", `/n/xtns/b/${bucket}/`)).status, 204);
  console.log("ok: oci-common signer against", endpoint);
}

main().then(() => process.exit(0), (e) => {
  console.error("FAIL:", e && e.stack ? e.stack : e);
  process.exit(1);
});
