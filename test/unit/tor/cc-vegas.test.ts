import { describe, expect, it } from 'vitest';
import { CC_DEFAULT_PARAMS, ccParamsFrom, sendmeIncAcceptable, VegasHop, CcAlg, type CcParams } from '../../../src/tor/proto/index.js';

const tag = (n: number) => Uint8Array.from({ length: 20 }, (_, i) => (n + i) & 0xff);

/** Send `cells` DATA cells at `t`, returning the tags the hop recorded for SENDMEs (in order). */
function sendCells(hop: VegasHop, cells: number, t: number, next: { n: number }): Uint8Array[] {
  const tags: Uint8Array[] = [];
  for (let i = 0; i < cells; i++) {
    const before = hop.inflight;
    const tg = tag(next.n++);
    hop.notePackaged(tg, t);
    if ((before + 1) % hop.sendmeInc === 0 && before > 0) tags.push(tg);
  }
  return tags;
}

describe('congestion control parameters', () => {
  it('uses the spec defaults when the consensus says nothing', () => {
    const p = CC_DEFAULT_PARAMS;
    expect([p.alg, p.sendmeInc, p.cwndInit, p.cwndMin, p.cwndInc, p.cwndIncRate, p.cwndIncPctSs]).toEqual([CcAlg.VEGAS, 31, 124, 124, 1, 31, 100]);
    expect([p.vegasAlpha, p.vegasBeta, p.vegasGamma, p.vegasDelta, p.ssCwndCap, p.ssCwndMax]).toEqual([186, 248, 186, 310, 600, 5000]);
  });
  it('takes in-range consensus values and ignores out-of-range ones', () => {
    const v: Record<string, number> = { cc_alg: 0, cc_sendme_inc: 33, cc_cwnd_init: 5, cc_vegas_gamma_exit: 2000, cc_ss_max: 900 };
    const p = ccParamsFrom((n) => v[n]);
    expect(p.alg).toBe(CcAlg.SENDME);
    expect(p.sendmeInc).toBe(33);
    expect(p.cwndInit).toBe(124); // below the minimum (31)
    expect(p.vegasGamma).toBe(186); // above 1000
    expect(p.ssCwndMax).toBe(900);
    expect(ccParamsFrom((n) => (n === 'cc_alg' ? 1 : undefined)).alg).toBe(CcAlg.VEGAS);
  });
  it('accepts a relay sendme_inc within one of the consensus value', () => {
    expect([30, 31, 32].map((i) => sendmeIncAcceptable(i, CC_DEFAULT_PARAMS))).toEqual([true, true, true]);
    expect([0, 29, 33, 255].map((i) => sendmeIncAcceptable(i, CC_DEFAULT_PARAMS))).toEqual([false, false, false, false]);
  });
});

describe('TOR_VEGAS sender', () => {
  it('records the tag of every sendme_inc-th cell and limits sending to cwnd', () => {
    const hop = new VegasHop(CC_DEFAULT_PARAMS, 31);
    const next = { n: 0 };
    expect(hop.packageWindow).toBe(124);
    const tags = sendCells(hop, 124, 0, next);
    expect(tags.length).toBe(4); // cells 31, 62, 93, 124
    expect(hop.canPackage).toBe(false);
    expect(hop.packageWindow).toBe(0);
    // A SENDME must echo the oldest tag; a wrong one is refused, an extra one overflows.
    const bad = new VegasHop(CC_DEFAULT_PARAMS, 31);
    const bt = sendCells(bad, 31, 0, { n: 100 });
    expect(bad.noteSendme(tag(999), 5)).toBe('unauthenticated');
    expect(new VegasHop(CC_DEFAULT_PARAMS, 31).noteSendme(bt[0]!, 5)).toBe('overflow');
  });

  it('slow start grows cwnd by sendme_inc per SENDME while queue use stays under gamma', () => {
    const hop = new VegasHop(CC_DEFAULT_PARAMS, 31);
    const next = { n: 0 };
    let t = 0;
    let tags = sendCells(hop, hop.packageWindow, t, next);
    // Constant 10 ms RTT: BDP = cwnd, queue use 0 → +31 cells per ack.
    // Two rounds (4 then 8 acks) stay under cc_sscap_exit (600), where the increment is sendme_inc.
    for (let round = 0; round < 2; round++) {
      t += 10;
      const acks = tags.splice(0);
      for (const tg of acks) {
        const cwnd = hop.cwnd;
        expect(hop.noteSendme(tg, t)).toBe('ok');
        expect(hop.cwnd).toBe(cwnd + 31);
      }
      tags = sendCells(hop, hop.packageWindow, t, next);
    }
    expect(hop.inSlowStart).toBe(true);
    expect(hop.minRtt).toBe(10);
    expect(hop.ewmaRtt).toBe(10);
  });

  it('leaves slow start at BDP + gamma when RTT rises (queueing), then steers between alpha and beta', () => {
    // cc_cwnd_inc_rate 1: steady-state updates once per cwnd (about cwnd / 31 SENDMEs).
    const p: CcParams = { ...CC_DEFAULT_PARAMS, cwndInit: 620, ssCwndCap: 10_000, cwndIncRate: 1 };
    const hop = new VegasHop(p, 31);
    const next = { n: 0 };
    const tags = sendCells(hop, 620, 0, next);
    // First ack: RTT 10 (min). Cwnd 620 → 651.
    expect(hop.noteSendme(tags.shift()!, 10)).toBe('ok');
    expect(hop.cwnd).toBe(651);
    // RTT doubles: ewma = (2·20 + 1·10)/3 ≈ 16.67, BDP = 651·10/16.67 = 390, queue use 261 ≥ gamma (186).
    expect(hop.noteSendme(tags.shift()!, 20)).toBe('ok');
    expect(hop.inSlowStart).toBe(false);
    expect(hop.ewmaRtt).toBeCloseTo(50 / 3, 6);
    expect(hop.bdp).toBe(390);
    expect(hop.cwnd).toBe(390 + p.vegasGamma);
    // Steady state: RTT back at its minimum, queue use drops under alpha: cwnd grows by cc_cwnd_inc
    // per update, and updates come only every CWND_UPDATE_RATE SENDMEs.
    const steady = hop.cwnd;
    const updates = hop.counters.cwndUpdates;
    let t = 20;
    let acks = 0;
    while (acks < 60) {
      t += 10;
      for (const tg of [...tags.splice(0), ...sendCells(hop, hop.packageWindow, t - 10, next)]) tags.push(tg);
      const tg = tags.shift()!;
      // Each ack's RTT = now − its cell's send time; sendCells stamped them 10 ms ago or earlier.
      if (hop.noteSendme(tg, t) !== 'ok') throw new Error('ack refused');
      acks++;
    }
    expect(hop.inSlowStart).toBe(false);
    expect(hop.counters.cwndUpdates - updates).toBeLessThan(acks);
    expect(hop.cwnd).toBeGreaterThanOrEqual(p.cwndMin);
    expect(Math.abs(hop.cwnd - steady)).toBeLessThanOrEqual((hop.counters.cwndUpdates - updates) * Math.max(p.cwndInc, p.vegasDelta));
  });

  it('ignores zero RTT samples (clock granularity) without touching cwnd, but still frees inflight', () => {
    const hop = new VegasHop(CC_DEFAULT_PARAMS, 31);
    const tags = sendCells(hop, 124, 100, { n: 0 });
    expect(hop.noteSendme(tags[0]!, 100)).toBe('ok');
    expect(hop.cwnd).toBe(124);
    expect(hop.inflight).toBe(93);
    expect(hop.counters.clockStalls).toBe(1);
  });

  it('limited slow start above cc_sscap_exit grows by sendme_inc·cap/(2·cwnd)', () => {
    const hop = new VegasHop(CC_DEFAULT_PARAMS, 31);
    hop.cwnd = 1200;
    const tags = sendCells(hop, 1200, 0, { n: 0 });
    hop.noteSendme(tags[0]!, 10);
    expect(hop.cwnd).toBe(1200 + Math.floor((31 * 600 + 1200) / 2400));
  });

  it('caps cwnd at cc_ss_max in slow start and at cc_cwnd_max always', () => {
    const hop = new VegasHop({ ...CC_DEFAULT_PARAMS, cwndInit: 4990, ssCwndMax: 5000, ssCwndCap: 10_000 }, 31);
    const tags = sendCells(hop, 4990, 0, { n: 0 });
    hop.noteSendme(tags[0]!, 10);
    expect(hop.cwnd).toBe(5000);
    expect(hop.inSlowStart).toBe(false);
  });
});

describe('receiver SENDME cadence', () => {
  it('asks for a circuit SENDME after every sendme_inc DATA cells', () => {
    const hop = new VegasHop(CC_DEFAULT_PARAMS, 31);
    const verdicts = Array.from({ length: 93 }, () => hop.noteDelivered());
    const at = verdicts.flatMap((v, i) => (v === 'sendme' ? [i + 1] : []));
    expect(at).toEqual([31, 62, 93]);
  });
});
