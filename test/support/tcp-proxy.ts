import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Most client connections that were open at the same moment. */
  maxConcurrent(): number;
  /** Client connections accepted in total. */
  accepted(): number;
  /** Bytes relayed server→client and client→server since start. */
  bytes(): { down: number; up: number };
  /**
   * How often the server answered after the client had spoken: each time a server→client chunk
   * follows a client→server one on the same connection. An upper bound of the request/response
   * waits (a stream that flows both ways at once counts more).
   */
  turns(): number;
  /** Cut every open connection now (as a dropped network would: RST, no goodbye). */
  cut(): void;
  /** Cut once the client has sent more than n bytes in total (counted across connections). */
  cutAfterUpload(n: number): void;
  /** Resolves when the client→server byte count first passes n. */
  whenUploaded(n: number): Promise<void>;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /**
   * Holds every chunk this long in each direction before passing it on (a round trip is twice
   * this), in order, without limiting bandwidth: a long link where this kernel has no netem.
   */
  delayMs?: number;
}

/** A TCP relay on 127.0.0.1 in front of sshd, for cutting connections mid-stage or delaying them. */
export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
  options: TcpProxyOptions = {},
): Promise<TcpProxy> {
  const delayMs = options.delayMs ?? 0;
  // Timers of one duration fire in the order they were set, so delayed chunks keep their order.
  const pass = (to: net.Socket, chunk: Buffer) =>
    delayMs > 0 ? setTimeout(() => to.destroyed || to.write(chunk), delayMs) : to.write(chunk);
  let turns = 0;
  const sockets = new Set<net.Socket>();
  let up = 0;
  let down = 0;
  let cutAt = Infinity;
  let open = 0;
  let peak = 0;
  let total = 0;
  const waiters: { n: number; resolve: () => void }[] = [];

  const cutAll = () => {
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
  };

  const server = net.createServer((client) => {
    total++;
    // Closed once the client has sent its FIN (or reset). The client sent that before it opened its
    // next connection, but one poll of this loop can hand us the accept of the next before the end
    // of the last (seen under load: a third of two under --parallel 2). So a connection counts from
    // the check phase after its accept, when every event of that poll has been handled.
    let counted = false;
    let gone = false;
    setImmediate(() => {
      if (gone) return;
      counted = true;
      peak = Math.max(peak, ++open);
    });
    const closed = () => {
      gone = true;
      if (counted) open--;
      counted = false;
    };
    client.once('end', closed).once('close', closed);
    const upstream = net.connect(targetPort, targetHost);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    let lastUp = false;
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk) => {
      up += chunk.length;
      for (const w of waiters.filter((x) => up >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      if (up >= cutAt) {
        cutAll();
        return;
      }
      lastUp = true;
      pass(upstream, chunk);
    });
    upstream.on('data', (chunk) => {
      down += chunk.length;
      if (lastUp) turns++;
      lastUp = false;
      pass(client, chunk);
    });
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    maxConcurrent: () => peak,
    accepted: () => total,
    bytes: () => ({ down, up }),
    turns: () => turns,
    cut: cutAll,
    cutAfterUpload: (n) => {
      cutAt = up + n;
    },
    whenUploaded: (n) =>
      up >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
