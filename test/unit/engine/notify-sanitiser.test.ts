import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMask } from '../../../src/config/secrets.js';
import * as sanitise from '../../../src/definitions/sanitise.js';
import { notify, type RunSummary } from '../../../src/engine/notify.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { HOSTILE, rawControls } from '../../support/hostile.js';

// Watched, not replaced: notify must get its sanitiser here, where ui/ gets its own.
vi.mock('../../../src/definitions/sanitise.js', async (original) => {
  const real = await original<typeof sanitise>();
  return { ...real, createSanitiser: vi.fn(real.createSanitiser) };
});

const SECRET = 'hunter2-secret-value';
const mask = createMask([SECRET], {});

const summary = (message: string, host = 'web1'): RunSummary => ({
  event: 'failure',
  application: 'shop',
  selector: 'production',
  hosts: [{ host, status: 'failed', error: message }],
  user: 'alice',
  duration_ms: 1000,
  error: { code: 'ESTAGE', message },
});

/** What each target was sent, by kind, parsed back from the request body. */
let sent: Record<string, Record<string, unknown>>;

beforeEach(() => {
  sent = {};
  vi.stubGlobal('fetch', async (url: string, init: { body: string }) => {
    sent[new URL(url).pathname.slice(1)] = JSON.parse(init.body) as Record<string, unknown>;
    return new Response(null, { status: 200 });
  });
});
afterEach(() => vi.unstubAllGlobals());

const send = (s: RunSummary) =>
  notify({ webhook: 'https://hooks.test/webhook', slack: 'https://hooks.test/slack', on: ['failure'] }, s, {
    reporter: new MemoryReporter(),
    mask,
  });

describe('notifications pass the one sanitiser', () => {
  it('the webhook gets exactly what the sanitiser makes of the summary, from the sanitiser itself', async () => {
    const create = vi.mocked(sanitise.createSanitiser);
    create.mockClear();
    const s = summary(`${HOSTILE.join('\n')}\ntoken ${SECRET}`, HOSTILE[6]);
    await send(s);
    expect(create).toHaveBeenCalledWith({ mask });
    expect(sent.webhook).toEqual(create.mock.results[0]!.value.value(s));
  });

  it('masks first: a secret with a control character in it is hidden whole, not shown escaped', async () => {
    const bell = 'pass\u0007word-secret';
    await notify({ webhook: 'https://hooks.test/webhook', on: ['failure'] }, summary(`key ${bell}`), {
      reporter: new MemoryReporter(),
      mask: createMask([bell], {}),
    });
    expect(JSON.stringify(sent.webhook)).not.toMatch(/pass|word-secret/);
    expect(sent.webhook).toMatchObject({ error: { message: 'key ***' } });
  });

  it('shows control characters as text in the webhook and in the chat line', async () => {
    await send(summary('\u001b]0;pwned\u0007 title'));
    expect(sent.webhook).toMatchObject({ error: { message: '\\x1b]0;pwned\\x07 title' } });
    expect(sent.slack!.text).toContain('ESTAGE: \\x1b]0;pwned\\x07 title');
    expect(rawControls(String(sent.slack!.text))).toEqual([]);
  });

  it('leaves CI command syntax as written: a chat or a webhook is not a CI log', async () => {
    await send(summary('::error title=x::y ##[group]z'));
    expect(sent.webhook).toMatchObject({ error: { message: '::error title=x::y ##[group]z' } });
  });
});
