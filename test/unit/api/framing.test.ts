import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../../src/api/framing.js';

describe('socket framing', () => {
  it('writes the >QII header vpp_papi writes', () => {
    const f = encodeFrame(Uint8Array.of(1, 2, 3));
    expect([...f.subarray(0, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0]);
    expect([...f.subarray(16)]).toEqual([1, 2, 3]);
  });

  it('reassembles frames split at every byte boundary', () => {
    const bodies = [Uint8Array.of(0, 15, 9), new Uint8Array(300).fill(7), Uint8Array.of(0, 23)];
    const stream = Buffer.concat(bodies.map((b) => Buffer.from(encodeFrame(b))));
    for (let split = 1; split < stream.length; split += 17) {
      const d = new FrameDecoder(1024);
      const got = [...d.push(stream.subarray(0, split)).frames, ...d.push(stream.subarray(split)).frames];
      expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(bodies.map((b) => Buffer.from(b).toString('hex')));
      expect(d.bufferedBytes).toBe(0);
    }
  });

  it('reports a header announcing more than the cap without buffering it', () => {
    const d = new FrameDecoder(100);
    const header = Buffer.from(encodeFrame(new Uint8Array(0)));
    header.writeUInt32BE(101, 8);
    const r = d.push(header);
    expect(r.error).toBe('oversized');
    expect(d.bufferedBytes).toBe(0);
  });

  it('ignores the reserved header words as VPP does', () => {
    const f = Buffer.from(encodeFrame(Uint8Array.of(0, 23, 1, 2)));
    f.fill(0xff, 0, 8);
    f.fill(0xff, 12, 16);
    expect(new FrameDecoder(64).push(f).frames.length).toBe(1);
  });
});
