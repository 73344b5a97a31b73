import { ciProviderOf, createSanitiser } from './sanitise.js';

/**
 * What commander writes to stderr itself (an unknown option, an invalid value, a missing
 * argument) quotes the command line, which is text from outside like any other, so it passes
 * the sanitiser too. No configuration is loaded yet, so there is no secret to mask; control
 * characters and the CI's command syntax are what is left to make harmless.
 */
export function usageErrorText(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return createSanitiser({ ci: ciProviderOf(env) }).text(text);
}
