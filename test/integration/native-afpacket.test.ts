// AF_PACKET device against real veth pairs and network namespaces (needs root).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfPacketDevice } from '../../src/native/af-packet-device.js';
import { isNativeErrnoError } from '../../src/native/binding.js';
import { FrameFlag, RxBatch, formatMac, type TxBatch } from '../../src/native/packet-device.js';
import { createVethNamespace, execInNetns, ip, runCommand, type VethNamespace } from '../../src/native/veth.js';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';

const isRoot = process.getuid?.() === 0;
/** ethtool turns TSO off to make the kernel segment our GSO frames in software (Debian package ethtool). */
const hasEthtool = ['/usr/sbin/ethtool', '/sbin/ethtool'].some((p) => existsSync(p));
const HOST_IP = '10.201.0.1';
const PEER_IP = '10.201.0.2';

// ---- tiny frame builders (test-only) ----
function checksum(b: Uint8Array, start: number, end: number, initial = 0): number {
  let s = initial;
  for (let i = start; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) s += b[end - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
const ip4 = (a: string) => Uint8Array.from(a.split('.').map(Number));
function macBytes(s: string): Uint8Array {
  return Uint8Array.from(s.split(':').map((x) => parseInt(x, 16)));
}
function ethernet(dst: Uint8Array, src: Uint8Array, type: number, payloadLen: number): Uint8Array {
  const f = new Uint8Array(14 + payloadLen);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  return f;
}
function arpReply(srcMac: Uint8Array, srcIp: string, dstMac: Uint8Array, dstIp: string): Uint8Array {
  const f = ethernet(dstMac, srcMac, 0x0806, 28);
  f.set([0, 1, 8, 0, 6, 4, 0, 2], 14);
  f.set(srcMac, 22);
  f.set(ip4(srcIp), 28);
  f.set(dstMac, 32);
  f.set(ip4(dstIp), 38);
  return f;
}
/** IPv4/UDP frame; udpChecksum: 'valid' | a literal value to put in the field. */
function udpFrame(
  srcMac: Uint8Array,
  dstMac: Uint8Array,
  srcIp: string,
  dstIp: string,
  dport: number,
  payload: Uint8Array,
  udpChecksum: 'valid' | number,
): Uint8Array {
  const udpLen = 8 + payload.length;
  const f = ethernet(dstMac, srcMac, 0x0800, 20 + udpLen);
  f.set([0x45, 0, (20 + udpLen) >> 8, (20 + udpLen) & 0xff, 0, 1, 0x40, 0, 64, 17, 0, 0], 14);
  f.set(ip4(srcIp), 26);
  f.set(ip4(dstIp), 30);
  const h = checksum(f, 14, 34);
  f[24] = h >> 8;
  f[25] = h & 0xff;
  f.set([0x30, 0x39, dport >> 8, dport & 0xff, udpLen >> 8, udpLen & 0xff, 0, 0], 34);
  f.set(payload, 42);
  let c: number;
  if (udpChecksum === 'valid') {
    const pseudo = new Uint8Array(12);
    pseudo.set(f.subarray(26, 34), 0);
    pseudo[9] = 17;
    pseudo[10] = udpLen >> 8;
    pseudo[11] = udpLen & 0xff;
    c = checksum(f, 34, 42 + payload.length, ~checksum(pseudo, 0, 12) & 0xffff) || 0xffff;
  } else {
    c = udpChecksum;
  }
  f[40] = c >> 8;
  f[41] = c & 0xff;
  return f;
}
function txBatchOf(frames: Uint8Array[], meta?: Uint16Array): TxBatch {
  const data = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  const offsets = new Uint32Array(frames.length);
  const lengths = new Uint32Array(frames.length);
  let at = 0;
  frames.forEach((f, i) => {
    data.set(f, at);
    offsets[i] = at;
    lengths[i] = f.length;
    at += f.length;
  });
  return { data, offsets, lengths, count: frames.length, meta };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ethType = (f: Uint8Array) => (f[12]! << 8) | f[13]!;

/** Drains `dev` on every readiness into `into`; returns the number of wake-ups so far via the getter. */
function collect(dev: AfPacketDevice, into: Uint8Array[], batch = RxBatch.packed(256)) {
  let wakeups = 0;
  const sizes: number[] = [];
  dev.onReadable(() => {
    wakeups++;
    const n = dev.rxBatch(batch);
    sizes.push(n);
    for (let i = 0; i < n; i++) into.push(batch.frame(i).slice());
  });
  return { wakeups: () => wakeups, sizes };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for condition');
    await sleep(10);
  }
}

describe.skipIf(!isRoot).each(['v2', 'v3'] as const)('AfPacketDevice on a veth pair (%s RX ring)', (rxRing) => {
  let topo: VethNamespace;
  let dev: AfPacketDevice;
  let peerMac: Uint8Array;

  beforeAll(async () => {
    topo = await createVethNamespace('opaf', { peerAddress: `${PEER_IP}/24` });
    dev = AfPacketDevice.open(topo.host, { rxRing });
    expect(dev.rxRing).toBe(rxRing);
    const link = JSON.parse(await ip(['-j', 'link', 'show', 'dev', topo.peer], topo.netns)) as { address: string }[];
    peerMac = macBytes(link[0]!.address);
  });

  afterAll(async () => {
    dev?.close();
    await topo?.close();
  });

  it('reports ifindex, MAC, MTU and link state like `ip link`', async () => {
    const [link] = JSON.parse(await ip(['-j', 'link', 'show', 'dev', topo.host])) as {
      ifindex: number;
      address: string;
      mtu: number;
    }[];
    expect(dev.ifindex).toBe(link!.ifindex);
    expect(formatMac(dev.mac)).toBe(link!.address);
    expect(dev.mtu).toBe(link!.mtu);
    expect(dev.fd).toBeGreaterThan(2);
    expect(dev.offload).toBe(true);
    expect(dev.linkState()).toEqual({ up: true, running: true });
    expect(dev.txMaxFrame).toBeGreaterThanOrEqual(1514);
  });

  it('receives the ARP requests and ICMP echoes the namespace sends', async () => {
    const got: Uint8Array[] = [];
    collect(dev, got);
    try {
      // No static neighbour yet: the namespace's kernel asks who has HOST_IP.
      await execInNetns(topo.netns, 'ping', ['-c', '1', '-W', '1', HOST_IP]).catch(() => undefined);
      const arps = got.filter((f) => ethType(f) === 0x0806);
      expect(arps.length).toBeGreaterThanOrEqual(1);
      expect(arps[0]!.length).toBe(42);
      expect(formatMac(arps[0]!.subarray(6, 12))).toBe(formatMac(peerMac));
      expect(Array.from(arps[0]!.subarray(38, 42))).toEqual(Array.from(ip4(HOST_IP)));

      // With a static neighbour, echo requests of two sizes arrive whole.
      await ip(['neigh', 'replace', HOST_IP, 'lladdr', formatMac(dev.mac), 'dev', topo.peer], topo.netns);
      got.length = 0;
      await execInNetns(topo.netns, 'ping', ['-c', '2', '-i', '0.05', '-W', '0.2', '-s', '100', HOST_IP]).catch(() => undefined);
      await execInNetns(topo.netns, 'ping', ['-c', '2', '-i', '0.05', '-W', '0.2', '-s', '1400', HOST_IP]).catch(() => undefined);
      const echoes = got.filter((f) => ethType(f) === 0x0800 && f[23] === 1 && f[34] === 8);
      // (the first ping's echo, queued behind ARP, is 98 bytes: size the later ones differently)
      expect(echoes.map((f) => f.length).filter((l) => l !== 98)).toEqual([142, 142, 1442, 1442]);
      for (const f of echoes) expect(checksum(f, 14, 34)).toBe(0);
    } finally {
      dev.onReadable(null);
    }
  });

  it('reports CHECKSUM_PARTIAL UDP from the namespace with csum_start/csum_offset', async () => {
    const got: Uint8Array[] = [];
    const batch = RxBatch.packed(64);
    const flags: number[] = [];
    dev.onReadable(() => {
      const n = dev.rxBatch(batch);
      for (let i = 0; i < n; i++) {
        const f = batch.frame(i);
        if (ethType(f) === 0x0800 && f[23] === 17) {
          got.push(f.slice());
          flags.push(batch.flags(i), batch.csumStart(i), batch.csumOffset(i));
        }
      }
    });
    try {
      await ip(['neigh', 'replace', HOST_IP, 'lladdr', formatMac(dev.mac), 'dev', topo.peer], topo.netns);
      await execInNetns(topo.netns, 'python3', [
        '-c',
        `import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x'*100, ('${HOST_IP}', 9999))`,
      ]);
      await until(() => got.length >= 1);
      expect(got[0]!.length).toBe(14 + 20 + 8 + 100);
      expect(flags[0]! & FrameFlag.CSUM_PARTIAL).toBe(FrameFlag.CSUM_PARTIAL);
      expect(flags[1]).toBe(34); // checksum covers the UDP header onwards
      expect(flags[2]).toBe(6); // UDP checksum field offset
    } finally {
      dev.onReadable(null);
    }
  });

  it('transmits a batch the namespace side receives byte for byte, in few wake-ups', async () => {
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns });
    const got: Uint8Array[] = [];
    const c = collect(peerDev, got);
    try {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 200; i++) {
        const f = ethernet(peerMac, dev.mac, 0x88b5, 46 + (i % 50));
        f[14] = i;
        f[15] = 0x5a;
        frames.push(f);
      }
      const r = dev.txBatch(txBatchOf(frames));
      expect(r).toEqual({ accepted: 200, ringFull: false });
      await until(() => got.length >= 200);
      const ours = got.filter((f) => ethType(f) === 0x88b5 && f[15] === 0x5a);
      expect(ours.length).toBe(200);
      ours.forEach((f, i) => expect(f).toEqual(frames[i]));
      // One kick, one RX block: far fewer wake-ups than frames.
      expect(c.wakeups()).toBeLessThan(20);
      expect(Math.max(...c.sizes)).toBeGreaterThan(10);
      const s = dev.stats();
      expect(s.txFrames).toBeGreaterThanOrEqual(200);
    } finally {
      peerDev.close();
    }
  });

  it('answers ARP so the namespace learns our MAC', async () => {
    // Remove the permanent entry earlier tests installed, so the namespace has to ask.
    await ip(['neigh', 'del', HOST_IP, 'dev', topo.peer], topo.netns).catch(() => undefined);
    const got: Uint8Array[] = [];
    const batch = RxBatch.packed(64);
    let replied = 0;
    dev.onReadable(() => {
      const n = dev.rxBatch(batch);
      for (let i = 0; i < n; i++) {
        const f = batch.frame(i);
        got.push(f.slice());
        // ARP request for HOST_IP -> reply from our MAC.
        if (ethType(f) === 0x0806 && f[21] === 1 && f.subarray(38, 42).join('.') === HOST_IP) {
          const reply = arpReply(dev.mac, HOST_IP, f.subarray(22, 28), f.subarray(28, 32).join('.'));
          replied += dev.txBatch(txBatchOf([reply])).accepted;
        }
      }
    });
    try {
      await execInNetns(topo.netns, 'ping', ['-c', '1', '-W', '0.3', HOST_IP]).catch(() => undefined);
      expect(replied).toBeGreaterThanOrEqual(1);
      const neigh = await ip(['neigh', 'show', HOST_IP, 'dev', topo.peer], topo.netns);
      expect(neigh).toContain(formatMac(dev.mac));
      expect(neigh).not.toContain('INCOMPLETE');
    } finally {
      dev.onReadable(null);
    }
  });

  it('fills the L4 checksum when TX asks for offload', async () => {
    await ip(['neigh', 'replace', HOST_IP, 'lladdr', formatMac(dev.mac), 'dev', topo.peer], topo.netns);
    const port = 5555;
    const receiver = spawn('ip', [
      'netns', 'exec', topo.netns, 'python3', '-c',
      `import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('${PEER_IP}', ${port})); s.settimeout(5); print(s.recvfrom(2048)[0].decode(), flush=True)`,
    ]);
    let out = '';
    receiver.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => receiver.on('exit', () => r()));
    try {
      const enc = new TextEncoder();
      // A wrong checksum without offload is dropped by the receiving stack; the same garbage with
      // CSUM_PARTIAL is accepted because the checksum is now the device's job.
      const bad = udpFrame(dev.mac, peerMac, HOST_IP, PEER_IP, port, enc.encode('bad'), 0xdead);
      const good = udpFrame(dev.mac, peerMac, HOST_IP, PEER_IP, port, enc.encode('good'), 0xdead);
      const meta = new Uint16Array(8);
      meta.set([FrameFlag.CSUM_PARTIAL, 34, 6, 0], 4);
      const t0 = Date.now();
      while (out === '' && Date.now() - t0 < 4000) {
        dev.txBatch(txBatchOf([bad, good], meta));
        await sleep(100);
      }
      expect(out.trim()).toBe('good');
      // A correctly checksummed frame without offload is accepted too (sanity of the builder).
      expect(checksum(udpFrame(dev.mac, peerMac, HOST_IP, PEER_IP, port, enc.encode('x'), 'valid'), 14, 34)).toBe(0);
    } finally {
      if (receiver.exitCode === null) receiver.kill();
      await exited;
    }
  });

  it('takes a batch longer than the TX ring while the kernel drains it, and reports a full ring when it cannot', async () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) frames.push(ethernet(peerMac, dev.mac, 0x88b6, 46));
    // veth completes synchronously: a kick on wrap-around frees the slots for the rest of the batch.
    expect(dev.txBatch(txBatchOf(frames))).toEqual({ accepted: 1500, ringFull: false });
    // With the link down nothing leaves: the ring (1024 slots) fills and the rest stays with the caller.
    const before = dev.stats().txRingFull;
    dev.setLinkUp(false);
    try {
      const r = dev.txBatch(txBatchOf(frames));
      expect(r.accepted).toBeGreaterThanOrEqual(1024);
      expect(r.accepted).toBeLessThan(1500);
      expect(r.ringFull).toBe(true);
      expect(dev.stats().txRingFull).toBe(before + 1);
    } finally {
      dev.setLinkUp(true);
    }
    await until(() => dev.linkState().running);
    dev.flushTx();
    await sleep(50);
    expect(dev.txBatch(txBatchOf(frames.slice(0, 10))).accepted).toBe(10);
  });

  it('spreads RX over several fanout queues', async () => {
    const multi = AfPacketDevice.open(topo.peer, { netns: topo.netns, rxQueues: 2 });
    try {
      expect(multi.rxQueueCount).toBe(2);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 64; i++) {
        frames.push(udpFrame(dev.mac, peerMac, HOST_IP, PEER_IP, 20000 + i, Uint8Array.of(i), 'valid'));
        frames[i]![35] = i; // vary the source port too: 64 flows
      }
      expect(dev.txBatch(txBatchOf(frames)).accepted).toBe(64);
      const perQueue = [0, 0];
      const b = RxBatch.packed(128);
      await until(() => {
        for (let q = 0; q < 2; q++) {
          const n = multi.rxQueueBatch(q, b);
          for (let i = 0; i < n; i++) if (b.frame(i)[23] === 17 && b.frame(i)[36] === 0x4e) perQueue[q]!++;
        }
        return perQueue[0]! + perQueue[1]! >= 64;
      });
      expect(perQueue[0]! + perQueue[1]!).toBe(64);
      expect(perQueue[0]).toBeGreaterThan(0);
      expect(perQueue[1]).toBeGreaterThan(0);

      // rxBatch fills one batch from both queues in turn; every frame stays intact.
      expect(dev.txBatch(txBatchOf(frames)).accepted).toBe(64);
      const ports = new Set<number>();
      await until(() => {
        const n = multi.rxBatch(b);
        for (let i = 0; i < n; i++) {
          const f = b.frame(i);
          if (f[23] !== 17 || f[36] !== 0x4e) continue;
          const idx = ((f[36]! << 8) | f[37]!) - 20000;
          expect(f.length).toBe(frames[idx]!.length);
          expect(f).toEqual(frames[idx]);
          ports.add(idx);
        }
        return ports.size >= 64;
      });
      expect(ports.size).toBe(64);
    } finally {
      multi.close();
    }
  });

  it('fills caller-given slots and drops frames longer than a slot', async () => {
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns });
    try {
      const sizes = [100, 1000, 300];
      const frames = sizes.map((len, i) => {
        const f = ethernet(peerMac, dev.mac, 0x88b5, len - 14);
        f[14] = i;
        f[15] = 0x77;
        return f;
      });
      expect(dev.txBatch(txBatchOf(frames)).accepted).toBe(3);
      const arena = new Uint8Array(4 * 640);
      const b = RxBatch.slots(arena, 512, 4);
      const ours: Uint8Array[] = [];
      await until(() => {
        b.offsets.set([3 * 640 + 128, 2 * 640 + 128, 640 + 128, 128]);
        const n = peerDev.rxBatch(b);
        for (let i = 0; i < n; i++) {
          const f = b.frame(i);
          if (ethType(f) === 0x88b5 && f[15] === 0x77) {
            expect([3 * 640 + 128, 2 * 640 + 128, 640 + 128, 128]).toContain(b.offsets[i]);
            ours.push(f.slice());
          }
        }
        return ours.length >= 2;
      });
      expect(ours.map((f) => f.length)).toEqual([100, 300]);
      expect(ours[1]).toEqual(frames[2]);
      expect(peerDev.socketStats()[0]!.rxTooBig).toBeGreaterThanOrEqual(1);
      expect(peerDev.stats().rxDropped).toBeGreaterThanOrEqual(1);
    } finally {
      peerDev.close();
    }
  });

  it('delivers frames longer than a ring slot whole and in order, or drops them when a slot is too small', async () => {
    // A GSO super-frame crosses veth whole; a V2 ring slot (2048) cannot hold it, so it comes from the socket's
    // copy queue, and must still land between the frames sent around it.
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns, rxRing });
    try {
      const small = (marker: number) => {
        const f = ethernet(peerMac, dev.mac, 0x88b5, 46);
        f[14] = marker;
        f[15] = 0x66;
        return f;
      };
      const big = (marker: number) => {
        const payload = new Uint8Array(3 * 1448).fill(marker);
        const f = tcpSuperFrame(dev.mac, peerMac, 1, payload, 5599);
        return f;
      };
      const meta = new Uint16Array(3 * 4);
      meta.set([FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL, 34, 16, 1448], 4);
      const ours = (f: Uint8Array) => (ethType(f) === 0x88b5 && f[15] === 0x66) || (ethType(f) === 0x0800 && f[23] === 6 && f[37] === (5599 & 0xff));
      const sent = [small(1), big(2), small(3)];
      expect(dev.txBatch(txBatchOf(sent, meta)).accepted).toBe(3);
      const got: { frame: Uint8Array; flags: number }[] = [];
      const packed = RxBatch.packed(64, 1 << 18);
      await until(() => {
        const n = peerDev.rxBatch(packed);
        for (let i = 0; i < n; i++) if (ours(packed.frame(i))) got.push({ frame: packed.frame(i).slice(), flags: packed.flags(i) });
        return got.length >= 3;
      });
      expect(got.map((g) => g.frame)).toEqual(sent);
      expect(got[1]!.flags & FrameFlag.GSO_TCPV4).toBe(FrameFlag.GSO_TCPV4);
      if (rxRing === 'v2') expect(peerDev.socketStats()[0]!.rxCopied).toBe(1);

      // Into 2048-byte slots the super-frame cannot go: dropped and counted, the others delivered in order, and
      // the next super-frame (packed again) arrives whole: ring and copy queue stay in step.
      const tooBig = peerDev.socketStats()[0]!.rxTooBig;
      expect(dev.txBatch(txBatchOf([small(4), big(5), small(6)], meta)).accepted).toBe(3);
      const slots = RxBatch.slots(new Uint8Array(8 * 2048), 2048, 8);
      const inSlots: number[] = [];
      await until(() => {
        for (let i = 0; i < 8; i++) slots.offsets[i] = i * 2048;
        const n = peerDev.rxBatch(slots);
        for (let i = 0; i < n; i++) if (ours(slots.frame(i))) inSlots.push(slots.frame(i)[14]!);
        return inSlots.length >= 2;
      });
      expect(inSlots).toEqual([4, 6]);
      expect(peerDev.socketStats()[0]!.rxTooBig - tooBig).toBe(1);
      expect(dev.txBatch(txBatchOf([big(7)], meta.subarray(4, 8))).accepted).toBe(1);
      const last: Uint8Array[] = [];
      await until(() => {
        const n = peerDev.rxBatch(packed);
        for (let i = 0; i < n; i++) if (ours(packed.frame(i))) last.push(packed.frame(i).slice());
        return last.length >= 1;
      });
      expect(last[0]).toEqual(big(7));
      expect(peerDev.socketStats()[0]!.rxCopyLost).toBe(0);
    } finally {
      peerDev.close();
    }
  });

  it('reinserts an 802.1Q tag the kernel passed as metadata', async () => {
    // The receiving device untags 802.1Q frames into skb metadata before packet sockets see them; the shim
    // puts the tag back so the frame arrives as sent.
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns });
    try {
      const f = ethernet(peerMac, dev.mac, 0x8100, 4 + 2 + 50);
      f.set([0x20, 0x05, 0x88, 0xb5, 0x55, 0x44], 14); // PCP 1, VID 5, inner ethertype, marker
      expect(dev.txBatch(txBatchOf([f])).accepted).toBe(1);
      const b = RxBatch.packed(64);
      let got: { frame: Uint8Array; flags: number } | undefined;
      await until(() => {
        const n = peerDev.rxBatch(b);
        for (let i = 0; i < n; i++) if (b.frame(i)[19] === 0x44) got = { frame: b.frame(i).slice(), flags: b.flags(i) };
        return got !== undefined;
      });
      expect(got!.frame).toEqual(f);
      expect(got!.flags & FrameFlag.VLAN).toBe(FrameFlag.VLAN);
    } finally {
      peerDev.close();
    }
  });

  it('keeps RX notifications alive across a link flap', async () => {
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns });
    const got: Uint8Array[] = [];
    collect(dev, got);
    const marker = (m: number) => {
      const f = ethernet(dev.mac, peerMac, 0x88b5, 46);
      f[15] = m;
      return f;
    };
    try {
      peerDev.txBatch(txBatchOf([marker(0x31)]));
      await until(() => got.some((f) => f[15] === 0x31));
      dev.setLinkUp(false); // the socket gets ENETDOWN as a pending error: POLLERR
      await sleep(20);
      dev.setLinkUp(true);
      await until(() => dev.linkState().running);
      peerDev.txBatch(txBatchOf([marker(0x32)]));
      await until(() => got.some((f) => f[15] === 0x32));
      expect(dev.socketStats()[0]!.lastSocketError).toBe('ENETDOWN');
    } finally {
      dev.onReadable(null);
      peerDev.close();
    }
  });

  it('keeps frames queued while the link is down and sends them on flushTx after it comes up', async () => {
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns });
    const b = RxBatch.packed(64);
    const ours = () => {
      let k = 0;
      const n = peerDev.rxBatch(b);
      for (let i = 0; i < n; i++) if (ethType(b.frame(i)) === 0x88b5 && b.frame(i)[15] === 0x66) k++;
      return k;
    };
    try {
      dev.setLinkUp(false);
      const before = dev.socketStats()[0]!;
      const frames = [0, 1, 2].map((i) => {
        const f = ethernet(peerMac, dev.mac, 0x88b5, 46);
        f[14] = i;
        f[15] = 0x66;
        return f;
      });
      expect(dev.txBatch(txBatchOf(frames))).toEqual({ accepted: 3, ringFull: false });
      const after = dev.socketStats()[0]!;
      expect(after.txKickErrors).toBe(before.txKickErrors + 1);
      expect(after.txLastErrno).toBe('ENETDOWN');
      dev.setLinkUp(true);
      await until(() => dev.linkState().running);
      let got = 0;
      dev.flushTx();
      await until(() => (got += ours()) >= 3);
      expect(got).toBe(3);
    } finally {
      dev.setLinkUp(true);
      peerDev.close();
    }
  });

  it('sets the link down and up', async () => {
    dev.setLinkUp(false);
    expect(dev.linkState().up).toBe(false);
    dev.setLinkUp(true);
    expect(dev.linkState().up).toBe(true);
  });

  it('fails with the operation and errno name', () => {
    let err: unknown;
    try {
      AfPacketDevice.open('opnosuch0');
    } catch (e) {
      err = e;
    }
    expect(isNativeErrnoError(err)).toBe(true);
    expect(err).toMatchObject({ op: 'SIOCGIFINDEX', code: 'ENODEV' });
    expect(() => AfPacketDevice.open(topo.peer, { netns: 'opnosuch-ns' })).toThrow(/open_netns: ENOENT/);
    expect(() => AfPacketDevice.open(topo.peer)).toThrow(/ENODEV/); // exists only inside the namespace
  });
});

describe.skipIf(!isRoot)('AfPacketDevice offload metadata for TCP from a namespace', () => {
  // Our end carries a kernel address and a kernel TCP listener here; the packet socket watches the traffic.
  const HOST = '10.203.0.1';

  async function tcpBurst(gsoMaxSegs: number | undefined): Promise<{ big: number; gso: number[]; partial: number }> {
    const topo = await createVethNamespace('opgs', { address: `${HOST}/24`, peerAddress: '10.203.0.2/24', gsoMaxSegs });
    const dev = AfPacketDevice.open(topo.host);
    const server = createServer((s) => s.resume());
    try {
      await new Promise<void>((r) => server.listen(7777, HOST, r));
      const batch = RxBatch.packed(256, 1 << 21);
      const seen = { big: 0, gso: [] as number[], partial: 0 };
      dev.onReadable(() => {
        const n = dev.rxBatch(batch);
        for (let i = 0; i < n; i++) {
          if (batch.lengths[i]! > 1514) seen.big++;
          if (batch.flags(i) & FrameFlag.GSO_TCPV4) seen.gso.push(batch.gsoSize(i));
          if (batch.flags(i) & FrameFlag.CSUM_PARTIAL) seen.partial++;
        }
      });
      await execInNetns(topo.netns, 'python3', [
        '-c',
        `import socket; s=socket.create_connection(('${HOST}', 7777)); s.sendall(b'y'*200000); s.close()`,
      ]);
      await sleep(50);
      // A V2 ring's 2048-byte slots hold no super-frame: each came whole through the socket's copy queue.
      const st = dev.socketStats()[0]!;
      expect(st.rxCopied).toBe(seen.big);
      expect(st.rxTruncated + st.rxCopyLost).toBe(0);
      return seen;
    } finally {
      dev.close();
      server.close();
      await topo.close();
    }
  }

  it('reports GSO super-frames with their segment size', async () => {
    const seen = await tcpBurst(undefined);
    expect(seen.big).toBeGreaterThan(0);
    expect(seen.gso.length).toBe(seen.big);
    expect(seen.gso.every((g) => g === 1448)).toBe(true);
    expect(seen.partial).toBeGreaterThan(0);
  });

  it('sees only MTU-sized frames when the peer caps GSO at one segment', async () => {
    const seen = await tcpBurst(1);
    expect(seen.big).toBe(0);
    expect(seen.gso).toEqual([]);
    expect(seen.partial).toBeGreaterThan(100);
  });
});

// ---- TX GSO ----
const GSO_HOST = '10.204.0.1';
const GSO_PEER = '10.204.0.2';

/** Folded, uncomplemented ones'-complement sum of the IPv4 TCP pseudo-header: what CSUM_PARTIAL wants. */
function pseudoSum(src: string, dst: string, tcpLen: number): number {
  const p = new Uint8Array(12);
  p.set(ip4(src), 0);
  p.set(ip4(dst), 4);
  p[9] = 6;
  p[10] = tcpLen >> 8;
  p[11] = tcpLen & 0xff;
  return ~checksum(p, 0, 12) & 0xffff;
}

/** An Ethernet/IPv4/TCP frame (PSH|ACK) carrying `payload`, its TCP checksum field holding the pseudo-header sum. */
function tcpSuperFrame(srcMac: Uint8Array, dstMac: Uint8Array, seq: number, payload: Uint8Array, dport: number): Uint8Array {
  const ipLen = 40 + payload.length;
  const f = ethernet(dstMac, srcMac, 0x0800, ipLen);
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0], 14);
  f.set(ip4(GSO_HOST), 26);
  f.set(ip4(GSO_PEER), 30);
  const h = checksum(f, 14, 34);
  f[24] = h >> 8;
  f[25] = h & 0xff;
  const t = 34;
  f.set([0x9c, 0x40, dport >> 8, dport & 0xff, seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff], t);
  f.set([0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff], t + 8);
  const ps = pseudoSum(GSO_HOST, GSO_PEER, 20 + payload.length);
  f[t + 16] = ps >> 8;
  f[t + 17] = ps & 0xff;
  f.set(payload, 54);
  return f;
}

function gsoMeta(count: number, mss: number): Uint16Array {
  const m = new Uint16Array(count * 4);
  for (let i = 0; i < count; i++) m.set([FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL, 34, 16, mss], i * 4);
  return m;
}

describe.skipIf(!isRoot)('AfPacketDevice TX GSO on a veth pair', () => {
  let topo: VethNamespace;
  let dev: AfPacketDevice;
  let peerMac: Uint8Array;

  beforeAll(async () => {
    topo = await createVethNamespace('opgx', { peerAddress: `${GSO_PEER}/24` });
    dev = AfPacketDevice.open(topo.host);
    const link = JSON.parse(await ip(['-j', 'link', 'show', 'dev', topo.peer], topo.netns)) as { address: string }[];
    peerMac = macBytes(link[0]!.address);
  });

  afterAll(async () => {
    dev?.close();
    await topo?.close();
  });

  it('offers TX GSO only with offload', () => {
    expect(dev.offload).toBe(true);
    expect(dev.txGsoMaxSize).toBeGreaterThanOrEqual(14 + 65535);
    expect(dev.txMaxFrame).toBeGreaterThanOrEqual(1514);
    expect(dev.txMaxFrame).toBeLessThan(4096);
    const plain = AfPacketDevice.open(topo.host, { offload: false });
    try {
      expect(plain.offload).toBe(false);
      expect(plain.txGsoMaxSize).toBe(0);
      // A GSO frame to a device without GSO is dropped and counted, never sent whole.
      const f = tcpSuperFrame(plain.mac, peerMac, 1, new Uint8Array(3000), 9);
      expect(plain.txBatch(txBatchOf([f], gsoMeta(1, 1448)))).toEqual({ accepted: 1, ringFull: false });
      expect(plain.stats().txDropped).toBe(1);
      expect(plain.stats().txFrames).toBe(0);
    } finally {
      plain.close();
    }
    expect(AfPacketDevice.open(topo.host, { txGsoFrames: 0 }).txGsoMaxSize).toBe(0);
  });

  /** Sends one 3 × MSS super-frame with GSO metadata; returns what the peer's packet socket saw of it. */
  async function sendSuperFrame(dport: number): Promise<{ frame: Uint8Array; sent: Uint8Array; got: { frame: Uint8Array; flags: number; gsoSize: number; csumStart: number; csumOffset: number }[] }> {
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns });
    const got: { frame: Uint8Array; flags: number; gsoSize: number; csumStart: number; csumOffset: number }[] = [];
    const batch = RxBatch.packed(64, 1 << 18);
    peerDev.onReadable(() => {
      const n = peerDev.rxBatch(batch);
      for (let i = 0; i < n; i++) {
        const f = batch.frame(i);
        if (ethType(f) === 0x0800 && f[23] === 6 && ((f[36]! << 8) | f[37]!) === dport) {
          got.push({ frame: f.slice(), flags: batch.flags(i), gsoSize: batch.gsoSize(i), csumStart: batch.csumStart(i), csumOffset: batch.csumOffset(i) });
        }
      }
    });
    try {
      const payload = new Uint8Array(3 * MSS);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >>> 8)) & 0xff;
      const frame = tcpSuperFrame(dev.mac, peerMac, SEQ, payload, dport);
      const before = dev.socketStats()[0]!;
      expect(dev.txBatch(txBatchOf([frame], gsoMeta(1, MSS)))).toEqual({ accepted: 1, ringFull: false });
      const after = dev.socketStats()[0]!;
      expect(after.txGsoFrames - before.txGsoFrames).toBe(1);
      expect(after.txGsoBytes - before.txGsoBytes).toBe(frame.length);
      expect(after.txKickErrors + after.txKickEnobufs).toBe(before.txKickErrors + before.txKickEnobufs);
      await until(() => got.reduce((a, g) => a + g.frame.length - 54, 0) >= payload.length);
      await sleep(20);
      return { frame, sent: payload, got };
    } finally {
      peerDev.close();
    }
  }
  const MSS = 1448;
  const SEQ = 0x7fff_f000;

  it('hands a TSO-capable veth the super-frame whole, with its GSO metadata', async () => {
    const { frame, got } = await sendSuperFrame(5555);
    expect(got.length).toBe(1);
    const g = got[0]!;
    expect(g.frame).toEqual(frame);
    expect(g.flags & (FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL)).toBe(FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL);
    expect(g.gsoSize).toBe(MSS);
    expect([g.csumStart, g.csumOffset]).toEqual([34, 16]);
  });

  it.skipIf(!hasEthtool)('is segmented by the kernel into three correct TCP segments when the device has no TSO', async () => {
    await runCommand('ethtool', ['-K', topo.host, 'tso', 'off']);
    let r: Awaited<ReturnType<typeof sendSuperFrame>>;
    try {
      r = await sendSuperFrame(5556);
    } finally {
      await runCommand('ethtool', ['-K', topo.host, 'tso', 'on']);
    }
    expect(r.got.length).toBe(3);
    const received: Uint8Array[] = [];
    r.got.forEach(({ frame: f, flags }, k) => {
      expect(f.length).toBe(14 + 40 + MSS);
      // IPv4: per-segment length, consecutive ids, a valid header checksum.
      expect((f[16]! << 8) | f[17]!).toBe(40 + MSS);
      expect((f[18]! << 8) | f[19]!).toBe(0x1234 + k);
      expect(checksum(f, 14, 34)).toBe(0);
      // TCP: sequence advances by the MSS; PSH only on the last segment.
      const s = ((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0;
      expect(s).toBe((SEQ + k * MSS) >>> 0);
      expect(f[47]).toBe(k === 2 ? 0x18 : 0x10);
      // The checksum is either still partial (veth keeps CHECKSUM_PARTIAL: the field holds this segment's
      // pseudo-header sum) or complete and valid.
      const field = (f[50]! << 8) | f[51]!;
      if (flags & FrameFlag.CSUM_PARTIAL) expect(field).toBe(pseudoSum(GSO_HOST, GSO_PEER, 20 + MSS));
      else expect(checksum(f, 34, f.length, ~pseudoSum(GSO_HOST, GSO_PEER, 20 + MSS) & 0xffff)).toBe(0);
      received.push(f.subarray(54));
    });
    expect(Buffer.concat(received).equals(Buffer.from(r.sent))).toBe(true);
  });

  it('reuses GSO ring slots safely: UDP GSO super-frames held unread by the receiver arrive intact', async () => {
    // 600 super-frames through the 62-slot GSO ring (it wraps ~10 times) while the receiver does not read yet:
    // if a slot were rewritten while the kernel still referenced it, datagrams would arrive with later bytes.
    const P = 1400;
    const SEG = 3;
    const N = 600;
    const code = [
      'import socket, time',
      `s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, 33, 32<<20); s.bind(('${GSO_PEER}', 9999))`,
      "print('ready', flush=True)",
      'time.sleep(1); s.settimeout(0.5); n=0; bad=0',
      'try:',
      '  while True:',
      '    d=s.recv(4096); n+=1; seq=d[0]|(d[1]<<8)',
      '    if len(d) != ' + P + ' or any(b != (seq & 0xff) for b in d[2:]): bad+=1',
      'except Exception: pass',
      'print(n, bad, flush=True)',
    ].join('\n');
    const py = spawn('ip', ['netns', 'exec', topo.netns, 'python3', '-c', code]);
    let out = '';
    py.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => py.on('exit', () => r()));
    try {
      await until(() => out.includes('ready'));
      const FL = 42 + P * SEG;
      const PER = 30;
      for (let k = 0; k < N; k += PER) {
        const frames: Uint8Array[] = [];
        const meta = new Uint16Array(PER * 4);
        for (let j = 0; j < PER; j++) {
          const f = ethernet(peerMac, dev.mac, 0x0800, FL - 14);
          const ipLen = FL - 14;
          f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0], 14);
          f.set(ip4(GSO_HOST), 26);
          f.set(ip4(GSO_PEER), 30);
          const h = checksum(f, 14, 34);
          f[24] = h >> 8;
          f[25] = h & 0xff;
          const ul = ipLen - 20;
          const p = new Uint8Array(12);
          p.set(f.subarray(26, 34), 0);
          p[9] = 17;
          p[10] = ul >> 8;
          p[11] = ul & 0xff;
          const ps = ~checksum(p, 0, 12) & 0xffff;
          f.set([0x30, 0x39, 0x27, 0x0f, ul >> 8, ul & 0xff, ps >> 8, ps & 0xff], 34);
          for (let g = 0; g < SEG; g++) {
            const seq = (k + j) * SEG + g;
            const at = 42 + g * P;
            f.fill(seq & 0xff, at, at + P);
            f[at + 1] = seq >> 8;
          }
          frames.push(f);
          meta.set([FrameFlag.GSO_UDP | FrameFlag.CSUM_PARTIAL, 34, 6, P], j * 4);
        }
        expect(dev.txBatch(txBatchOf(frames, meta)).accepted).toBe(PER);
        await sleep(2);
      }
      await exited;
      expect(out.split('\n')[1]).toBe(`${N * SEG} 0`);
    } finally {
      if (py.exitCode === null) py.kill();
      await exited;
    }
  });

  it('drops and counts GSO frames it cannot send, without stopping the batch', async () => {
    const big = tcpSuperFrame(dev.mac, peerMac, 1, new Uint8Array(dev.txGsoMaxSize), 9); // > txGsoMaxSize
    const ok = tcpSuperFrame(dev.mac, peerMac, 1, new Uint8Array(4000), 9);
    const meta = gsoMeta(4, 1448);
    meta[2 * 4] = FrameFlag.GSO_TCPV4; // no CSUM_PARTIAL: the kernel could not fix the checksums
    meta[3 * 4 + 3] = 0; // no segment size
    const before = dev.stats();
    const r = dev.txBatch(txBatchOf([big, ok, ok, ok], meta));
    expect(r).toEqual({ accepted: 4, ringFull: false });
    const after = dev.stats();
    expect(after.txDropped - before.txDropped).toBe(3);
    expect(after.txFrames - before.txFrames).toBe(1);
    // A non-GSO frame longer than txMaxFrame is dropped as before.
    const r2 = dev.txBatch(txBatchOf([ethernet(peerMac, dev.mac, 0x88b5, dev.txMaxFrame)]));
    expect(r2.accepted).toBe(1);
    expect(dev.stats().txDropped - after.txDropped).toBe(1);
  });

  it('keeps batch order across ordinary and GSO frames', async () => {
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns });
    const order: number[] = [];
    const batch = RxBatch.packed(256, 1 << 19);
    peerDev.onReadable(() => {
      const n = peerDev.rxBatch(batch);
      for (let i = 0; i < n; i++) {
        const f = batch.frame(i);
        if (ethType(f) === 0x88b5 && f[15] === 0xa5) order.push(f[14]!);
        else if (ethType(f) === 0x0800 && f[23] === 6 && ((f[36]! << 8) | f[37]!) === 5556) order.push(1000 + f[54]!);
      }
    });
    try {
      const frames: Uint8Array[] = [];
      const meta = new Uint16Array(12 * 4);
      for (let i = 0; i < 12; i++) {
        if (i % 3 === 1) {
          const payload = new Uint8Array(2 * 1448).fill(i);
          frames.push(tcpSuperFrame(dev.mac, peerMac, 1 + i * 10000, payload, 5556));
          meta.set([FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL, 34, 16, 1448], i * 4);
        } else {
          const f = ethernet(peerMac, dev.mac, 0x88b5, 46);
          f[14] = i;
          f[15] = 0xa5;
          frames.push(f);
        }
      }
      expect(dev.txBatch(txBatchOf(frames, meta)).accepted).toBe(12);
      const want = [0, 1001, 2, 3, 1004, 5, 6, 1007, 8, 9, 1010, 11];
      await until(() => order.length >= want.length);
      expect(order).toEqual(want);
    } finally {
      peerDev.close();
    }
  });
});

describe.skipIf(!isRoot)('AfPacketDevice V2 RX of jumbo frames (MTU 9000)', () => {
  it('reads frames longer than a slot whole from the copy queue, reinserting an 802.1Q tag', async () => {
    const topo = await createVethNamespace('opjv', { mtu: 9000 });
    const dev = AfPacketDevice.open(topo.host, { txFrameSize: 9216, txFrames: 200 }); // TX slots for jumbo frames
    expect(dev.txMaxFrame).toBeGreaterThanOrEqual(9018);
    const peerDev = AfPacketDevice.open(topo.peer, { netns: topo.netns });
    try {
      expect(peerDev.rxRing).toBe('v2');
      const peerMac = peerDev.mac;
      const tagged = ethernet(peerMac, dev.mac, 0x8100, 4 + 5000);
      tagged.set([0x20, 0x07, 0x88, 0xb5, 0x31], 14); // VID 7, inner ethertype, marker
      for (let i = 19; i < tagged.length; i++) tagged[i] = i & 0xff;
      const plain = ethernet(peerMac, dev.mac, 0x88b5, 3000);
      plain[14] = 0x32;
      expect(dev.txBatch(txBatchOf([tagged, plain])).accepted).toBe(2);
      const got: { frame: Uint8Array; flags: number }[] = [];
      const b = RxBatch.packed(16, 1 << 16);
      await until(() => {
        const n = peerDev.rxBatch(b);
        for (let i = 0; i < n; i++) {
          const f = b.frame(i);
          if (f.length > 2048) got.push({ frame: f.slice(), flags: b.flags(i) });
        }
        return got.length >= 2;
      });
      expect(got[0]!.frame).toEqual(tagged);
      expect(got[0]!.flags & (FrameFlag.VLAN | FrameFlag.TRUNCATED)).toBe(FrameFlag.VLAN);
      expect(got[1]!.frame).toEqual(plain);
      expect(got[1]!.flags & (FrameFlag.VLAN | FrameFlag.TRUNCATED)).toBe(0);
      expect(peerDev.socketStats()[0]!.rxCopied).toBe(2);
    } finally {
      peerDev.close();
      dev.close();
      await topo.close();
    }
  });
});

describe.skipIf(!isRoot)('AfPacketDevice TX GSO into a kernel TCP listener', () => {
  // Our device plays a TCP client by hand: handshake, then data as GSO super-frames, then FIN. The namespace's
  // kernel TCP (python listener) must receive every byte in order.
  const OURS = '10.207.0.1';
  const THEIRS = '10.207.0.2';
  const PORT = 7001;

  function segment(src: Uint8Array, dst: Uint8Array, seq: number, ack: number, flags: number, payload: Uint8Array): Uint8Array {
    const ipLen = 40 + payload.length;
    const f = ethernet(dst, src, 0x0800, ipLen);
    f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 7, 0x40, 0, 64, 6, 0, 0], 14);
    f.set(ip4(OURS), 26);
    f.set(ip4(THEIRS), 30);
    const h = checksum(f, 14, 34);
    f[24] = h >> 8;
    f[25] = h & 0xff;
    const u32 = (x: number) => [x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff];
    f.set([0xa0, 0x00, PORT >> 8, PORT & 0xff, ...u32(seq), ...u32(ack), 0x50, flags, 0xff, 0xff], 34);
    const ps = pseudoSum(OURS, THEIRS, 20 + payload.length);
    f[50] = ps >> 8;
    f[51] = ps & 0xff;
    f.set(payload, 54);
    return f;
  }

  it('delivers payload sent as GSO super-frames, byte for byte', async () => {
    const topo = await createVethNamespace('opgk', { peerAddress: `${THEIRS}/24` });
    const dev = AfPacketDevice.open(topo.host);
    const code = [
      'import socket, hashlib',
      `s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${THEIRS}', ${PORT})); s.listen(1)`,
      "print('ready', flush=True)",
      's.settimeout(10); c,_=s.accept(); c.settimeout(10); data=b""',
      'while True:',
      '  d=c.recv(1<<16)',
      '  if not d: break',
      '  data+=d',
      "print(len(data), hashlib.sha256(data).hexdigest(), flush=True)",
    ].join('\n');
    const listener = spawn('ip', ['netns', 'exec', topo.netns, 'python3', '-c', code]);
    let out = '';
    listener.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => listener.on('exit', () => r()));
    try {
      await ip(['neigh', 'replace', OURS, 'lladdr', formatMac(dev.mac), 'dev', topo.peer, 'nud', 'permanent'], topo.netns);
      const link = JSON.parse(await ip(['-j', 'link', 'show', 'dev', topo.peer], topo.netns)) as { address: string }[];
      const peerMac = macBytes(link[0]!.address);
      await until(() => out.includes('ready'));
      // Handshake: SYN out, SYN-ACK in (its sequence number), ACK out.
      const synAcks: number[] = [];
      const batch = RxBatch.packed(64, 1 << 18);
      dev.onReadable(() => {
        const n = dev.rxBatch(batch);
        for (let i = 0; i < n; i++) {
          const f = batch.frame(i);
          if (ethType(f) === 0x0800 && f[23] === 6 && ((f[34]! << 8) | f[35]!) === PORT && (f[47]! & 0x12) === 0x12) {
            synAcks.push(((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0);
          }
        }
      });
      const partial = (frames: Uint8Array[], gsoMask: boolean[]) => {
        const meta = new Uint16Array(frames.length * 4);
        frames.forEach((_, i) => meta.set(gsoMask[i] ? [FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL, 34, 16, 1448] : [FrameFlag.CSUM_PARTIAL, 34, 16, 0], i * 4));
        return txBatchOf(frames, meta);
      };
      const isn = 1_000_000;
      dev.txBatch(partial([segment(dev.mac, peerMac, isn, 0, 0x02, new Uint8Array(0))], [false]));
      await until(() => synAcks.length > 0);
      const ack = (synAcks[0]! + 1) >>> 0;
      // 3 super-frames of 3 × 1448 bytes (within the peer's unscaled 64 KiB window), then FIN.
      const payload = new Uint8Array(3 * 3 * 1448);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 13 + (i >>> 9)) & 0xff;
      const frames = [segment(dev.mac, peerMac, isn + 1, ack, 0x10, new Uint8Array(0))];
      for (let k = 0; k < 3; k++) {
        frames.push(segment(dev.mac, peerMac, isn + 1 + k * 4344, ack, 0x18, payload.subarray(k * 4344, (k + 1) * 4344)));
      }
      frames.push(segment(dev.mac, peerMac, isn + 1 + payload.length, ack, 0x11, new Uint8Array(0)));
      const before = dev.socketStats()[0]!.txGsoFrames;
      expect(dev.txBatch(partial(frames, [false, true, true, true, false])).accepted).toBe(5);
      expect(dev.socketStats()[0]!.txGsoFrames - before).toBe(3);
      await until(() => out.split('\n').length > 2);
      const [len, digest] = out.split('\n')[1]!.split(' ');
      expect(Number(len)).toBe(payload.length);
      expect(digest).toBe(createHash('sha256').update(payload).digest('hex'));
    } finally {
      dev.close();
      if (listener.exitCode === null) listener.kill();
      await exited;
      await topo.close();
    }
  });
});
