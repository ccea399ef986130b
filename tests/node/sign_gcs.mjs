// sign_gcs.mjs - the reference signer for tests/e2e/test_sign_gcs.py: signs the cases it reads
// (JSON lines on stdin) with @google-cloud/storage's V4 URL signer and prints one JSON line per
// case: {"url", "signed_path", "canonical_request"} or {"error"}.
//
//   node sign_gcs.mjs <unix seconds>
//
// The clock is frozen at the given second: the SDK reads the time from `new Date()` (the
// signing time) and compares expiry with it, so the global Date is replaced by one whose
// argument-less constructor and now() return that instant.
//
// Cases use the SDK's public File.getSignedUrl({version: 'v4', action, ...}) where an action
// exists (GET 'read', PUT 'write', DELETE 'delete'); HEAD and the multipart POSTs have no
// action, so they go to the URLSigner that getSignedUrl itself delegates to, with the method
// given. Path style passes the endpoint as `host`, virtual-hosted addressing passes
// `cname: scheme://<bucket>.<host>` (the SDK's own virtualHostedStyle is fixed to
// storage.googleapis.com).
//
// RSA cases sign through the SDK's own auth client (google-auth-library, local RSA-SHA256 with
// the service-account key). The SDK has no HMAC signing: for HMAC cases the SDK still builds
// the canonical request, the string to sign and the URL, and two shims change only what is
// RSA-specific: X-Goog-Algorithm (in the signed query and the URL) becomes GOOG4-HMAC-SHA256,
// and the auth object's sign() rewrites the string to sign's algorithm line and signs it with
// the GOOG4 HMAC key chain (Google's "signing with HMAC keys" derivation, written out here).
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(import.meta.url);
const NOW_MS = Number(process.argv[2]) * 1000;
if (!Number.isInteger(NOW_MS)) {
  process.stderr.write('usage: node sign_gcs.mjs <unix seconds>\n');
  process.exit(2);
}

const RealDate = Date;
class FrozenDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(NOW_MS);
    else super(...args);
  }
  static now() {
    return NOW_MS;
  }
}
globalThis.Date = FrozenDate;

const { Storage } = require('@google-cloud/storage');
const { URLSigner } = require(path.join(path.dirname(require.resolve('@google-cloud/storage')), 'signer.js'));

// HMAC shim 1: the algorithm parameter (the object is the one the URL is built from too).
const canonicalQuery = URLSigner.prototype.getCanonicalQueryParams;
URLSigner.prototype.getCanonicalQueryParams = function (query) {
  if (this.hmacKey) query['X-Goog-Algorithm'] = 'GOOG4-HMAC-SHA256';
  return canonicalQuery.call(this, query);
};
// Records what was signed, for the report (and the path the URL should carry).
const canonicalRequest = URLSigner.prototype.getCanonicalRequest;
URLSigner.prototype.getCanonicalRequest = function (method, resourcePath, ...rest) {
  const creq = canonicalRequest.call(this, method, resourcePath, ...rest);
  this.lastSigned = { path: resourcePath, creq };
  return creq;
};

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data).digest();
}

// HMAC shim 2: an auth object in place of google-auth-library's.
function hmacAuth(accessId, secret) {
  return {
    async getCredentials() {
      return { client_email: accessId };
    },
    async sign(blob) {
      const lines = blob.split('\n');
      if (lines[0] !== 'GOOG4-RSA-SHA256') throw new Error('unexpected string to sign');
      lines[0] = 'GOOG4-HMAC-SHA256';
      let key = hmac('GOOG4' + secret, lines[2].split('/')[0]);
      for (const part of ['auto', 'storage', 'goog4_request']) key = hmac(key, part);
      return hmac(key, lines.join('\n')).toString('base64');
    },
  };
}

const storages = new Map();
function storageFor(c) {
  const sa = c.credentials.service_account_json;
  const k = sa || '';
  if (!storages.has(k)) {
    const opts = { projectId: 'loci-test' };
    if (sa) {
      const j = JSON.parse(sa);
      opts.credentials = { client_email: j.client_email, private_key: j.private_key };
    }
    storages.set(k, new Storage(opts));
  }
  return storages.get(k);
}

async function sign(c) {
  const storage = storageFor(c);
  const bucket = storage.bucket(c.bucket);
  const file = bucket.file(c.key);
  const hmacKey = c.credentials.hmac_access_id ? c.credentials : null;
  const signer = new URLSigner(hmacKey ? hmacAuth(hmacKey.hmac_access_id, hmacKey.hmac_secret) : storage.authClient, bucket, file, storage);
  signer.hmacKey = !!hmacKey;
  file.signer = signer; // File.getSignedUrl uses it as its own

  const base = new URL(c.public_host || c.endpoint || 'https://storage.googleapis.com');
  const cfg = { version: 'v4', expires: NOW_MS + c.expires * 1000 };
  if (c.path_style) cfg.host = `${base.protocol}//${base.host}`;
  else cfg.cname = `${base.protocol}//${c.bucket}.${base.host}`;

  const op = c.op || 'object';
  const ext = {};
  let url;
  if (op === 'object' && c.method === 'GET') {
    if (c.response_content_type !== undefined) cfg.responseType = c.response_content_type;
    if (c.response_content_disposition !== undefined) cfg.responseDisposition = c.response_content_disposition;
    [url] = await file.getSignedUrl({ ...cfg, action: 'read' });
  } else if (op === 'object' && c.method === 'PUT') {
    if (c.content_type !== undefined) cfg.contentType = c.content_type;
    if (c.content_length !== undefined) {
      ext['content-length'] = String(c.content_length);
      ext['x-goog-content-length-range'] = `${c.content_length},${c.content_length}`;
    }
    if (c.sha256 !== undefined) ext['x-goog-content-sha256'] = c.sha256.toLowerCase();
    [url] = await file.getSignedUrl({ ...cfg, action: 'write', extensionHeaders: ext });
  } else if (op === 'object' && c.method === 'DELETE') {
    [url] = await file.getSignedUrl({ ...cfg, action: 'delete' });
  } else if (op === 'object' && c.method === 'HEAD') {
    url = await signer.getSignedUrl({ ...cfg, method: 'HEAD' });
  } else if (op === 'part') {
    if (c.content_length !== undefined) ext['content-length'] = String(c.content_length);
    const queryParams = { partNumber: String(c.part_number), uploadId: c.mp_id };
    [url] = await file.getSignedUrl({ ...cfg, action: 'write', extensionHeaders: ext, queryParams });
  } else if (op === 'mp_create') {
    if (c.content_type !== undefined) cfg.contentType = c.content_type;
    url = await signer.getSignedUrl({ ...cfg, method: 'POST', queryParams: { uploads: '' } });
  } else if (op === 'mp_complete') {
    url = await signer.getSignedUrl({ ...cfg, method: 'POST', queryParams: { uploadId: c.mp_id } });
  } else if (op === 'mp_abort') {
    [url] = await file.getSignedUrl({ ...cfg, action: 'delete', queryParams: { uploadId: c.mp_id } });
  } else {
    throw new Error(`unknown case ${op} ${c.method}`);
  }
  return { url, signed_path: signer.lastSigned.path, canonical_request: signer.lastSigned.creq };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
for await (const line of rl) {
  if (!line.trim()) continue;
  try {
    out.push(JSON.stringify(await sign(JSON.parse(line))));
  } catch (err) {
    out.push(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  }
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
