import { z } from 'zod';

/** Moments a notification may be sent for; `start` is opt-in. */
const NOTIFY_EVENTS = ['start', 'success', 'failure', 'rollback'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

const url = (what: string) =>
  z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(`${what} Write it as \`\${VAR}\` to keep it out of deploy.yml; it is masked in all output.`);

export const notifySchema = z
  .strictObject({
    webhook: url(
      'Receives a JSON POST per event: event, application, selector, hosts with their status, release, previous release, revision, user, CI job, duration, error.',
    ),
    slack: url('A Slack incoming-webhook URL; gets one message per event.'),
    discord: url('A Discord webhook URL; gets one message per event.'),
    on: z
      .array(z.enum(NOTIFY_EVENTS))
      .default(['success', 'failure', 'rollback'])
      .describe(
        'Events that notify: start (opt-in), success, failure (a deploy that failed, was interrupted or switched back), rollback (`deploy rollback`).',
      ),
  })
  .describe(
    'Notifications, sent from the deploying machine. One that fails or takes longer than 5 s is a warning; it never fails the deploy.',
  );

export type NotifyConfig = z.output<typeof notifySchema>;
