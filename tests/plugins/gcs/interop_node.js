// Google's Node client (@google-cloud/storage, tests/servers/node) on the
// xtstore side of tests/plugins/gcs/test_interop.sh:
//   node interop_node.js write BUCKET NAME FILE CONTENT_TYPE KEY=VALUE... [--resumable] [--gzip]
//   node interop_node.js read  BUCKET NAME OUT_FILE
// `read` prints the object's contentType and metadata as JSON on stdout
// (the bytes go to OUT_FILE, checked by the client's own validation).
// Auth as in tests/servers/gcs/test_node.js: the service account of
// $XTSTORE_GCS_DIR/sa.json signs its own JWTs (8.4.0 drops the credentials
// of resumable requests to a custom endpoint, so an interceptor adds them).
'use strict';
const fs = require('fs');
const path = require('path');

const nm = path.join(__dirname, '..', '..', 'servers', 'node', 'node_modules');
if (!fs.existsSync(path.join(nm, '@google-cloud', 'storage', 'package.json'))) {
  console.log('skip: @google-cloud/storage is not installed in tests/servers/node');
  process.exit(77);
}
const {Storage} = require(path.join(nm, '@google-cloud', 'storage'));
const {GoogleAuth} = require(path.join(nm, 'google-auth-library'));

async function main() {
  const dir = process.env.XTSTORE_GCS_DIR;
  const endpoint = fs.readFileSync(path.join(dir, 'endpoint'), 'utf8').trim();
  const sa = JSON.parse(fs.readFileSync(path.join(dir, 'sa.json'), 'utf8'));
  const auth = new GoogleAuth({
    credentials: sa,
    scopes: ['https://www.googleapis.com/auth/devstorage.read_write'],
  });
  auth.useJWTAccessWithScope = true;
  const storage = new Storage({apiEndpoint: endpoint, projectId: sa.project_id,
    authClient: auth, useAuthWithCustomEndpoint: true,
    retryOptions: {maxRetries: 1}});
  const authz = (await auth.getRequestHeaders()).get('authorization');
  storage.interceptors.push({request: reqOpts => {
    reqOpts.headers = {...(reqOpts.headers || {}), Authorization: authz};
    return reqOpts;
  }});
  const [mode, bname, name] = process.argv.slice(2, 5);
  const file = storage.bucket(bname).file(name);
  if (mode === 'write') {
    const [src, ctype, ...rest] = process.argv.slice(5);
    const resumable = rest.includes('--resumable');
    const gzip = rest.includes('--gzip');     // stored Content-Encoding: gzip
    const metadata = {};
    for (const kv of rest.filter(a => !a.startsWith('--'))) {
      const i = kv.indexOf('=');
      metadata[kv.slice(0, i)] = kv.slice(i + 1);
    }
    await storage.bucket(bname).upload(src, {destination: name, resumable, gzip,
      chunkSize: resumable ? 256 * 1024 : undefined, validation: 'crc32c',
      metadata: {contentType: ctype, metadata}});
  } else if (mode === 'read') {
    await file.download({destination: process.argv[5], validation: 'crc32c'});
    const [m] = await file.getMetadata();
    console.log(JSON.stringify({contentType: m.contentType, metadata: m.metadata || {}}));
  } else {
    throw new Error(`mode '${mode}' is not write or read`);
  }
}
main().catch(e => { console.error(`interop_node.js: ${e.message}`); process.exit(1); });
