import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import S3rver from 's3rver';

/** s3rver's account registry: the harness adds a key pair of its own, so no test sees s3rver's default. */
const accounts = createRequire(import.meta.url)('s3rver/lib/models/account.js') as {
  DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
};

/**
 * A real S3-compatible HTTP server for the suite: s3rver (npm), which stores objects on disk and
 * speaks the S3 REST API the AWS SDK uses (ListObjectsV2, Put/Get/Head/DeleteObject, ranges,
 * presigned query authentication with its expiry). s3rver 3.7 accepts any V4 *signature* (its
 * source says the calculation is unimplemented), so this harness puts its own check in front:
 * every presigned (query-string) request is signed again here, independently of the SDK, from
 * the secret key, and refused with 403 SignatureDoesNotMatch unless the signatures agree. A URL
 * altered after signing, or signed with another key, fails as it would on AWS. Header-signed
 * requests (the SDK's own calls) are left to s3rver, which checks their access key.
 */
export interface S3Server {
  endpoint: string;
  port: number;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The environment the CLI gets: the standard AWS variables, nothing else. */
  env: Record<string, string>;
  /** Every request seen, in order. */
  requests: S3Request[];
  /** The object's file in s3rver's directory, to alter it behind the store's back. */
  objectFile(key: string): string;
  /** Answers each presigned request this much later (to watch a host's fetch while it runs). */
  delayPresigned(ms: number): void;
  stop(): Promise<void>;
}

export interface S3Request {
  method: string;
  key: string;
  presigned: boolean;
  status: number;
  /** Request body bytes (an upload's size). */
  bytesIn: number;
  /** The request line and headers, as sent. */
  headerBytes: number;
  userAgent: string;
}

const ACCESS_KEY = 'AKIASHIPSHAPETEST000';
const SECRET_KEY = 'ssTestSecret/7h3Kq9ZpL2xWvR8mN4bC6dF1gH5jK0lP';

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** The signature a presigned GET must carry, computed from the request as it arrived. */
function expectedSignature(
  method: string,
  rawPath: string,
  rawQuery: string,
  headers: Record<string, string | string[] | undefined>,
  secret: string,
): string | undefined {
  const params = rawQuery
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const at = kv.indexOf('=');
      const k = decodeURIComponent(at < 0 ? kv : kv.slice(0, at));
      const v = decodeURIComponent((at < 0 ? '' : kv.slice(at + 1)).replace(/\+/g, '%20'));
      return [k, v] as const;
    });
  const q = new Map(params);
  const date = q.get('X-Amz-Date');
  const credential = q.get('X-Amz-Credential');
  const signed = q.get('X-Amz-SignedHeaders');
  if (!date || !credential || !signed) return undefined;
  const [, day, region, service, term] = credential.split('/');
  const canonicalQuery = params
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signed.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n] ?? '').trim()}\n`).join('');
  const request = [method, rawPath, canonicalQuery, canonicalHeaders, signed, 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = `${day}/${region}/${service}/${term}`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(request).digest('hex')].join(
    '\n',
  );
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day!), region!), service!), term!);
  return createHmac('sha256', key).update(toSign).digest('hex');
}

export async function startS3Server(bucket = 'artifacts'): Promise<S3Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipshape-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  accounts.DUMMY_ACCOUNT.createKeyPair(ACCESS_KEY, SECRET_KEY);
  const requests: S3Request[] = [];
  let delay = 0;
  type Ctx = {
    method: string;
    path: string;
    querystring: string;
    headers: Record<string, string | string[] | undefined>;
    status: number;
    body: unknown;
    set(k: string, v: string): void;
  };
  const verify = async (ctx: Ctx, next: () => Promise<void>) => {
    const presigned = /(^|&)X-Amz-Signature=/.test(ctx.querystring);
    const row: S3Request = {
      method: ctx.method,
      key: decodeURIComponent(ctx.path.replace(/^\/[^/]+\/?/, '')),
      presigned,
      status: 0,
      bytesIn: Number(ctx.headers['content-length'] ?? 0),
      headerBytes:
        `${ctx.method} ${ctx.path}?${ctx.querystring} HTTP/1.1\r\n`.length +
        Object.entries(ctx.headers).reduce((n, [k, v]) => n + k.length + String(v).length + 4, 2),
      userAgent: String(ctx.headers['user-agent'] ?? ''),
    };
    requests.push(row);
    if (presigned && delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (presigned) {
      const given = /(?:^|&)X-Amz-Signature=([0-9a-f]+)/.exec(ctx.querystring)?.[1];
      const want = expectedSignature(ctx.method, ctx.path, ctx.querystring, ctx.headers, SECRET_KEY);
      if (!want || given !== want) {
        ctx.status = 403;
        ctx.set('Content-Type', 'application/xml');
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code></Error>';
        row.status = 403;
        return;
      }
    }
    await next();
    row.status = ctx.status;
  };
  // Koa composes its middleware when the server starts: first in the list runs first.
  (server as unknown as { middleware: unknown[] }).middleware.unshift(verify);
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    env: { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'us-east-1' },
    requests,
    objectFile: (key) => path.join(dir, bucket, `${key}._S3rver_object`),
    delayPresigned: (ms) => {
      delay = ms;
    },
    stop: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
