import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArpOperation, ArpPacket, parseArp } from '../../../src/net/wire/arp.js';
import { EthernetFrame, EtherType, formatMac, BROADCAST_MAC } from '../../../src/net/wire/ethernet.js';
import { IcmpPacket, parseIcmp } from '../../../src/net/wire/icmp.js';
import { Ipv4Packet, IpProtocol, parseIp4 } from '../../../src/net/wire/ipv4.js';
import { NONE } from '../../../src/runtime/buffer-pool.js';
import { InterfaceCounter } from '../../../src/net/interface/counters.js';
import {
  arpFrame, echoRequestFrame, ethernetFrame, ipv4Packet, NetHarness, OUR_IP, OUR_MAC, PEER_IP, PEER_MAC,
} from './net-harness.js';

let h: NetHarness;
beforeEach(() => {
  h = new NetHarness();
});
afterEach(() => h.close());

function parseArpFrame(f: Uint8Array): ReturnType<typeof parseArp> {
  const eth = EthernetFrame.checked(f);
  expect(eth.etherType).toBe(EtherType.ARP);
  return parseArp(ArpPacket.checked(f, 14));
}

describe('ARP', () => {
  it('answers a request for our address and learns the sender', async () => {
    const dev = await h.standard();
    dev.inject(arpFrame(ArpOperation.REQUEST, PEER_MAC, PEER_IP, new Uint8Array(6), OUR_IP));
    h.run();
    const out = dev.takeTransmitted();
    expect(out).toHaveLength(1);
    const eth = EthernetFrame.checked(out[0]!);
    expect(formatMac(eth.dst)).toBe(formatMac(PEER_MAC));
    expect(formatMac(eth.src)).toBe(formatMac(OUR_MAC));
    const arp = parseArpFrame(out[0]!);
    expect(arp.operation).toBe(ArpOperation.REPLY);
    expect(formatMac(arp.senderHw)).toBe(formatMac(OUR_MAC));
    expect(arp.senderIp).toBe(OUR_IP);
    expect(formatMac(arp.targetHw)).toBe(formatMac(PEER_MAC));
    expect(arp.targetIp).toBe(PEER_IP);
    expect(h.error('arp-input', 'replies-sent')).toBe(1);
    const neighbors = await h.cli('show ip neighbors');
    expect(neighbors).toContain('10.9.0.2');
    expect(neighbors).toContain(formatMac(PEER_MAC));
    expect(neighbors).toContain('host-veth0');
  });

  it('ignores requests for other addresses without learning', async () => {
    const dev = await h.standard();
    dev.inject(arpFrame(ArpOperation.REQUEST, PEER_MAC, PEER_IP, new Uint8Array(6), parseIp4('10.9.0.77')!));
    h.run();
    expect(dev.takeTransmitted()).toHaveLength(0);
    expect(h.error('arp-input', 'not-for-us')).toBe(1);
    expect(h.net.neighbors.size).toBe(0);
  });

  it('sends gratuitous ARP when an address is added to an up interface and when it comes up', async () => {
    await h.cli('create host-interface name veth0 hw-addr 02:fe:00:00:00:01');
    const dev = h.devices.get('veth0')!;
    await h.cli('set interface state host-veth0 up');
    await h.cli('set interface ip address host-veth0 10.9.0.1/24');
    h.run();
    let out = dev.takeTransmitted();
    expect(out).toHaveLength(1);
    let arp = parseArpFrame(out[0]!);
    expect(formatMac(EthernetFrame.checked(out[0]!).dst)).toBe(formatMac(BROADCAST_MAC));
    expect(arp.senderIp).toBe(OUR_IP);
    expect(arp.targetIp).toBe(OUR_IP);
    await h.cli('set interface state host-veth0 down');
    await h.cli('set interface state host-veth0 up');
    h.run();
    out = dev.takeTransmitted();
    expect(out).toHaveLength(1);
    arp = parseArpFrame(out[0]!);
    expect(arp.senderIp).toBe(OUR_IP);
  });

  it('drops malformed ARP with its own counters', async () => {
    const dev = await h.standard();
    const good = arpFrame(ArpOperation.REQUEST, PEER_MAC, PEER_IP, new Uint8Array(6), OUR_IP);
    dev.inject(good.subarray(0, 14 + 20));
    const unsupported = good.slice();
    unsupported[14 + 1] = 6;
    dev.inject(unsupported);
    const badOp = good.slice();
    badOp[14 + 7] = 9;
    dev.inject(badOp);
    h.run();
    expect(dev.takeTransmitted()).toHaveLength(0);
    expect(h.error('arp-input', 'truncated')).toBe(1);
    expect(h.error('arp-input', 'unsupported')).toBe(1);
    expect(h.error('arp-input', 'bad-operation')).toBe(1);
  });
});

describe('ICMP echo', () => {
  it('replies to a ping after resolving the sender by ARP', async () => {
    const dev = await h.standard();
    dev.inject(echoRequestFrame(1));
    h.run();
    // The sender is unknown: the reply waits while we ask for it.
    let out = dev.takeTransmitted();
    expect(out).toHaveLength(1);
    const req = parseArpFrame(out[0]!);
    expect(req.operation).toBe(ArpOperation.REQUEST);
    expect(req.targetIp).toBe(PEER_IP);
    expect(req.senderIp).toBe(OUR_IP);
    expect(h.error('ip4-arp', 'requests-sent')).toBe(1);
    dev.inject(arpFrame(ArpOperation.REPLY, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP));
    h.run();
    out = dev.takeTransmitted();
    expect(out).toHaveLength(1);
    const eth = EthernetFrame.checked(out[0]!);
    expect(formatMac(eth.dst)).toBe(formatMac(PEER_MAC));
    expect(eth.etherType).toBe(EtherType.IPV4);
    const ip = Ipv4Packet.checked(out[0]!, 14);
    expect(ip.src).toBe(OUR_IP);
    expect(ip.dst).toBe(PEER_IP);
    expect(ip.protocol).toBe(IpProtocol.ICMP);
    const icmp = parseIcmp(IcmpPacket.checked(out[0]!, 34, ip.payloadLen));
    expect(icmp).toEqual({ kind: 'echo-reply', ident: 0x4242, seq: 1, data: new Uint8Array(56).fill(0xab) });
    expect(h.error('ip4-icmp-input', 'echo-replies-sent')).toBe(1);
  });

  it('answers a burst once the neighbour is known and counts it per interface', async () => {
    const dev = await h.standard();
    dev.inject(arpFrame(ArpOperation.REQUEST, PEER_MAC, PEER_IP, new Uint8Array(6), OUR_IP));
    h.run();
    dev.takeTransmitted();
    await h.cli('clear interfaces');
    const frames = Array.from({ length: 300 }, (_, i) => echoRequestFrame(i));
    for (const f of frames) dev.inject(f);
    h.run();
    const out = dev.takeTransmitted();
    expect(out).toHaveLength(300);
    expect(out.map((f) => new IcmpPacket(f, 34).seq)).toEqual(frames.map((_, i) => i));
    const sw = h.net.interfaces.find('host-veth0')!.swIfIndex;
    const c = h.net.interfaces.counters;
    expect(c.get(sw, InterfaceCounter.RX_PACKETS)).toBe(300);
    expect(c.get(sw, InterfaceCounter.RX_BYTES)).toBe(300 * frames[0]!.length);
    expect(c.get(sw, InterfaceCounter.TX_PACKETS)).toBe(300);
    expect(c.get(sw, InterfaceCounter.TX_BYTES)).toBe(300 * frames[0]!.length);
    expect(c.get(sw, InterfaceCounter.IP4)).toBe(300);
    expect(c.get(sw, InterfaceCounter.DROPS)).toBe(0);
    const show = await h.cli('show interface');
    expect(show).toMatch(/host-veth0\s+1\s+up\s+1500\/0\/0\/0\s+rx packets\s+300/);
    expect(show).toMatch(/\n\s{68}tx bytes\s+29400\n/);
    expect(h.main.graph.buffers.available).toBe(h.main.graph.buffers.capacity);
  });

  it('ignores echo requests to a broadcast address', async () => {
    const dev = await h.standard();
    dev.inject(echoRequestFrame(1, undefined, parseIp4('10.9.0.255')!));
    h.run();
    expect(dev.takeTransmitted()).toHaveLength(0);
    expect(h.error('ip4-icmp-input', 'broadcast-echo')).toBe(1);
  });
});

describe('ip4-input validation', () => {
  it('drops each malformed header class with its own counter', async () => {
    const dev = await h.standard();
    const good = echoRequestFrame(1);
    const variants: [string, (f: Uint8Array) => Uint8Array][] = [
      ['too-short', (f) => f.subarray(0, 14 + 19)],
      ['bad-version', (f) => ((f[14] = 0x65), f)],
      ['bad-header-length', (f) => ((f[14] = 0x44), f)],
      ['truncated', (f) => ((f[14 + 2] = 0x0f), f)],
      ['bad-length', (f) => ((f[14 + 2] = 0), (f[14 + 3] = 19), f)],
      ['bad-checksum', (f) => ((f[14 + 10] ^= 0xff), f)],
      ['ttl-zero', (f) => { f[14 + 8] = 0; const p = new Ipv4Packet(f, 14); p.fillChecksum(); return f; }],
      ['fragment', (f) => { f[14 + 6] = 0x20; const p = new Ipv4Packet(f, 14); p.fillChecksum(); return f; }],
      ['not-for-us', (f) => { const p = new Ipv4Packet(f, 14); p.dst = parseIp4('10.9.0.99')!; p.fillChecksum(); return f; }],
    ];
    for (const [, mutate] of variants) dev.inject(mutate(good.slice()));
    dev.inject(good.subarray(0, 10)); // runt
    dev.inject(ethernetFrame(OUR_MAC, PEER_MAC, EtherType.IPV6, new Uint8Array(40)));
    dev.inject(ethernetFrame(PEER_MAC, PEER_MAC, EtherType.IPV4, ipv4Packet(PEER_IP, OUR_IP, 1, new Uint8Array(8))));
    h.run();
    for (const [name] of variants) expect(h.error('ip4-input', name), name).toBe(1);
    expect(h.error('ethernet-input', 'runt')).toBe(1);
    expect(h.error('ethernet-input', 'ip6')).toBe(1);
    expect(h.error('ethernet-input', 'l3-mac-mismatch')).toBe(1);
    expect(dev.takeTransmitted()).toHaveLength(0);
    const sw = h.net.interfaces.find('host-veth0')!.swIfIndex;
    expect(h.net.interfaces.counters.get(sw, InterfaceCounter.DROPS)).toBe(variants.length + 3);
    expect(h.net.interfaces.counters.get(sw, InterfaceCounter.IP6)).toBe(1);
    expect(h.main.graph.buffers.available).toBe(h.main.graph.buffers.capacity);
  });

  it('trims Ethernet padding before local delivery', async () => {
    const dev = await h.standard();
    h.net.neighbors.learn(1, PEER_IP, 0x02000000, 0x0002, 0, true);
    const padded = new Uint8Array(echoRequestFrame(3, new Uint8Array(4)).length + 10);
    padded.set(echoRequestFrame(3, new Uint8Array(4)));
    dev.inject(padded);
    h.run();
    const out = dev.takeTransmitted();
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBe(14 + 20 + 12);
  });
});

describe('ip4-local', () => {
  it('drops TCP until tcp4-input exists, then hands it over with current at the IPv4 header', async () => {
    const dev = await h.standard();
    const tcp = ethernetFrame(OUR_MAC, PEER_MAC, EtherType.IPV4, ipv4Packet(PEER_IP, OUR_IP, IpProtocol.TCP, new Uint8Array(20)));
    dev.inject(tcp);
    h.run();
    expect(h.error('ip4-local', 'no-handler')).toBe(1);
    const got: number[] = [];
    h.main.registerNode({
      name: 'tcp4-input',
      type: 'internal',
      fn: (node, vector, count) => {
        for (let i = 0; i < count; i++) {
          const bi = vector[i]!;
          got.push(node.buffers.arena[node.buffers.current[bi]! + 9]!, node.buffers.length[bi]!);
          node.buffers.free(bi);
        }
      },
    });
    dev.inject(tcp);
    h.run();
    expect(got).toEqual([IpProtocol.TCP, 40]);
    expect(h.error('ip4-local', 'no-handler')).toBe(1);
  });

  it('answers UDP with a rate-limited ICMP port unreachable', async () => {
    const dev = await h.standard();
    h.net.neighbors.learn(1, PEER_IP, 0x02000000, 0x0002, 0, true);
    const udp = ethernetFrame(OUR_MAC, PEER_MAC, EtherType.IPV4, ipv4Packet(PEER_IP, OUR_IP, IpProtocol.UDP, new Uint8Array(16).fill(1)));
    for (let i = 0; i < 50; i++) dev.inject(udp);
    h.run();
    const out = dev.takeTransmitted();
    expect(out.length).toBeGreaterThan(0);
    expect(out.length).toBeLessThan(50);
    expect(h.error('ip4-icmp-error', 'sent')).toBe(out.length);
    expect(h.error('ip4-icmp-error', 'rate-limited')).toBe(50 - out.length);
    const ip = Ipv4Packet.checked(out[0]!, 14);
    expect(ip.dst).toBe(PEER_IP);
    expect(ip.src).toBe(OUR_IP);
    const icmp = parseIcmp(IcmpPacket.checked(out[0]!, 34, ip.payloadLen));
    expect(icmp.kind).toBe('dest-unreachable');
    if (icmp.kind === 'dest-unreachable') {
      expect(icmp.code).toBe(3);
      expect(icmp.original).toEqual(udp.subarray(14));
    }
  });
});

describe('ip4Output and routes', () => {
  it('routes a locally built packet via a static route, filling the source, resolving the gateway', async () => {
    const dev = await h.standard();
    await h.cli('ip route add 0.0.0.0/0 via 10.9.0.254');
    const pool = h.main.graph.buffers;
    const bi = pool.allocFrom(ipv4Packet(0, parseIp4('192.0.2.7')!, IpProtocol.UDP, new Uint8Array(8)));
    expect(bi).not.toBe(NONE);
    h.net.ip4Output(bi);
    h.run();
    let out = dev.takeTransmitted();
    expect(out).toHaveLength(1);
    expect(parseArpFrame(out[0]!).targetIp).toBe(parseIp4('10.9.0.254'));
    dev.inject(arpFrame(ArpOperation.REPLY, PEER_MAC, parseIp4('10.9.0.254')!, OUR_MAC, OUR_IP));
    h.run();
    out = dev.takeTransmitted();
    expect(out).toHaveLength(1);
    const ip = Ipv4Packet.checked(out[0]!, 14);
    expect(ip.src).toBe(OUR_IP);
    expect(ip.dst).toBe(parseIp4('192.0.2.7'));
    expect(formatMac(EthernetFrame.checked(out[0]!).dst)).toBe(formatMac(PEER_MAC));
    const fib = await h.cli('show ip fib');
    expect(fib).toContain('0.0.0.0/0\n  [@0]: via 10.9.0.254');
    expect(fib).toContain('10.9.0.0/24\n  [@0]: attached, connected: glean host-veth0');
    expect(fib).toContain('10.9.0.1/32\n  [@0]: dpo-receive: 10.9.0.1 on host-veth0');
  });

  it('drops packets without a route and gives up unanswered ARP', async () => {
    const dev = await h.standard();
    const pool = h.main.graph.buffers;
    h.net.ip4Output(pool.allocFrom(ipv4Packet(0, parseIp4('192.0.2.7')!, IpProtocol.UDP, new Uint8Array(8))));
    h.run();
    expect(h.error('ip4-lookup', 'no-route')).toBe(1);
    h.net.ip4Output(pool.allocFrom(ipv4Packet(0, parseIp4('10.9.0.50')!, IpProtocol.UDP, new Uint8Array(8))));
    h.run();
    expect(dev.takeTransmitted()).toHaveLength(1);
    // Retries then gives up (the neighbour process runs on simulated time here).
    const table = h.net.neighbors;
    const t0 = table.lookup(1, parseIp4('10.9.0.50')!)!.lastRequestAt;
    const r1 = table.expire(t0 + 1000);
    expect(r1.retry).toHaveLength(1);
    table.expire(t0 + 2000);
    const r3 = table.expire(t0 + 3000);
    expect(r3.dropped).toHaveLength(1);
    pool.free(r3.dropped[0]!);
    expect(pool.available).toBe(pool.capacity);
  });
});

describe('trace', () => {
  it('records a packet path through the graph', async () => {
    const dev = await h.standard();
    h.net.neighbors.learn(1, PEER_IP, 0x02000000, 0x0002, 0, true);
    h.main.graph.trace.arm(h.net.nodes.afPacketInput, 10);
    dev.inject(echoRequestFrame(9));
    h.run();
    const [records] = h.main.graph.trace.packetsTraced;
    const names = records!.map((r) => h.main.graph.nodes[r.node]!.name);
    expect(names).toEqual([
      'af-packet-input', 'ethernet-input', 'ip4-input', 'ip4-local', 'ip4-icmp-input', 'ip4-lookup', 'ip4-rewrite', 'interface-output', 'af-packet-output',
    ]);
    const text = records!.map((r) => h.main.graph.nodes[r.node]!.desc.formatTrace!(r.data)).join('\n');
    expect(text).toContain('IP4: 02:00:00:00:00:02 -> 02:fe:00:00:00:01');
    expect(text).toContain('protocol 1 10.9.0.2 -> 10.9.0.1');
    expect(text).toContain('ICMP echo_request checksum ok code 0 id 16962 seq 9');
  });
});
