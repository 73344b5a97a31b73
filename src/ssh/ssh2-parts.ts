import type ssh2 from 'ssh2';
import client from 'ssh2/lib/client.js';
import keyParser from 'ssh2/lib/protocol/keyParser.js';

/*
 * The two parts of ssh2 a run uses, each imported from its own file: ssh2's index also loads its
 * SSH server, key generation and HTTP agents (and node:http, node:https with them), about 15 ms
 * of every command's start. Static imports, so that the bin's bundle holds them and V8's code
 * cache covers them (scripts/bundle.mjs). ssh2 is pinned (package.json); should a release move
 * these files, every test that connects fails, the first thing `npm test` would show.
 */
export const Client = client as typeof ssh2.Client;
export const { parseKey } = keyParser as Pick<typeof ssh2.utils, 'parseKey'>;
