import { sh, type ShellText } from '../../src/remote/sh.js';

/**
 * A script a fault test rewrote as text (a path broken on purpose). Production code has no way
 * to turn a string into ShellText; a test that must, says so by calling this.
 */
export const rewrittenScript = (text: string): ShellText =>
  sh(Object.assign([text], { raw: [text] }) as unknown as TemplateStringsArray);
