import type { Client } from 'ssh2';

type Sign = (data: Buffer, done: (signature: Buffer) => void) => void;

/** The one method of ssh2's client protocol (private; ssh2 is pinned) this file wraps. */
interface ClientProtocol {
  authPK(username: string, key: unknown, keyAlgo?: string, sign?: Sign): void;
}

interface KeyFile {
  isPrivateKey(): boolean;
  sign(data: Buffer, hash?: string): Buffer | Error;
}

/** The hash ssh2 signs with for each RSA signature algorithm; other key types carry their own. */
const HASH_OF: Readonly<Record<string, string>> = {
  'rsa-sha2-256': 'sha256',
  'rsa-sha2-512': 'sha512',
  'ssh-rsa': 'sha1',
};

const isKeyFile = (key: unknown): key is KeyFile => {
  const k = key as Partial<KeyFile> | null;
  return typeof k?.isPrivateKey === 'function' && typeof k.sign === 'function' && k.isPrivateKey();
};

/**
 * ssh2 offers a key file's public half first and signs only once the server says it would take
 * it: one round trip more per connection (40 ms of every deploy 20 ms away), for nothing, as the
 * private key is at hand. RFC 4252 (7) lets a client send the signed request at once; a server
 * that refuses the key answers it as it answers the query, and ssh2 goes on to its next key
 * algorithm or method. A key held by an agent is left to ask first: signing may need its
 * user's confirmation, which only a key the server accepts should cost. Call right after
 * `connect()`, before the handshake can reach authentication; without the method (another ssh2)
 * nothing changes.
 */
export function signKeyFilesAtOnce(client: Client): void {
  const proto = (client as unknown as { _protocol?: Partial<ClientProtocol> })._protocol;
  if (typeof proto?.authPK !== 'function') return;
  const authPK = proto.authPK.bind(proto);
  proto.authPK = (username, key, keyAlgo, sign) => {
    if (sign || !isKeyFile(key)) return authPK(username, key, keyAlgo, sign);
    authPK(username, key, keyAlgo, (data, done) => {
      const signature = key.sign(data, keyAlgo ? HASH_OF[keyAlgo] : undefined);
      if (signature instanceof Error) throw signature;
      done(signature);
    });
  };
}
