import { describe, expect, it } from 'vitest';
import { usageErrorText } from '../../../src/ui/usage-error.js';

describe("commander's messages", () => {
  const message = "error: unknown option '--x\u001b]0;PWNED\u0007\r::error::fake ##vso[task.complete]'\n";

  it('show control characters as text and keep their own newline', () => {
    expect(usageErrorText(message, {})).toBe(
      "error: unknown option '--x\\x1b]0;PWNED\\x07\\x0d::error::fake ##vso[task.complete]'\n",
    );
  });

  it('neutralise the command syntax of the CI they are written to', () => {
    expect(usageErrorText(message, { TF_BUILD: 'True' })).toContain('##vso\\[task.complete]');
    expect(usageErrorText("'\n::error::fake'", { GITHUB_ACTIONS: 'true' })).toBe("'\n\\::error::fake'");
  });
});
