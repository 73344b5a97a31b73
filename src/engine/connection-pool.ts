import type { ExecRequest, ExecResult, Transport } from '../remote/transport.js';

type Open = (alias: string) => Promise<Transport>;

interface Slot {
  alias: string;
  transport?: Transport;
  opening?: Promise<Transport>;
  busy: number;
  lastUsed: number;
}

/**
 * At most `limit` connections open at once (`--parallel`). With no more hosts than the
 * limit, each host keeps one connection for the whole run; beyond it, an idle host's
 * connection is closed (least recently used first) before another host's is opened, and
 * reopened when that host is needed again. The deploy lock lives on the server, so a
 * reconnect does not loosen it.
 */
export class ConnectionPool {
  private slots = new Map<string, Slot>();
  private waiting: (() => void)[] = [];
  /** Connections being closed still hold their place until their socket is gone. */
  private closing = 0;

  constructor(
    private readonly limit: number,
    private readonly open: Open,
  ) {}

  private get openCount(): number {
    return [...this.slots.values()].filter((s) => s.transport || s.opening).length + this.closing;
  }

  private async acquire(alias: string): Promise<Transport> {
    let slot = this.slots.get(alias);
    if (!slot) this.slots.set(alias, (slot = { alias, busy: 0, lastUsed: 0 }));
    slot.busy++;
    if (slot.transport) return slot.transport;
    if (slot.opening) return slot.opening;
    while (this.openCount >= this.limit) {
      const idle = [...this.slots.values()]
        .filter((s) => s.transport && s.busy === 0)
        .sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (idle) await this.closeSlot(idle);
      else await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    slot.opening = this.open(alias);
    try {
      slot.transport = await slot.opening;
      return slot.transport;
    } catch (e) {
      slot.busy--;
      this.wake();
      throw e;
    } finally {
      slot.opening = undefined;
    }
  }

  private release(alias: string): void {
    const slot = this.slots.get(alias);
    if (!slot) return;
    slot.busy--;
    slot.lastUsed = Date.now();
    this.wake();
  }

  private wake(): void {
    this.waiting.splice(0).forEach((resolve) => resolve());
  }

  private async closeSlot(slot: Slot): Promise<void> {
    const t = slot.transport;
    if (!t) return;
    slot.transport = undefined;
    this.closing++;
    try {
      await t.close().catch(() => undefined);
    } finally {
      this.closing--;
      this.wake();
    }
  }

  /** Runs fn with the host's connection held, so the pool will not close it meanwhile. */
  async with<T>(alias: string, fn: (t: Transport) => Promise<T>): Promise<T> {
    const t = await this.acquire(alias);
    try {
      return await fn(t);
    } finally {
      this.release(alias);
    }
  }

  /** A Transport for one host that borrows a pooled connection for each exec. */
  transportFor(alias: string, kind: Transport['kind']): Transport {
    return {
      kind,
      exec: (request: ExecRequest): Promise<ExecResult> => this.with(alias, (t) => t.exec(request)),
      close: async () => {
        const slot = this.slots.get(alias);
        if (slot && slot.busy === 0) await this.closeSlot(slot);
      },
    };
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.slots.values()].map((s) => this.closeSlot(s)));
  }
}
