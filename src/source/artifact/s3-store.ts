import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { DeployError } from '../../definitions/errors.js';
import { eachLimited } from '../pool.js';
import {
  idOfKey,
  manifestKey,
  objectKey,
  shaOfKey,
  transientKey,
  type ArtifactStore,
  type StoredArtifact,
} from './store.js';

interface S3Location {
  bucket: string;
  /** Without a trailing slash; '' for the bucket's root. */
  prefix: string;
}

export interface S3Settings {
  endpoint?: string;
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), as MinIO, Ceph and most self-hosted services need. */
  path_style?: boolean;
}

function parseS3Url(url: string): S3Location | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) return undefined;
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** Requests in flight at once: enough to hide a round trip each, few enough for any service's limits. */
const CONCURRENCY = 8;
/** Up to this many wanted objects are asked about one by one (HEAD); more, and one listing is cheaper. */
const HEAD_BELOW = 64;

/**
 * An S3-compatible bucket (AWS, MinIO, R2, Ceph) through the AWS SDK for JavaScript v3, loaded only
 * when a store is `s3://`. Credentials come from the SDK's standard chain: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_PROFILE and ~/.aws, SSO, web identity, instance
 * roles. Checksums are sent and checked only where the API requires them: the SDK's newer default
 * (a CRC32 header on every upload, chunked streaming bodies) is refused by several S3-compatible
 * services, and every object is checked against its sha256 on the way out anyway.
 */
export async function s3Store(url: string, settings: S3Settings): Promise<ArtifactStore> {
  const loc = parseS3Url(url)!;
  // The pinned SDK runs on Node 20 (its engines say >=20); it still warns on every run that later
  // releases will need Node 22. That is about versions we do not install: a user may set it to false.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const client: S3Client = new sdk.S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    region: settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: settings.path_style ?? settings.endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const label = `s3://${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ''}`;
  const full = (key: string) => (loc.prefix ? `${loc.prefix}/${key}` : key);
  const relative = (key: string) => (loc.prefix ? key.slice(loc.prefix.length + 1) : key);
  const Bucket = loc.bucket;
  const fail = (action: string, e: unknown): DeployError =>
    new DeployError('ESTORE', { store: label, action, reason: reasonOf(e) });

  const list = async (under: string): Promise<{ key: string; modified: Date }[]> => {
    const out: { key: string; modified: Date }[] = [];
    let token: string | undefined;
    do {
      const page = await client
        .send(new sdk.ListObjectsV2Command({ Bucket, Prefix: full(under), ContinuationToken: token }))
        .catch((e: unknown) => {
          throw fail(`list ${under}`, e);
        });
      for (const o of page.Contents ?? []) {
        if (o.Key) out.push({ key: relative(o.Key), modified: o.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  };
  const exists = async (key: string): Promise<boolean> => {
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket, Key: full(key) }));
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw fail(`read ${key}`, e);
    }
  };
  const put = async (key: string, body: Buffer | Readable, size: number) => {
    await client
      .send(new sdk.PutObjectCommand({ Bucket, Key: full(key), Body: body, ContentLength: size }))
      .catch((e: unknown) => {
        throw fail(`write ${key}`, e);
      });
  };
  const get = async (key: string) => {
    const r = await client.send(new sdk.GetObjectCommand({ Bucket, Key: full(key) }));
    return r;
  };
  const remove = async (keys: readonly string[]) => {
    const results = await eachLimited(keys, CONCURRENCY, (key) =>
      client.send(new sdk.DeleteObjectCommand({ Bucket, Key: full(key) })),
    );
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw fail('delete', failed.reason);
  };

  return {
    label,
    remote: true,
    hasObjects: async (shas) => {
      if (shas.length < HEAD_BELOW) {
        const found = await eachLimited(shas, CONCURRENCY, (sha) => exists(objectKey(sha)));
        const failed = found.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
        if (failed) throw failed.reason;
        return new Set(shas.filter((_, i) => (found[i] as PromiseFulfilledResult<boolean>).value));
      }
      const held = new Set((await list('objects/')).map((o) => shaOfKey(o.key)));
      return new Set(shas.filter((s) => held.has(s)));
    },
    putObject: (sha, size, body) => put(objectKey(sha), body(), size),
    getObject: async (sha) => {
      try {
        return (await get(objectKey(sha))).Body as Readable;
      } catch (e) {
        throw fail(`read ${objectKey(sha)}`, e);
      }
    },
    putManifest: (id, bytes) => put(manifestKey(id), bytes, bytes.length),
    getManifest: async (id) => {
      try {
        const r = await get(manifestKey(id));
        const bytes = Buffer.from(await r.Body!.transformToByteArray());
        return { bytes, stored: r.LastModified ?? new Date(0) };
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw fail(`read ${manifestKey(id)}`, e);
      }
    },
    listArtifacts: async () =>
      (await list('artifacts/')).flatMap((o): StoredArtifact[] => {
        const id = idOfKey(o.key);
        return id ? [{ id, stored: o.modified }] : [];
      }),
    listObjects: async () =>
      (await list('objects/')).map((o) => shaOfKey(o.key)).filter((s): s is string => s !== undefined),
    deleteArtifact: (id) => remove([manifestKey(id)]),
    deleteObjects: (shas) => remove(shas.map(objectKey)),
    presign: (key, expiresIn) =>
      getSignedUrl(client, new sdk.GetObjectCommand({ Bucket, Key: full(key) }), { expiresIn }),
    putTransient: async (name, bytes) => {
      const key = transientKey(name);
      await put(key, bytes, bytes.length);
      return key;
    },
    deleteTransient: (key) => remove([key]),
  };
}

const statusOf = (e: unknown): number | undefined =>
  (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/** The service's own words (its error code and message), never a request's URL or headers. */
function reasonOf(e: unknown): string {
  const err = e as { name?: string; message?: string };
  const status = statusOf(e);
  return [err.name, err.message, status ? `HTTP ${status}` : undefined].filter(Boolean).join(': ');
}
