import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative, nativeAddonPath, packageRoot } from '../../../src/native/binding.js';
import { META_STRIDE } from '../../../src/native/packet-device.js';

describe('native loader', () => {
  it('resolves the addon relative to the package root', () => {
    const root = packageRoot();
    expect(existsSync(join(root, 'package.json'))).toBe(true);
    expect(nativeAddonPath()).toBe(join(root, 'build', 'native', 'Release', 'onionplane_native.node'));
  });

  it('loads once and exposes the shim', () => {
    const a = loadNative();
    expect(loadNative()).toBe(a);
    for (const f of ['eventfdCreate', 'eventfdSignal', 'eventfdClear', 'closeFd', 'ifQuery', 'ifSetUp', 'tcpQuickAck'] as const) {
      expect(typeof a[f]).toBe('function');
    }
    expect(typeof a.FdWatch).toBe('function');
    expect(a.AfPacketSocket.META_STRIDE).toBe(META_STRIDE);
  });

  it('queries the loopback interface', () => {
    const lo = loadNative().ifQuery('lo');
    expect(lo.ifindex).toBe(1);
    expect(lo.up).toBe(true);
    expect(lo.mac).toEqual(new Uint8Array(6));
  });
});
