/** One ProxyJump hop as written: `[user@]host[:port]`, or `[user@][v6addr]:port`. */
export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/**
 * Parses a hop the way ssh's parse_user_host_port() does; the `ssh://` URI form is accepted too.
 * Throws on anything else, so a typo is reported instead of becoming a host name.
 */
export function parseJump(spec: string): JumpSpec {
  const text = spec.trim().replace(/^ssh:\/\//, '');
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  const rest = at >= 0 ? text.slice(at + 1) : text;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:[\]\s]+)(?::(\d+))?$/.exec(rest);
  if (!m || !m[1] || user === '')
    throw new Error(`cannot read jump host \`${spec}\`: use [user@]host[:port]`);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new Error(`jump host \`${spec}\`: bad port`);
  return { ...(user ? { user } : {}), host: m[1], ...(port ? { port } : {}) };
}
