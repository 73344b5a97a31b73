import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';

/*
 * The two parts of ssh2 a run uses, each loaded from its own file: ssh2's index also loads its
 * SSH server, key generation and HTTP agents (and node:http, node:https with them), about 15 ms
 * of every command's start. ssh2 is pinned (package.json); should a release move these files,
 * every test that connects fails, the first thing `npm test` would show.
 */
const load = createRequire(import.meta.url);

export const Client = load('ssh2/lib/client.js') as typeof ssh2.Client;
export const { parseKey } = load('ssh2/lib/protocol/keyParser.js') as Pick<typeof ssh2.utils, 'parseKey'>;
