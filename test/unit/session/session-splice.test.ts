// Session.spliceTx: the transport sends a source after the tx fifo; fifo writes are refused afterwards
// (they would go out of order), and txReady schedules output like a write does.
import { describe, expect, it } from 'vitest';
import { Session, type SessionOwner } from '../../../src/session/session.js';
import type { TcpTxSource } from '../../../src/net/tcp/types.js';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import { Harness, bytes } from '../tcp/harness.js';

function source(data: Uint8Array): TcpTxSource & { dropped: number } {
  return {
    dropped: 0,
    get maxDequeue() { return data.length - this.dropped; },
    peek(offset, dst, dstOff, len) {
      const n = Math.max(0, Math.min(len, data.length - this.dropped - offset));
      dst.set(data.subarray(this.dropped + offset, this.dropped + offset + n), dstOff);
      return n;
    },
    dequeueDrop(n) { this.dropped += n; },
  };
}

describe('session tx splice', () => {
  it('sends the reply from the fifo then the source, refuses fifo writes after the splice', () => {
    const h = new Harness();
    const iss = h.acceptFrom({ mss: 1000 });
    h.send({ flags: TcpFlag.ACK, seq: 1001, ack: iss + 1, window: 60_000 });
    h.take();
    const calls: string[] = [];
    const owner: SessionOwner = {
      kick: () => calls.push('kick'),
      send: (c) => { calls.push('send'); h.stack.send(c); },
      shutdownWrite: (c) => h.stack.shutdownWrite(c),
      close: (c) => h.stack.close(c),
      abort: (c) => h.stack.abort(c),
    };
    const s = new Session(1, { name: 'test' }, h.conn!, owner, 0);
    expect(s.write(bytes(10, 1))).toBe(10);
    const src = source(bytes(1500, 2));
    expect(s.spliceTx(src)).toBe(true);
    expect(calls).toContain('send');
    expect(s.write(bytes(5, 3))).toBe(0);
    expect(s.writeWith(5, () => 5)).toBe(0);
    expect(s.spliceTx(source(bytes(1)))).toBe(false);
    h.stack.flush(h.now);
    const payload = h.take().filter((x) => x.payload.length > 0);
    expect(payload.map((x) => x.payload.length)).toEqual([1000, 510]);
    expect(payload[0]!.payload.subarray(0, 10)).toEqual(bytes(10, 1));
    expect(payload[0]!.payload.subarray(10)).toEqual(bytes(1500, 2).subarray(0, 990));
    calls.length = 0;
    s.txReady();
    expect(calls).toEqual(['send', 'kick']);
    h.send({ flags: TcpFlag.ACK, seq: 1001, ack: iss + 1 + 1510, window: 60_000 });
    expect(src.dropped).toBe(1500);
  });
});
