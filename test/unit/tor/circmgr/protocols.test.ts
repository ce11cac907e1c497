import { describe, expect, it } from 'vitest';
import { hopHandshake, supportsCongestionControl, supportsNtorV3, supportsProtocol } from '../../../../src/tor/circmgr/index.js';
import { CC_DEFAULT_PARAMS } from '../../../../src/tor/proto/index.js';

// A 0.4.9 relay's consensus `pr` line.
const PR_049 = 'Conflux=1 Cons=2 Desc=2 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4-5 HSRend=1-2 Link=1-5 LinkAuth=3 Microdesc=2 Padding=2 Relay=1-4';

describe('subprotocol versions', () => {
  it('reads ranges and lists', () => {
    expect(supportsProtocol(PR_049, 'Relay', 4)).toBe(true);
    expect(supportsProtocol(PR_049, 'Relay', 5)).toBe(false);
    expect(supportsProtocol('Link=1,3-5', 'Link', 2)).toBe(false);
    expect(supportsProtocol('Link=1,3-5', 'Link', 4)).toBe(true);
    expect(supportsProtocol('Relay=x-4 Relay', 'Relay', 4)).toBe(false);
    expect(supportsProtocol(undefined, 'Relay', 1)).toBe(false);
  });
  it('ntor v3 needs Relay=4; congestion control also FlowCtrl=2', () => {
    expect(supportsNtorV3(PR_049)).toBe(true);
    expect(supportsCongestionControl(PR_049)).toBe(true);
    expect(supportsCongestionControl('Relay=1-4 FlowCtrl=1')).toBe(false);
    expect(supportsNtorV3('Relay=1-3 FlowCtrl=1-2')).toBe(false);
  });
  it('asks only the exit for congestion control, uses ntor v3 where spoken, classic ntor otherwise or when CC is off', () => {
    const relay = (pr: string | undefined, ed = true) => ({ status: { protocols: pr }, ed25519Id: ed ? new Uint8Array(32) : undefined });
    expect(hopHandshake(relay(PR_049), true, CC_DEFAULT_PARAMS)).toEqual({ ntorV3: true, congestionControl: CC_DEFAULT_PARAMS });
    expect(hopHandshake(relay(PR_049), false, CC_DEFAULT_PARAMS)).toEqual({ ntorV3: true });
    expect(hopHandshake(relay('Relay=1-3'), true, CC_DEFAULT_PARAMS)).toEqual({});
    expect(hopHandshake(relay(PR_049, false), true, CC_DEFAULT_PARAMS)).toEqual({});
    expect(hopHandshake(relay(PR_049), true, undefined)).toEqual({});
  });
});
