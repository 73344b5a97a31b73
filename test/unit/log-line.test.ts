import { describe, expect, it } from 'vitest';
import { createMask } from '../../src/config/secrets.js';
import { appendLog, logEntry } from '../../src/stages/log-line.js';
import type { ReleaseContext } from '../../src/stages/types.js';

const ctx = {
  release: '20260101-000001',
  run: { user: 'ann', machine: 'laptop', pid: 1, started_at: '2026-01-01T00:00:00Z', command: 'deploy' },
  source: { root: '/src', entries: [] },
  mask: createMask(['tok-SECRET-123'], {}),
} as unknown as ReleaseContext;

describe('release log lines', () => {
  it('mask secrets in the reason written to the server (a health URL may carry a token)', () => {
    const entry = logEntry(ctx, 'failed', {
      reason: 'EHEALTH: GET https://x/health?t=tok-SECRET-123 answered 500',
    });
    expect(entry.reason).toBe('EHEALTH: GET https://x/health?t=*** answered 500');
    expect(appendLog('/srv/.deploy/releases.jsonl', entry).text).not.toContain('tok-SECRET-123');
  });
});
