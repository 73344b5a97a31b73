import { describe, expect, it } from 'vitest';
import { parseJump } from '../../../src/ssh/jump.js';

describe('parseJump', () => {
  it('reads [user@]host[:port] like ssh -J', () => {
    expect(parseJump('bastion')).toEqual({ host: 'bastion' });
    expect(parseJump('ops@bastion.example.com:2222')).toEqual({
      user: 'ops',
      host: 'bastion.example.com',
      port: 2222,
    });
    expect(parseJump(' ssh://ops@10.0.0.1:22 ')).toEqual({ user: 'ops', host: '10.0.0.1', port: 22 });
    expect(parseJump('[2001:db8::1]:2200')).toEqual({ host: '2001:db8::1', port: 2200 });
    expect(parseJump('a@b@c')).toEqual({ user: 'a@b', host: 'c' });
  });

  it('rejects what would otherwise become a strange host name', () => {
    for (const bad of ['', '@host', 'host:', 'host:99999', 'host:0', 'a:b:c', 'host name']) {
      expect(() => parseJump(bad), bad).toThrow(/jump host/);
    }
  });
});
