import type { Config, HostConfig } from '../config/schema.js';
import { DeployError, toDeployError } from '../definitions/errors.js';
import { fetchBundle, fetchedFiles, wgetCanFetch, type FetchTool } from '../source/artifact/fetch-bundle.js';
import { manifestKey, objectKey, type ArtifactStore } from '../source/artifact/store.js';
import { eachLimited } from '../source/pool.js';
import { contentOf } from '../source/source-info.js';
import { uploadStream } from '../source/upload-stream.js';
import { readReach, storeReach, type Reach } from '../stages/store-reach.js';
import type { SourceEntry } from '../source/scan.js';
import type { UploadPlan } from '../source/upload-plan.js';
import { each, healthy, type Fleet, type FleetHost } from './deploy-fleet.js';
import { runStages } from './executor.js';

/** How long the URL the store probe tries may be used: the probe follows at once. */
const REACH_URL_SECONDS = 120;
/** Presigning is local HMAC work; a few at once keep the event loop answering SSH meanwhile. */
const PRESIGN_AT_ONCE = 16;

const modeOf = (fleet: Fleet, h: FleetHost) => h.host.fetch ?? fleet.config.fetch;

/**
 * For a deploy of an artifact from an S3 store: which hosts fetch the files themselves. Hosts
 * set to `pull` or `auto` are asked whether they can reach the store (store-reach); `auto` falls
 * back to push, saying why, and `pull` fails the host (before anything is uploaded). Each pulling
 * host gets a fetch bundle (fetch-bundle.ts), put in the store once for every host with the same
 * plan, and a presigned URL to it in its upload plan.
 */
export async function planFetches(fleet: Fleet): Promise<void> {
  // A store that fails here (presigning, writing a bundle) fails every host: nothing is uploaded yet.
  await choosePullers(fleet).catch((e: unknown) => {
    for (const h of fleet.hosts) h.error ??= toDeployError(e, 'local');
  });
}

/** A store this machine can sign URLs for and put transient objects in (an S3 store). */
type SigningStore = ArtifactStore & Required<Pick<ArtifactStore, 'presign' | 'putTransient'>>;
const canSign = (s: ArtifactStore): s is SigningStore => !!s.presign && !!s.putTransient;

/**
 * Whether a host of this deploy may pull its files from the artifact store (an S3 store and a
 * host whose fetch is not push). Whether it does is known only once the store was asked
 * (planFetches); a dry run and the stage list go by this.
 */
export const mayPull = (config: Config, hosts: readonly { host: HostConfig }[]): boolean =>
  !!config.artifact &&
  config.artifacts.store.startsWith('s3://') &&
  hosts.some((s) => (s.host.fetch ?? config.fetch) !== 'push');

/** A host that may fetch: its upload plan has files the store holds. */
interface Candidate {
  h: FleetHost<'named'>;
  plan: UploadPlan;
  files: SourceEntry[];
}

async function choosePullers(fleet: Fleet): Promise<void> {
  const named = healthy(fleet, 'named');
  const artifact = named[0]?.progress.ctx.source.artifact;
  const store = artifact?.store;
  if (!artifact || !store?.remote || !canSign(store)) return;
  const candidates = named.flatMap((h): Candidate[] => {
    const plan = h.progress.ctx.upload;
    const files = plan ? fetchedFiles(plan) : [];
    return plan && modeOf(fleet, h) !== 'push' && files.length > 0 ? [{ h, plan, files }] : [];
  });
  if (candidates.length === 0) return;

  const reachUrl = await store.presign(manifestKey(artifact.id), REACH_URL_SECONDS);
  const reaches = new Map<string, Reach>();
  await each(
    fleet,
    candidates.map((c) => c.h),
    async (h) => {
      const out = await runStages(h.progress.runner, [storeReach], { ...h.progress.ctx, reachUrl });
      reaches.set(h.alias, readReach(out.stdout));
    },
  );

  const pulling: Puller[] = [];
  for (const { h, plan, files } of candidates) {
    const reach = reaches.get(h.alias);
    if (!reach) continue;
    const why = !reach.ok
      ? reach.reason
      : reach.tool === 'wget' && !wgetCanFetch(files)
        ? 'the host has only wget, which cannot be handed a path holding a newline'
        : undefined;
    if (why === undefined) {
      pulling.push({ h, plan, files, tool: reach.tool as FetchTool });
    } else if (modeOf(fleet, h) === 'pull') {
      h.error ??= new DeployError('EFETCH', { host: h.alias, reason: why });
    } else {
      fleet.reporter.log('warn', `fetch: auto: ${why}; the files go over SSH instead (push)`, h.alias);
    }
  }
  if (pulling.length === 0) return;
  await makeBundles(fleet, store, pulling);
}

/** A candidate that can reach the store, and the tool it fetches with. */
interface Puller extends Candidate {
  tool: FetchTool;
}

async function makeBundles(fleet: Fleet, store: SigningStore, pulling: Puller[]) {
  const expiry = fleet.config.artifacts.url_expiry;
  const shas = [...new Set(pulling.flatMap(({ files }) => files.flatMap((e) => e.oid ?? [])))];
  const urls = new Map<string, string>();
  const signed = await eachLimited(shas, PRESIGN_AT_ONCE, async (sha) => {
    urls.set(sha, await store.presign(objectKey(sha), expiry));
  });
  const failed = signed.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;

  // One time for every host's extras, so hosts with the same plan get the same bundle.
  const now = new Date();
  const put = new Map<string, { url: string; size: number }>();
  fleet.fetchBundles ??= [];
  for (const { h, plan, files, tool } of pulling) {
    const { ctx } = h.progress;
    const archive = await collect(
      uploadStream({
        content: contentOf(ctx.source),
        plan: { ...plan, compression: 'none' },
        release: ctx.release,
        revision: ctx.source.revision,
        token: ctx.lockToken,
        fetched: new Set(files.map((e) => e.path)),
        archiveOnly: true,
        now,
      }),
    );
    const mtime = Math.floor((files[0]?.mtimeMs ?? 0) / 1000);
    const bundle = fetchBundle(plan, tool, (sha) => signedUrl(urls, sha), archive, mtime);
    let at = put.get(bundle.sha256);
    if (!at) {
      const key = await store.putTransient(bundle.sha256, bundle.bytes);
      fleet.fetchBundles.push(key);
      at = { url: await store.presign(key, expiry), size: bundle.bytes.length };
      put.set(bundle.sha256, at);
    }
    plan.fetch = { layout: bundle.layout, bundle: { url: at.url, sha256: bundle.sha256, size: at.size } };
    fleet.reporter.log(
      'info',
      `fetch: pull: the host fetches ${bundle.layout.files} file(s), ${sizeText(bundle.layout.bytes)}, from the artifact store itself (${tool})`,
      h.alias,
    );
  }
}

/** Every file's URL was signed above; a missing one would be a bundle that cannot fetch. */
function signedUrl(urls: ReadonlyMap<string, string>, sha: string): string {
  const url = urls.get(sha);
  if (url === undefined)
    throw new DeployError('EINTERNAL', { reason: `no URL was signed for object ${sha}` });
  return url;
}

const sizeText = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.ceil(n / 1e3)} kB`;

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** The deploy's bundles leave the store once every host has read its own (or failed); never throws. */
export async function dropFetchBundles(fleet: Fleet, store: ArtifactStore | undefined): Promise<void> {
  const keys = fleet.fetchBundles ?? [];
  fleet.fetchBundles = [];
  for (const key of keys) {
    await store
      ?.deleteTransient?.(key)
      .catch((e: unknown) =>
        fleet.reporter.log(
          'warn',
          `could not remove the fetch bundle ${key} from the store: ${(e as Error).message}`,
        ),
      );
  }
}
