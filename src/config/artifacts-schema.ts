import { z } from 'zod';

/** Where `deploy build` records artifacts when deploy.yml names no store (relative to deploy.yml; git-ignored). */
const DEFAULT_STORE = '.shipshape/artifacts';

const S3_URL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;

export const fetchMode = z
  .enum(['auto', 'push', 'pull'])
  .describe(
    'How a host gets an artifact’s files from an s3:// store. pull: the host fetches what it lacks straight from the store (curl or wget, presigned URLs); push: the deploying machine sends them over SSH; auto (default): pull when the host can reach the store, else push, saying so.',
  );

const artifactsSchema = z
  .strictObject({
    store: z
      .string()
      .min(1)
      .default(DEFAULT_STORE)
      .refine((s) => !s.startsWith('s3:') || S3_URL.test(s), {
        message: 'an S3 store is `s3://bucket` or `s3://bucket/prefix` (a lowercase bucket name)',
      })
      .describe(
        `Where \`deploy build\` records artifacts: a directory (default ${DEFAULT_STORE}, relative to deploy.yml) or \`s3://bucket/prefix\` on any S3-compatible service. Credentials come from the standard AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws).`,
      ),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe('The S3 service’s URL, for MinIO, R2, Ceph and the like; AWS when absent.'),
    region: z
      .string()
      .min(1)
      .optional()
      .describe('The bucket’s region (default: AWS_REGION, else us-east-1).'),
    path_style: z
      .boolean()
      .optional()
      .describe('Address the bucket as endpoint/bucket (default: true when `endpoint` is set).'),
    url_expiry: z
      .number()
      .int()
      .min(60)
      .max(43_200)
      .default(900)
      .describe('Seconds a presigned URL handed to a host stays valid (default 900).'),
  })
  .default({ store: DEFAULT_STORE, url_expiry: 900 })
  .describe('The artifact store: what `deploy build` writes and `deploy --artifact <id>` reads.');

export const artifactSettings = {
  artifacts: artifactsSchema,
  fetch: fetchMode.default('auto'),
  artifact: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Deploy this artifact (an id `deploy build` printed) instead of reading the source; `--artifact` overrides it.',
    ),
};
