// Google's Node client (@google-cloud/storage, tests/servers/node) against the GCS test
// server: uploads (resumable and not, several chunks, with the client's own CRC32C/MD5
// validation), metadata, paged listing, download compared byte for byte, precondition
// failures, and both credential kinds:
// - the service account from DIR/sa.json signs its own JWTs (google-auth-library's
//   JWTAccess; its token grant always goes to Google's fixed URL, so a local server
//   can only see self-signed JWTs from it), which the server verifies with RS256;
// - the authorized_user from DIR/user.json does the refresh-token grant against the
//   server's /token (UserRefreshClient with endpoints.oauth2TokenUrl).
//   node test_node.js WORK_DIR      (the server: $XTSTORE_GCS_DIR, ctest fixture gcs)
// Exit 77 (skipped) when the client is not installed (scripts/setup.sh --test does it).
'use strict';
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const nm = path.join(__dirname, '..', 'node', 'node_modules');
if (!fs.existsSync(path.join(nm, '@google-cloud', 'storage', 'package.json'))) {
  console.log('skip: @google-cloud/storage is not installed in tests/servers/node');
  process.exit(77);
}
const {Storage} = require(path.join(nm, '@google-cloud', 'storage'));
const {GoogleAuth, UserRefreshClient} = require(path.join(nm, 'google-auth-library'));

const dir = process.env.XTSTORE_GCS_DIR;
const work = process.argv[2];
if (!dir || !work) {
  console.log('usage: XTSTORE_GCS_DIR=STATE_DIR node test_node.js WORK_DIR');
  process.exit(2);
}
const endpoint = fs.readFileSync(path.join(dir, 'endpoint'), 'utf8').trim();
const sa = JSON.parse(fs.readFileSync(path.join(dir, 'sa.json'), 'utf8'));
const user = JSON.parse(fs.readFileSync(path.join(dir, 'user.json'), 'utf8'));
fs.mkdirSync(work, {recursive: true});

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   - ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL - ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 12).join(' | ') : e}`);
  }
}

async function hook(p, body) {
  const r = await fetch(endpoint + '/_test/' + p, body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: body === null ? '' : JSON.stringify(body)});
  assert.strictEqual(r.status, 200, `hook ${p}: ${r.status}`);
  return r.json();
}

function storageWith(authClient) {
  return new Storage({
    apiEndpoint: endpoint,
    projectId: sa.project_id,
    authClient,
    useAuthWithCustomEndpoint: true,
    retryOptions: {maxRetries: 1},
  });
}

async function main() {
  const auth = new GoogleAuth({
    credentials: sa,
    scopes: ['https://www.googleapis.com/auth/devstorage.full_control'],
  });
  auth.useJWTAccessWithScope = true;
  const storage = storageWith(auth);
  // 8.4.0's File#startResumableUpload_ drops useAuthWithCustomEndpoint, so resumable
  // uploads to a custom endpoint go out without credentials (createURI alone keeps
  // it): give its requests the same self-signed JWT through an interceptor.
  const authz = (await auth.getRequestHeaders()).get('authorization');
  assert.match(authz, /^Bearer ey/);
  storage.interceptors.push({request: reqOpts => {
    reqOpts.headers = {...(reqOpts.headers || {}), Authorization: authz};
    return reqOpts;
  }});
  const bname = `node-${process.pid}`;
  const bucket = storage.bucket(bname);
  const big = crypto.randomBytes(3 * 1024 * 1024 + 12345);
  const bigFile = path.join(work, 'big.bin');
  fs.writeFileSync(bigFile, big);

  await check('create bucket (versioning, labels)', async () => {
    const [b] = await storage.createBucket(bname, {versioning: {enabled: true}, labels: {team: 'xt'}});
    const [m] = await b.getMetadata();
    assert.strictEqual(m.versioning.enabled, true);
    assert.deepStrictEqual(m.labels, {team: 'xt'});
  });

  await check('upload resumable, 256 KiB chunks, checksums validated', async () => {
    await bucket.upload(bigFile, {destination: 'dir/big.bin', resumable: true,
      chunkSize: 256 * 1024, validation: 'crc32c', metadata: {contentType: 'application/x-test'}});
    const ups = Object.values(await hook('uploads')).filter(u => u.bucket === bname && u.name === 'dir/big.bin');
    assert.strictEqual(ups.length, 1);
    assert.ok(ups[0].done && ups[0].puts >= 13, `puts ${ups[0].puts}`);
  });

  await check('upload resumable in one request (no chunkSize)', async () => {
    await bucket.upload(bigFile, {destination: 'one.bin', resumable: true});
    const [m] = await bucket.file('one.bin').getMetadata();
    assert.strictEqual(m.size, String(big.length));
    assert.strictEqual(m.md5Hash, crypto.createHash('md5').update(big).digest('base64'));
  });

  await check('upload not resumable (multipart), metadata', async () => {
    await bucket.file('dir/small.txt').save('hello gcs\n', {resumable: false,
      metadata: {contentType: 'text/plain', metadata: {color: 'blue'}}});
    const [m] = await bucket.file('dir/small.txt').getMetadata();
    assert.strictEqual(m.contentType, 'text/plain');
    assert.deepStrictEqual(m.metadata, {color: 'blue'});
    assert.strictEqual(m.size, '10');
    assert.match(m.generation, /^\d+$/);
  });

  await check('set metadata (patch): metageneration 2', async () => {
    const f = bucket.file('dir/small.txt');
    await f.setMetadata({contentType: 'text/x-note', metadata: {color: null, shape: 'round'}});
    const [m] = await f.getMetadata();
    assert.strictEqual(m.contentType, 'text/x-note');
    assert.deepStrictEqual(m.metadata, {shape: 'round'});
    assert.strictEqual(m.metageneration, '2');
  });

  await check('download: bytes equal, crc32c and md5 validated by the client', async () => {
    const [got] = await bucket.file('dir/big.bin').download({validation: true});
    assert.ok(got.equals(big));
    const [r] = await bucket.file('dir/big.bin').download({start: 100, end: 299});
    assert.ok(r.equals(big.subarray(100, 300)));
  });

  await check('list with paging (2 a page) and a delimiter', async () => {
    for (let i = 0; i < 5; i++) await bucket.file(`p/${i}`).save(`x${i}`, {resumable: false});
    // maxResults, not the page_size hook: the fixture is shared with other tests.
    const names = [];
    let query = {prefix: 'p/', autoPaginate: false, maxResults: 2};
    let pages = 0;
    while (query && pages < 10) {
      const [page, next] = await bucket.getFiles(query);
      names.push(...page.map(f => f.name));
      pages++;
      query = next;
    }
    assert.deepStrictEqual(names, ['p/0', 'p/1', 'p/2', 'p/3', 'p/4']);
    assert.strictEqual(pages, 3);
    const [all] = await bucket.getFiles({prefix: 'p/'});
    assert.deepStrictEqual(all.map(f => f.name), names);
    const [files, , resp] = await bucket.getFiles({delimiter: '/', autoPaginate: false});
    assert.deepStrictEqual(resp.prefixes, ['dir/', 'p/']);
    assert.deepStrictEqual(files.map(f => f.name), ['one.bin']);
  });

  await check('ifGenerationMatch: 0 refuses an existing object (412)', async () => {
    await assert.rejects(bucket.file('one.bin').save('z', {resumable: false,
      preconditionOpts: {ifGenerationMatch: 0}}), e => e.code === 412);
  });

  await check('versions: an overwrite keeps the noncurrent generation', async () => {
    const f = bucket.file('v.txt');
    await f.save('one', {resumable: false});
    const [m1] = await f.getMetadata();
    await f.save('two', {resumable: false});
    const [files] = await bucket.getFiles({prefix: 'v.txt', versions: true});
    assert.deepStrictEqual(files.map(x => x.metadata.generation).length, 2);
    const [old] = await bucket.file('v.txt', {generation: m1.generation}).download();
    assert.strictEqual(old.toString(), 'one');
  });

  await check('compose: componentCount, crc32c, no md5Hash', async () => {
    await bucket.combine(['p/0', 'p/1', 'p/2'], 'composed');
    const [m] = await bucket.file('composed').getMetadata();
    assert.strictEqual(m.componentCount, 3);
    assert.ok(m.crc32c && m.md5Hash === undefined);
    const [got] = await bucket.file('composed').download();
    assert.strictEqual(got.toString(), 'x0x1x2');
  });

  await check('rewrite (copy) of a 3 MiB object past a 1 MiB threshold: token loop', async () => {
    await hook('config', {rewrite_threshold: 1024 * 1024});
    const calls = [];
    const icp = {request: reqOpts => {
      if (/rewriteTo/.test(reqOpts.uri || reqOpts.url || '')) calls.push(reqOpts.qs || {});
      return reqOpts;
    }};
    storage.interceptors.push(icp);
    try {
      await bucket.file('dir/big.bin').copy(bucket.file('copy.bin'));
    } finally {
      storage.interceptors.splice(storage.interceptors.indexOf(icp), 1);
      await hook('config', {rewrite_threshold: null});
    }
    const [got] = await bucket.file('copy.bin').download();
    assert.ok(got.equals(big));
    assert.ok(calls.length >= 4, `rewriteTo calls: ${calls.length}`);
    assert.ok(calls.slice(1).every(q => q.rewriteToken), 'later calls carry the token');
  });

  await check('authorized_user: refresh-token grant at the server, then a read', async () => {
    const client = new UserRefreshClient({clientId: user.client_id,
      clientSecret: user.client_secret, refreshToken: user.refresh_token,
      endpoints: {oauth2TokenUrl: endpoint + '/token'}});
    const before = (await hook('counters')).token_grants;
    const [got] = await storageWith(client).bucket(bname).file('dir/small.txt').download();
    assert.strictEqual(got.toString(), 'hello gcs\n');
    // At least: tests sharing the fixture may take grants meanwhile.
    assert.ok((await hook('counters')).token_grants >= before + 1, 'no grant');
  });

  await check('expired tokens: 401 from storage', async () => {
    const client = new UserRefreshClient({clientId: user.client_id,
      clientSecret: user.client_secret, refreshToken: user.refresh_token,
      endpoints: {oauth2TokenUrl: endpoint + '/token'}});
    const {token} = await client.getAccessToken();
    await hook('expire-tokens?token=' + encodeURIComponent(token), null);
    const r = await fetch(`${endpoint}/storage/v1/b/${bname}/o`, {headers: {Authorization: `Bearer ${token}`}});
    assert.strictEqual(r.status, 401);
    assert.strictEqual((await r.json()).error.errors[0].reason, 'authError');
  });

  // V4 signed URLs made by Google's own signer (gcs_signed.py verifies them).
  await check('V4 signed URLs by the client: GET, PUT, tampered and wrong method 403', async () => {
    const file = bucket.file('dir/small.txt');
    const [getUrl] = await file.getSignedUrl({version: 'v4', action: 'read',
      expires: Date.now() + 10 * 60 * 1000});
    let r = await fetch(getUrl);
    assert.strictEqual(r.status, 200);
    assert.strictEqual(await r.text(), 'hello gcs\n');
    r = await fetch(getUrl.replace(/X-Goog-Signature=./, m => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0')));
    assert.strictEqual(r.status, 403);
    const [putUrl] = await bucket.file('signed.txt').getSignedUrl({version: 'v4',
      action: 'write', expires: Date.now() + 10 * 60 * 1000});
    r = await fetch(putUrl, {method: 'PUT', body: 'signed put\n'});
    assert.strictEqual(r.status, 200);
    const [got] = await bucket.file('signed.txt').download();
    assert.strictEqual(got.toString(), 'signed put\n');
    assert.strictEqual((await fetch(putUrl)).status, 403);
  });

  await check('cleanup: delete files and bucket', async () => {
    const [files] = await bucket.getFiles({versions: true});
    for (const f of files) await f.delete();
    await bucket.delete();
  });

  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch(e => { console.log(`FAIL - ${e.stack}`); process.exit(1); });
