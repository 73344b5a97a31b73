import type { NotifyConfig, NotifyEvent } from '../config/notify-schema.js';
import type { Mask } from '../config/secrets.js';
import { createSanitiser } from '../definitions/sanitise.js';
import type { CiInfo } from '../layout/run-info.js';
import type { Reporter } from './reporter.js';

/** A notification that takes longer is given up on (a warning); it never holds a deploy for long. */
const NOTIFY_TIMEOUT_MS = 5000;

/** What a `webhook` receives as JSON, and what the chat messages are written from. */
export interface RunSummary {
  event: NotifyEvent;
  application: string;
  /** As typed (or default_selector). */
  selector: string;
  hosts: { host: string; status: string; release?: string; previous_release?: string; error?: string }[];
  release?: string;
  previous_release?: string;
  revision?: string;
  user: string;
  ci?: CiInfo;
  duration_ms: number;
  error?: { code: string; message: string };
}

const VERB: Record<NotifyEvent, string> = {
  start: 'deploying',
  success: 'deployed',
  failure: 'deploy failed',
  rollback: 'rolled back',
};
const ICON: Record<NotifyEvent, string> = { start: '🚀', success: '✅', failure: '❌', rollback: '↩️' };

/**
 * One line for a chat: what happened, where, by whom, and the error's first line. Names stay on
 * it: a newline in `application` or a user name would start a line that reads as another message.
 */
export function chatText(s: RunSummary): string {
  const { field } = createSanitiser();
  const failedRollback = s.event === 'rollback' && s.error;
  const hosts = field(s.hosts.map((h) => h.host).join(', '));
  const release = s.release ? ` ${field(s.release)}` : '';
  const head = `${ICON[s.event]} ${field(s.application)}: ${failedRollback ? 'rollback failed' : VERB[s.event]}${s.event === 'rollback' ? '' : release} on ${hosts}`;
  const by = `${field(s.user)}${s.ci?.url ? `, ${field(s.ci.url)}` : ''}`;
  const who = ` (${field(s.selector) || 'default selector'}, by ${by}, ${(s.duration_ms / 1000).toFixed(1)}s)`;
  const why = s.error ? `\n${s.error.code}: ${s.error.message.split('\n')[0]}` : '';
  return `${head}${who}${why}`;
}

/** Slack's mrkdwn reads `<…>` as links and mentions; its docs ask for these three escaped. */
const slackEscaped = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Target {
  kind: 'webhook' | 'slack' | 'discord';
  url: string;
  body: unknown;
}

function targets(config: NotifyConfig, s: RunSummary): Target[] {
  const text = chatText(s);
  const out: Target[] = [];
  if (config.webhook) out.push({ kind: 'webhook', url: config.webhook, body: s });
  if (config.slack) out.push({ kind: 'slack', url: config.slack, body: { text: slackEscaped(text) } });
  if (config.discord) {
    // No @everyone or role ping from a commit message or an error text.
    out.push({
      kind: 'discord',
      url: config.discord,
      body: { content: text.slice(0, 2000), allowed_mentions: { parse: [] } },
    });
  }
  return out;
}

async function post(t: Target, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(t.body),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? undefined : `answered ${res.status}`;
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    if (err.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
    return err.cause?.code ?? err.message;
  }
}

/**
 * Sends the summary to every configured target that wants this event, all at once. A target that
 * fails, refuses or takes longer than the timeout is a warning naming its kind, never its URL
 * (a chat webhook's URL is its password); nothing here throws or changes an exit code.
 */
export async function notify(
  config: NotifyConfig | undefined,
  summary: RunSummary,
  o: { reporter: Reporter; mask?: Mask; timeoutMs?: number },
): Promise<void> {
  if (!config || !config.on.includes(summary.event)) return;
  // A chat and a webhook are output too (an error message may quote a secret or a server's escape
  // sequences), but not a CI log: no CI's command syntax to neutralise.
  const safe = createSanitiser({ mask: o.mask }).value(summary);
  await Promise.all(
    targets(config, safe).map(async (t) => {
      const failed = await post(t, o.timeoutMs ?? NOTIFY_TIMEOUT_MS);
      if (failed) o.reporter.log('warn', `${t.kind} notification for ${summary.event} not sent: ${failed}`);
    }),
  );
}
