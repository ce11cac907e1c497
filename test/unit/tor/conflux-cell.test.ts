import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ConfluxUx, decodeConfluxLinkBody, decodeConfluxLinkedBody, decodeConfluxSwitchBody, encodeConfluxLinkBody,
  encodeConfluxLinkedAckBody, encodeConfluxSwitchBody,
} from '../../../src/tor/cell/relay/conflux.js';
import { RelayCmd } from '../../../src/tor/cell/commands.js';

const nonce = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

describe('conflux relay messages', () => {
  it('uses the C tor relay command numbers', () => {
    expect([RelayCmd.CONFLUX_LINK, RelayCmd.CONFLUX_LINKED, RelayCmd.CONFLUX_LINKED_ACK, RelayCmd.CONFLUX_SWITCH]).toEqual([19, 20, 21, 22]);
  });

  it('encodes LINK v1 byte for byte', () => {
    const b = encodeConfluxLinkBody({ nonce, lastSeqnoSent: 0x1_0000_0002, lastSeqnoRecv: 7, desiredUx: ConfluxUx.HIGH_THROUGHPUT });
    expect(b.ok).toBe(true);
    if (!b.ok) return;
    expect(b.value.length).toBe(50);
    expect(b.value[0]).toBe(1);
    expect(b.value.subarray(1, 33)).toEqual(nonce);
    expect([...b.value.subarray(33, 41)]).toEqual([0, 0, 0, 1, 0, 0, 0, 2]);
    expect([...b.value.subarray(41, 49)]).toEqual([0, 0, 0, 0, 0, 0, 0, 7]);
    expect(b.value[49]).toBe(3);
  });

  it('round-trips LINK/LINKED for any valid field values', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.maxSafeNat(), fc.maxSafeNat(), fc.integer({ min: 0, max: 4 }),
      (n, s, r, ux) => {
        const b = encodeConfluxLinkBody({ nonce: n, lastSeqnoSent: s, lastSeqnoRecv: r, desiredUx: ux });
        if (!b.ok) return false;
        const d = decodeConfluxLinkedBody(b.value);
        return d.ok && d.value.lastSeqnoSent === s && d.value.lastSeqnoRecv === r && d.value.desiredUx === ux && Buffer.from(d.value.nonce).equals(Buffer.from(n));
      },
    ));
  });

  it('rejects malformed LINK bodies with typed errors', () => {
    const good = encodeConfluxLinkBody({ nonce, lastSeqnoSent: 0, lastSeqnoRecv: 0, desiredUx: 0 });
    if (!good.ok) throw new Error('encode');
    const wrongVersion = good.value.slice();
    wrongVersion[0] = 2;
    expect(decodeConfluxLinkBody(wrongVersion)).toMatchObject({ ok: false, error: { code: 'BAD_VALUE' } });
    expect(decodeConfluxLinkBody(good.value.subarray(0, 49))).toMatchObject({ ok: false, error: { code: 'TRUNCATED' } });
    expect(decodeConfluxLinkBody(new Uint8Array(0))).toMatchObject({ ok: false, error: { code: 'TRUNCATED' } });
    const badUx = good.value.slice();
    badUx[49] = 5;
    expect(decodeConfluxLinkBody(badUx)).toMatchObject({ ok: false, error: { code: 'BAD_VALUE' } });
    const huge = good.value.slice();
    huge.fill(0xff, 33, 41); // 2^64 - 1 does not fit a safe integer
    expect(decodeConfluxLinkBody(huge)).toMatchObject({ ok: false, error: { code: 'BAD_VALUE' } });
    // Trailing bytes are ignored, as C tor's trunnel parser does.
    const longer = new Uint8Array(60);
    longer.set(good.value);
    expect(decodeConfluxLinkBody(longer).ok).toBe(true);
    expect(encodeConfluxLinkBody({ nonce: nonce.subarray(1), lastSeqnoSent: 0, lastSeqnoRecv: 0, desiredUx: 0 }).ok).toBe(false);
    expect(encodeConfluxLinkBody({ nonce, lastSeqnoSent: -1, lastSeqnoRecv: 0, desiredUx: 0 }).ok).toBe(false);
    expect(encodeConfluxLinkBody({ nonce, lastSeqnoSent: 0, lastSeqnoRecv: 0, desiredUx: 9 }).ok).toBe(false);
  });

  it('encodes LINKED_ACK empty and SWITCH as a u32', () => {
    expect(encodeConfluxLinkedAckBody().length).toBe(0);
    const s = encodeConfluxSwitchBody(0x01020304);
    expect(s.ok && [...s.value]).toEqual([1, 2, 3, 4]);
    expect(decodeConfluxSwitchBody(Uint8Array.of(0, 0, 1, 0))).toEqual({ ok: true, value: 256 });
    expect(decodeConfluxSwitchBody(Uint8Array.of(0, 0, 1))).toMatchObject({ ok: false, error: { code: 'TRUNCATED' } });
    expect(encodeConfluxSwitchBody(2 ** 32).ok).toBe(false);
    expect(encodeConfluxSwitchBody(-1).ok).toBe(false);
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => {
      const e = encodeConfluxSwitchBody(v);
      const d = e.ok ? decodeConfluxSwitchBody(e.value) : null;
      return d !== null && d.ok && d.value === v;
    }));
  });
});
