// The L2/L3 host graph over a real veth pair: a network namespace with a kernel peer on one end,
// the dataplane (AF_PACKET) on the other. The kernel resolves us by ARP and pings us; malformed
// frames injected from the namespace with a raw socket are dropped with the right counters.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBuiltinCommands } from '../../src/cli/builtin/index.js';
import { Main } from '../../src/core/main.js';
import { loadNative } from '../../src/native/binding.js';
import { createVethNamespace, execInNetns, runCommand as run, uniqueName, type VethNamespace } from '../../src/native/veth.js';
import { InterfaceCounter } from '../../src/net/interface/counters.js';
import { registerNetModule, type NetModule } from '../../src/net/module.js';
import { formatMac } from '../../src/net/wire/ethernet.js';

function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}

const canRun = process.getuid?.() === 0 && nativeAvailable();
const OUR_ADDR = '10.231.7.1';
const PEER_ADDR = '10.231.7.2';

/** Frames with one malformed header each, sent by a raw AF_PACKET socket from the namespace. */
const INJECT_PY = String.raw`
import socket, struct, sys
ifname, dst, src, count = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), bytes.fromhex(sys.argv[3].replace(':', '')), int(sys.argv[4])
kinds = sys.argv[5:]
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ip4(total=None, ihl=5, ver=4, bad_sum=False, payload=b'\x08\x00\xf7\xff\x00\x00\x00\x00'):
    srcip, dstip = socket.inet_aton('${PEER_ADDR}'), socket.inet_aton('${OUR_ADDR}')
    hl = ihl * 4 if ihl >= 5 else 20
    tl = total if total is not None else hl + len(payload)
    h = struct.pack('!BBHHHBBH4s4s', (ver << 4) | ihl, 0, tl, 1, 0x4000, 64, 1, 0, srcip, dstip) + b'\0' * (hl - 20)
    c = csum(h)
    if bad_sum: c ^= 0xffff
    return h[:10] + struct.pack('!H', c) + h[12:] + payload
eth = dst + src + b'\x08\x00'
frames = {
    'runt': eth,
    'truncated': eth + ip4(total=84),
    'bad-checksum': eth + ip4(bad_sum=True),
    'bad-header-length': eth + ip4(ihl=3),
    'bad-length': eth + ip4(total=16),
    'bad-version': eth + ip4(ver=6),
}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for k in kinds:
    for _ in range(count):
        s.send(frames[k])
`;

async function peerStats(ns: VethNamespace): Promise<{ rx: number; tx: number }> {
  const out = JSON.parse(await execInNetns(ns.netns, 'ip', ['-s', '-j', 'link', 'show', 'dev', ns.peer])) as {
    stats64: { rx: { packets: number }; tx: { packets: number } };
  }[];
  return { rx: out[0]!.stats64.rx.packets, tx: out[0]!.stats64.tx.packets };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds or `ms` pass (frames in flight on a loaded machine). */
async function waitFor(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await sleep(20);
}

describe.skipIf(!canRun)('net L3 over veth (root)', () => {
  let ns: VethNamespace;
  let main: Main;
  let net: NetModule;
  let ifName: string;
  const cli = (line: string): Promise<string> => main.cli.execute(line, { main, origin: 'test' });
  const errorCount = (node: string, name: string): number => main.graph.errors.get(main.graph.errors.find(node, name));

  beforeAll(async () => {
    ns = await createVethNamespace('nl', { peerAddress: `${PEER_ADDR}/24` });
    // Quiet links: no IPv6 autoconfiguration chatter to count around.
    await execInNetns(ns.netns, 'sysctl', ['-qw', `net.ipv6.conf.${ns.peer}.disable_ipv6=1`]);
    await run('sysctl', ['-qw', `net.ipv6.conf.${ns.host}.disable_ipv6=1`]);
    main = new Main({ buffers: 4096 });
    registerBuiltinCommands(main);
    net = registerNetModule(main);
    await main.init();
    ifName = await cli(`create host-interface name ${ns.host}`);
    await cli(`set interface ip address ${ifName} ${OUR_ADDR}/24`);
    await cli(`set interface state ${ifName} up`);
  });

  afterAll(async () => {
    await main?.shutdown();
    await ns?.close();
  });

  it('is resolved by ARP and answers ping; counters match what the kernel sent', async () => {
    await sleep(100);
    await cli('clear errors');
    await cli('clear interfaces');
    const before = await peerStats(ns);
    await execInNetns(ns.netns, 'ip', ['neigh', 'flush', 'dev', ns.peer]);
    const out = await execInNetns(ns.netns, 'ping', ['-c', '5', '-i', '0.05', '-W', '2', OUR_ADDR], 20_000);
    expect(out).toMatch(/5 packets transmitted, 5 received/);
    const itf = net.interfaces.find(ifName)!;
    const c = (k: number): number => net.interfaces.counters.get(itf.swIfIndex, k);
    let after = await peerStats(ns);
    await waitFor(async () => {
      after = await peerStats(ns);
      return c(InterfaceCounter.RX_PACKETS) === after.tx - before.tx && c(InterfaceCounter.TX_PACKETS) === after.rx - before.rx;
    });
    expect(errorCount('ip4-icmp-input', 'echo-replies-sent')).toBe(5);
    expect(c(InterfaceCounter.IP4)).toBe(5);
    // Everything the kernel sent arrived here, and everything we sent arrived there.
    expect(c(InterfaceCounter.RX_PACKETS)).toBe(after.tx - before.tx);
    expect(c(InterfaceCounter.TX_PACKETS)).toBe(after.rx - before.rx);
    expect(errorCount('arp-input', 'replies-sent')).toBeGreaterThanOrEqual(1);
    const neigh = await execInNetns(ns.netns, 'ip', ['neigh', 'show', OUR_ADDR, 'dev', ns.peer]);
    expect(neigh).toContain(formatMac(itf.mac));
    const show = await cli(`show interface ${ifName}`);
    expect(show).toMatch(new RegExp(`${ifName}\\s+${itf.swIfIndex}\\s+up\\s+\\d+/0/0/0\\s+rx packets\\s+${c(InterfaceCounter.RX_PACKETS)}`));
    const errors = await cli('show errors');
    expect(errors).toMatch(/^\s+5\s+ip4-icmp-input\s+echo replies sent\s+info\s*$/m);
    expect(await cli('show ip neighbors')).toContain(PEER_ADDR);
  });

  it('drops each class of malformed header with its counter and keeps answering', async () => {
    await cli('clear errors');
    const itf = net.interfaces.find(ifName)!;
    const kinds = ['runt', 'truncated', 'bad-checksum', 'bad-header-length', 'bad-length', 'bad-version'];
    await execInNetns(ns.netns, 'python3', ['-c', INJECT_PY, ns.peer, formatMac(itf.mac), '02:00:00:00:00:99', '3', ...kinds]);
    await waitFor(() => kinds.every((k) => errorCount('ip4-input', k === 'runt' ? 'too-short' : k) >= 3));
    expect(errorCount('ip4-input', 'too-short')).toBe(3);
    expect(errorCount('ip4-input', 'truncated')).toBe(3);
    expect(errorCount('ip4-input', 'bad-checksum')).toBe(3);
    expect(errorCount('ip4-input', 'bad-header-length')).toBe(3);
    expect(errorCount('ip4-input', 'bad-length')).toBe(3);
    expect(errorCount('ip4-input', 'bad-version')).toBe(3);
    const errors = await cli('show errors');
    expect(errors).toMatch(/^\s+3\s+ip4-input\s+ip4 bad header checksum\s+error\s*$/m);
    const out = await execInNetns(ns.netns, 'ping', ['-c', '1', '-W', '2', OUR_ADDR], 10_000);
    expect(out).toMatch(/1 packets transmitted, 1 received/);
  });

  it('traces a packet through the graph', async () => {
    await cli('clear trace');
    await cli('trace add af-packet-input 10');
    await execInNetns(ns.netns, 'ping', ['-c', '1', '-W', '2', OUR_ADDR], 10_000);
    await waitFor(async () => (await cli('show trace')).includes('af-packet-output'));
    const trace = await cli('show trace');
    const order = ['af-packet-input', 'ethernet-input', 'ip4-input', 'ip4-local', 'ip4-icmp-input', 'ip4-lookup', 'ip4-rewrite', 'interface-output', 'af-packet-output'];
    let at = 0;
    for (const name of order) {
      const i = trace.indexOf(`: ${name}\n`, at);
      expect(i, name).toBeGreaterThanOrEqual(0);
      at = i;
    }
    expect(trace).toContain(`protocol 1 ${PEER_ADDR} -> ${OUR_ADDR}`);
    await cli('clear trace');
  });

  it('injects delay and loss on the interface', async () => {
    await cli(`set interface fault ${ifName} rx delay 60`);
    const delayed = await execInNetns(ns.netns, 'ping', ['-c', '2', '-i', '0.1', '-W', '2', OUR_ADDR], 10_000);
    expect(delayed).toMatch(/2 packets transmitted, 2 received/);
    const min = Number(/= ([\d.]+)\//.exec(delayed.split('\n').find((l) => l.startsWith('rtt'))!)![1]);
    expect(min).toBeGreaterThanOrEqual(60);
    await cli(`set interface fault ${ifName} drop 100`);
    await expect(execInNetns(ns.netns, 'ping', ['-c', '2', '-i', '0.1', '-W', '1', OUR_ADDR], 10_000)).rejects.toThrow();
    expect(await cli('show interface fault')).toMatch(/dropped [1-9]/);
    await cli(`set interface fault ${ifName} off`);
    const ok = await execInNetns(ns.netns, 'ping', ['-c', '1', '-W', '2', OUR_ADDR], 10_000);
    expect(ok).toMatch(/1 packets transmitted, 1 received/);
  });

  it('creates a veth pair with a configured host side and answers on it', async () => {
    const hostIf = uniqueName('opv');
    const name = await cli(`create veth-pair name ${hostIf} host-ip4-addr 10.231.8.2/24`);
    try {
      expect(name).toBe(`host-${hostIf}-dp`);
      await run('sysctl', ['-qw', `net.ipv6.conf.${hostIf}.disable_ipv6=1`]);
      await cli(`set interface ip address ${name} 10.231.8.1/24`);
      await cli(`set interface state ${name} up`);
      const out = await run('ping', ['-c', '2', '-i', '0.1', '-W', '2', '-I', hostIf, '10.231.8.1'], 10_000);
      expect(out).toMatch(/2 packets transmitted, 2 received/);
    } finally {
      await cli(`delete veth-pair name ${hostIf}`);
    }
    expect(net.interfaces.find(name)).toBeUndefined();
    await expect(run('ip', ['link', 'show', hostIf])).rejects.toThrow();
  });
});
