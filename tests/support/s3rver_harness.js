#!/usr/bin/env node
// The S3-compatible server of garret's S3 tests: s3rver (pinned in the repo's
// package.json), behind a small front proxy that
//   - verifies every request's AWS Signature V4 (s3rver checks only the key
//     id), and the payload SHA-256 when one is signed: an independent check
//     of garret's signer beside the unit tests' AWS vectors;
//   - answers AbortMultipartUpload, which s3rver lacks;
//   - injects faults on request (HTTP errors, dropped connections, lost
//     responses, stalls, truncated bodies) and counts requests, for the
//     retry tests.
// s3rver's filesystem store writes objects in place; it is patched here to
// write a temp file and rename it, as S3 shows an object only once it is
// whole.
//
// Usage: node s3rver_harness.js <data-dir> <bucket>
// Prints one JSON line {"endpoint": "http://127.0.0.1:<port>", ...} once
// ready; exits when its standard input closes (the test process died).
//
// Control endpoints on the proxy (not S3):
//   POST /__harness/faults  body: [{"op": "UploadPart", "action": "503",
//                           "skip": 0, "count": 1}, ...] replaces the rules
//   GET  /__harness/stats   {"ops": {"PutObject": 3, ...}, "max_in_flight": 2,
//                           "faults": 1, "open_uploads": 0}
//   POST /__harness/reset   clears rules and counters
// Actions: "500", "503", "429", "403" (an S3 error response), "drop" (close
// the connection before forwarding), "drop-after" (forward, then close
// without answering: the request took effect, the client cannot know),
// "hang" (never answer), "truncate" (forward, send half of the body).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const S3rver = require(path.join(root, 'node_modules', 's3rver'));
const FilesystemStore = require(path.join(root, 'node_modules', 's3rver', 'lib', 'stores', 'filesystem'));

const [dataDir, bucket] = process.argv.slice(2);
if (!dataDir || !bucket) {
  process.stderr.write('usage: s3rver_harness.js <data-dir> <bucket>\n');
  process.exit(2);
}
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

// s3rver encrypts ListObjectsV2 continuation tokens with single DES, which
// OpenSSL 3 keeps in its legacy provider. Triple DES with three equal keys
// is the same cipher and is in the default provider.
for (const name of ['createCipheriv', 'createDecipheriv']) {
  const original = crypto[name];
  crypto[name] = (algorithm, key, iv, options) =>
    algorithm === 'des'
      ? original('des-ede3-cbc', Buffer.concat([key, key, key]), iv, options)
      : original(algorithm, key, iv, options);
}

// ---------------------------------------------------------------------------
// Atomic objects: write to a temp file, rename under a per-key lock that
// readers also take while they open the object.

const locks = new Map();
async function withLock(key, fn) {
  const previous = locks.get(key) || Promise.resolve();
  let release;
  const mine = new Promise(resolve => (release = resolve));
  const chain = previous.then(() => mine);
  locks.set(key, chain);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(key) === chain) locks.delete(key);
  }
}

const originalGetObject = FilesystemStore.prototype.getObject;
const originalDeleteObject = FilesystemStore.prototype.deleteObject;
FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const temp = `${objectPath}.tmp-${crypto.randomBytes(8).toString('hex')}`;
  const md5 = crypto.createHash('md5');
  let size = 0;
  await new Promise((resolve, reject) => {
    const out = fs.createWriteStream(temp);
    out.on('error', reject);
    out.on('close', resolve);
    if (Buffer.isBuffer(object.content)) {
      md5.update(object.content);
      size = object.content.length;
      out.end(object.content);
      return;
    }
    object.content.on('error', reject);
    object.content.on('data', chunk => {
      md5.update(chunk);
      size += chunk.length;
    });
    object.content.pipe(out);
  });
  const digest = md5.digest('hex');
  await withLock(`${object.bucket}/${object.key}`, async () => {
    await fs.promises.rename(temp, objectPath);
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  });
  return { size, md5: digest };
};
FilesystemStore.prototype.getObject = function getObject(bucketName, key, options) {
  return withLock(`${bucketName}/${key}`, () => originalGetObject.call(this, bucketName, key, options));
};
FilesystemStore.prototype.deleteObject = function deleteObject(bucketName, key) {
  return withLock(`${bucketName}/${key}`, () => originalDeleteObject.call(this, bucketName, key));
};

// ---------------------------------------------------------------------------
// SigV4 verification, written from the AWS documentation independently of
// garret's C++ signer.

function rfc3986(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
function decode(s) {
  return decodeURIComponent(s.replace(/\+/g, '%20'));
}
function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data).digest();
}
function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function verifySignature(req, body) {
  const auth = req.headers['authorization'];
  if (!auth) return 'no Authorization header';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'malformed Authorization header: ' + auth;
  const [, keyId, date8, region, signedHeaders, signature] = m;
  if (keyId !== ACCESS_KEY) return 'unknown access key ' + keyId;
  const amzDate = req.headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date8)) return 'x-amz-date does not match the credential date';
  const when = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!(Math.abs(Date.now() - when) < 15 * 60 * 1000)) return 'RequestTimeTooSkewed';
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!names.includes(required)) return `${required} is not signed`;
  }
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256(body)) return 'XAmzContentSHA256Mismatch';

  const [rawPath, rawQuery = ''] = req.url.split(/\?(.*)/s);
  const canonicalPath = rawPath.split('/').map(seg => rfc3986(decode(seg))).join('/');
  const canonicalQuery = rawQuery === '' ? '' : rawQuery.split('&').map(pair => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    return [rfc3986(decode(name)), rfc3986(decode(value))];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`).join('&');
  const values = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1].trim().replace(/ +/g, ' ');
    values[name] = name in values ? `${values[name]},${value}` : value;
  }
  for (const name of names) if (!(name in values)) return `signed header ${name} was not sent`;
  const canonical = [req.method, canonicalPath, canonicalQuery,
    names.map(n => `${n}:${values[n]}\n`).join(''), signedHeaders, payloadHash].join('\n');
  const scope = `${date8}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + SECRET_KEY, date8), region), 's3'), 'aws4_request');
  const expected = hmac(key, toSign).toString('hex');
  return expected === signature ? null : 'SignatureDoesNotMatch; canonical request:\n' + canonical;
}

// ---------------------------------------------------------------------------
// The proxy.

let rules = [];
let stats = { ops: {}, max_in_flight: 0, faults: 0, signature_failures: [] };
let inFlight = 0;

function operation(req) {
  const [rawPath, rawQuery = ''] = req.url.split('?');
  const query = new URLSearchParams(rawQuery);
  const hasKey = rawPath.split('/').filter(Boolean).length > 1;
  switch (req.method) {
    case 'HEAD': return hasKey ? 'HeadObject' : 'HeadBucket';
    case 'GET': return hasKey ? 'GetObject' : 'ListObjectsV2';
    case 'PUT': return query.has('partNumber') ? 'UploadPart' : hasKey ? 'PutObject' : 'CreateBucket';
    case 'POST': return query.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload';
    case 'DELETE': return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    default: return req.method;
  }
}

function takeFault(op) {
  for (const rule of rules) {
    if (rule.op !== op && rule.op !== '*') continue;
    if (rule.skip > 0) {
      rule.skip--;
      continue;
    }
    if (rule.count > 0) {
      rule.count--;
      stats.faults++;
      return rule.action;
    }
  }
  return null;
}

function s3ErrorBody(code, message) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function sendError(res, status, code, message, head) {
  const body = head ? '' : s3ErrorBody(code, message);
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const uploadsDir = () => path.join(dataDir, bucket, '._S3rver_uploads');

function openUploads() {
  try {
    return fs.readdirSync(uploadsDir()).length;
  } catch {
    return 0;
  }
}

function abortUpload(req, res) {
  const uploadId = new URLSearchParams(req.url.split('?')[1]).get('uploadId') || '';
  const dir = path.join(uploadsDir(), path.basename(uploadId));
  if (!uploadId || !fs.existsSync(dir)) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  fs.rmSync(dir, { recursive: true, force: true });
  res.writeHead(204);
  res.end();
}

function forward(req, body, target, onResponse) {
  const upstream = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, onResponse);
  upstream.on('error', () => req.socket.destroy());
  upstream.end(body);
}

function control(req, res, body) {
  const reply = obj => {
    const text = JSON.stringify(obj);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (req.url === '/__harness/faults' && req.method === 'POST') {
    rules = JSON.parse(body.toString() || '[]').map(r => ({ skip: 0, count: 1, ...r }));
    return reply({ ok: true });
  }
  if (req.url === '/__harness/stats') return reply({ ...stats, open_uploads: openUploads() });
  if (req.url === '/__harness/reset' && req.method === 'POST') {
    rules = [];
    stats = { ops: {}, max_in_flight: 0, faults: 0, signature_failures: [] };
    return reply({ ok: true });
  }
  res.writeHead(404);
  res.end();
}

function handle(req, res, body, target) {
  if (req.url.startsWith('/__harness/')) return control(req, res, body);
  const op = operation(req);
  const problem = verifySignature(req, body);
  if (problem) {
    stats.signature_failures.push(`${req.method} ${req.url}: ${problem}`);
    const code = problem.startsWith('RequestTimeTooSkewed') ? 'RequestTimeTooSkewed'
      : problem.startsWith('XAmz') ? 'XAmzContentSHA256Mismatch'
      : problem.startsWith('unknown access key') ? 'InvalidAccessKeyId' : 'SignatureDoesNotMatch';
    return sendError(res, code === 'XAmzContentSHA256Mismatch' ? 400 : 403, code, problem, req.method === 'HEAD');
  }
  stats.ops[op] = (stats.ops[op] || 0) + 1;
  const fault = takeFault(op);
  if (fault === 'drop') return req.socket.destroy();
  if (fault === 'hang') return;
  if (/^\d+$/.test(fault || '')) {
    const codes = { 500: 'InternalError', 503: 'SlowDown', 429: 'SlowDown', 403: 'AccessDenied', 400: 'InvalidRequest' };
    return sendError(res, Number(fault), codes[fault] || 'InternalError', 'injected fault', req.method === 'HEAD');
  }
  if (op === 'AbortMultipartUpload') return abortUpload(req, res);
  forward(req, body, target, upstream => {
    const chunks = [];
    upstream.on('data', c => chunks.push(c));
    upstream.on('end', () => {
      if (fault === 'drop-after') return req.socket.destroy();
      const data = Buffer.concat(chunks);
      res.writeHead(upstream.statusCode, upstream.headers);
      if (fault === 'truncate' && data.length > 1) {
        res.write(data.subarray(0, data.length >> 1));
        return setTimeout(() => req.socket.destroy(), 20);
      }
      res.end(data);
    });
  });
}

async function main() {
  fs.mkdirSync(dataDir, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: dataDir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port: target } = await server.run();
  const proxy = http.createServer((req, res) => {
    const counted = !req.url.startsWith('/__harness/');
    if (counted) {
      inFlight++;
      stats.max_in_flight = Math.max(stats.max_in_flight, inFlight);
      // 'finish' (all sent) comes before the client can start its next
      // request; 'close' covers responses that are never finished.
      let done = false;
      const leave = () => {
        if (!done) inFlight--;
        done = true;
      };
      res.on('finish', leave);
      res.on('close', leave);
    }
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks), target));
  });
  proxy.keepAliveTimeout = 30000;
  await new Promise(resolve => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${proxy.address().port}`;
  process.stdout.write(JSON.stringify({ endpoint, direct: `http://127.0.0.1:${target}`, bucket, access_key_id: ACCESS_KEY, secret_access_key: SECRET_KEY }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}

main().catch(err => {
  process.stderr.write(`s3rver harness: ${err.stack || err}\n`);
  process.exit(1);
});
