// A host interface as a PacketDevice: one AF_PACKET socket per RX queue (PACKET_FANOUT hash when more than
// one), TX through the first queue's ring.
import { loadNative, type AfPacketSocketOptions, type NativeAfPacketSocket, type NativeSocketStats } from './binding.js';
import { watchFd, type FdWatcher } from './fd-watch.js';
import type { DeviceStats, LinkState, PacketDevice, RxBatch, TxBatch, TxResult } from './packet-device.js';

export interface AfPacketDeviceOptions extends Omit<AfPacketSocketOptions, 'fanoutGroup'> {
  /** RX queues (sockets in one fanout group). Default 1. */
  rxQueues?: number;
  /** Fanout group id when rxQueues > 1; default derived from the pid and ifindex. */
  fanoutGroup?: number;
}

const EMPTY_U8 = new Uint8Array(0);
const EMPTY_U32 = new Uint32Array(0);
let fanoutCounter = 0;

export class AfPacketDevice implements PacketDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly netns: string | undefined;
  /** PACKET_VNET_HDR active: RX frames carry checksum/GSO flags; TX may request checksum offload and GSO. */
  readonly offload: boolean;
  readonly txMaxFrame: number;
  readonly txGsoMaxSize: number;
  /** RX ring version: 'v2' wakes the reader per frame, 'v3' per retired block (see AfPacketSocketOptions). */
  readonly rxRing: 'v2' | 'v3';
  private readonly queues: NativeAfPacketSocket[];
  private watchers: FdWatcher[] = [];
  /** Queue rxBatch starts with, rotated so no queue starves another. */
  private nextQueue = 0;
  private closed = false;

  private constructor(name: string, netns: string | undefined, queues: NativeAfPacketSocket[]) {
    const info = queues[0]!.info();
    this.name = name;
    this.netns = netns;
    this.ifindex = info.ifindex;
    this.mac = info.mac;
    this.mtu = info.mtu;
    this.queues = queues;
    this.offload = queues[0]!.offload;
    this.txMaxFrame = queues[0]!.txMaxFrame;
    this.txGsoMaxSize = queues[0]!.txGsoMaxSize;
    this.rxRing = queues[0]!.rxRing;
  }

  /** Opens `name` (inside `options.netns` if given). Throws the shim's errno error (op, code) on failure. */
  static open(name: string, options: AfPacketDeviceOptions = {}): AfPacketDevice {
    const native = loadNative();
    const n = options.rxQueues ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`rxQueues must be 1..64, got ${n}`);
    const { rxQueues: _q, fanoutGroup, ...socketOptions } = options;
    const queues: NativeAfPacketSocket[] = [];
    try {
      let group = 0;
      if (n > 1) {
        const ifindex = native.ifQuery(name, options.netns).ifindex;
        // Group ids are shared by the whole network namespace: mix in the pid and a per-process counter.
        group = fanoutGroup ?? ((process.pid * 131 + ifindex * 17 + fanoutCounter++) & 0xffff || 1);
      }
      for (let i = 0; i < n; i++) {
        // TX goes through queue 0 only: the other queues need no GSO ring.
        const txGso = i === 0 ? {} : { txGsoFrames: 0 };
        queues.push(new native.AfPacketSocket(name, { ...socketOptions, ...txGso, fanoutGroup: group }));
      }
    } catch (e) {
      for (const q of queues) q.close();
      throw e;
    }
    return new AfPacketDevice(name, options.netns, queues);
  }

  get fd(): number {
    return this.queues[0]!.fd;
  }

  get fds(): number[] {
    return this.queues.map((q) => q.fd);
  }

  get rxQueueCount(): number {
    return this.queues.length;
  }

  rxBatch(dst: RxBatch): number {
    const queues = this.queues;
    let count = 0;
    if (queues.length === 1) {
      count = queues[0]!.rx(dst.data, dst.offsets, dst.lengths, dst.meta, dst.slotSize, dst.limit, 0);
    } else {
      const start = this.nextQueue;
      for (let k = 0; k < queues.length && count < dst.limit; k++) {
        const q = queues[(start + k) % queues.length]!;
        count = q.rx(dst.data, dst.offsets, dst.lengths, dst.meta, dst.slotSize, dst.limit, count);
      }
      this.nextQueue = (start + 1) % queues.length;
    }
    dst.count = count;
    return count;
  }

  /** Reads one RX queue only (for a consumer per queue). */
  rxQueueBatch(queue: number, dst: RxBatch): number {
    const q = this.queues[queue];
    if (!q) throw new RangeError(`rx queue ${queue} of ${this.queues.length}`);
    dst.count = q.rx(dst.data, dst.offsets, dst.lengths, dst.meta, dst.slotSize, dst.limit, 0);
    return dst.count;
  }

  txBatch(batch: TxBatch): TxResult {
    const accepted = this.queues[0]!.tx(batch.data, batch.offsets, batch.lengths, batch.count, batch.meta);
    return { accepted, ringFull: accepted < batch.count };
  }

  /** Re-kicks frames a previous txBatch left queued after a failed kick (EAGAIN, ENOBUFS, link down). */
  flushTx(): void {
    this.queues[0]!.tx(EMPTY_U8, EMPTY_U32, EMPTY_U32, 0);
  }

  onReadable(cb: (() => void) | null): void {
    for (const w of this.watchers) w.stop();
    this.watchers = [];
    if (!cb || this.closed) return;
    this.watchers = this.queues.map((q) => {
      const w: FdWatcher = watchFd(q.fd, (status) => {
        if (status === 0) return cb();
        // A pending socket error (the link went down: ENETDOWN) raised POLLERR and libuv stopped polling.
        // Consume it and poll again, or RX would stay silent after the link comes back.
        q.clearError();
        w.restart();
      });
      return w;
    });
  }

  linkState(): LinkState {
    const info = this.queues[0]!.info();
    return { up: info.up, running: info.running };
  }

  setLinkUp(up: boolean): void {
    loadNative().ifSetUp(this.name, up, this.netns);
  }

  stats(): DeviceStats {
    const s = this.socketStats();
    const sum = (k: keyof Omit<NativeSocketStats, 'txLastErrno' | 'lastSocketError'>) => s.reduce((a, x) => a + x[k], 0);
    return {
      rxFrames: sum('rxFrames'),
      rxBytes: sum('rxBytes'),
      rxDropped: sum('kernelDrops') + sum('rxTooBig'),
      txFrames: sum('txFrames'),
      txBytes: sum('txBytes'),
      txDropped: sum('txDropped'),
      txRingFull: sum('txRingFull'),
    };
  }

  /** Per-queue socket counters (PACKET_STATISTICS accumulated, kick results), for `show hardware`. */
  socketStats(): NativeSocketStats[] {
    return this.queues.map((q) => q.stats());
  }

  close(): void {
    if (this.closed) return;
    this.onReadable(null);  // uv_poll must stop before its fd closes
    this.closed = true;
    for (const q of this.queues) q.close();
  }
}
