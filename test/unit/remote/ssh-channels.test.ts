import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sh } from '../../../src/remote/sh.js';
import { SshTransport } from '../../../src/remote/ssh.js';

/** An exec channel as SshTransport uses it: what was written to it, and an exit once stdin ends. */
class Channel extends EventEmitter {
  readonly stderr = new EventEmitter();
  readonly written: Buffer[] = [];
  write(chunk: Buffer, done?: () => void): boolean {
    this.written.push(chunk);
    done?.();
    return true;
  }
  end(): void {
    setImmediate(() => {
      this.emit('exit', 0);
      this.emit('close');
    });
  }
  close(): void {}
}

/** The order in which channels were asked for is the order the server answers them in. */
function client() {
  const opened: Channel[] = [];
  const c = Object.assign(new EventEmitter(), {
    exec(_command: string, cb: (err: Error | undefined, channel: Channel) => void) {
      const channel = new Channel();
      opened.push(channel);
      setImmediate(() => cb(undefined, channel));
    },
    end() {},
  });
  return { c, opened };
}

const sent = (ch: Channel | undefined) => Buffer.concat(ch?.written ?? []).toString();

describe('SshTransport channels', () => {
  it("asks for a phase's own channel before the one it opens ahead for the next phase", async () => {
    const { c, opened } = client();
    const transport = new SshTransport(c as never, 'web');
    const first = await transport.exec({ script: sh`echo first`, followedBy: true });
    expect(first.code).toBe(0);
    expect(opened).toHaveLength(2);
    expect(sent(opened[0])).toContain('echo first');
    expect(opened[1]!.written).toHaveLength(0);

    // The next phase takes the channel opened ahead: nothing new is asked for without followedBy.
    await transport.exec({ script: sh`echo second` });
    expect(opened).toHaveLength(2);
    expect(sent(opened[1])).toContain('echo second');
  });
});
