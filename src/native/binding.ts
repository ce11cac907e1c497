// Typed loader for the C++ shim (native/*.cc), built by cmake-js to build/native/Release/onionplane_native.node.
// Loaded lazily so code that only uses MemoryDevice runs without a native build.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `ifQuery` and `AfPacketSocket.info()` report. */
export interface NativeInterfaceInfo {
  name: string;
  ifindex: number;
  mac: Uint8Array;
  mtu: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING: carrier present. */
  running: boolean;
  flags: number;
}

export interface AfPacketSocketOptions {
  /** Open the socket inside this named network namespace (`ip netns`). */
  netns?: string;
  /** PACKET_VNET_HDR: checksum/GSO metadata per frame, TX checksum offload. Default true. */
  offload?: boolean;
  /** PACKET_QDISC_BYPASS. Default true. */
  qdiscBypass?: boolean;
  /** PACKET_FANOUT (hash) group id 1..65535; 0 or absent: no fanout. */
  fanoutGroup?: number;
  /**
   * RX ring version. 'v2' (default): one slot per frame and a wake-up per frame, so a lone frame reaches an
   * interrupt-mode reader at once. 'v3': frames packed into blocks; the reader is woken when a block is full or
   * after rxRetireMs (1 ms), which batches better under a flood but delays a lone frame by up to that long.
   */
  rxRing?: 'v2' | 'v3';
  /**
   * V2 RX ring: rxFrames (default 4096) slots of rxFrameSize (2048) bytes, 8 MB. A frame longer than a slot (a
   * veth peer's 64 KiB GSO super-frame) is also queued whole on the socket (PACKET_COPY_THRESH) and read from
   * there in ring order; rxCopyBytes (default 16 MiB, the socket's receive buffer) bounds how much may wait that
   * way (beyond it such frames arrive TRUNCATED).
   */
  rxFrames?: number;
  rxCopyBytes?: number;
  /** V3 RX ring (VPP's defaults): 2048-byte frames, 32 per block (block = frameSize × framesPerBlock, a multiple
   *  of the page size), 160 blocks, a block is handed over when full or after rxRetireMs (1). rxFrameSize is
   *  shared with V2. */
  rxFrameSize?: number;
  rxFramesPerBlock?: number;
  rxBlocks?: number;
  rxRetireMs?: number;
  /** TX ring for ordinary frames: txFrames (default 1024) slots of txFrameSize (2048) bytes. */
  txFrameSize?: number;
  txFrames?: number;
  /**
   * GSO TX ring (only with offload): a second, TX-only socket with txGsoFrames (default 62; 0: no TX GSO) slots
   * of txGsoFrameSize (default 65616: a 65535-byte IPv4 packet + Ethernet + VLAN + headers) bytes, 4 MB.
   */
  txGsoFrames?: number;
  txGsoFrameSize?: number;
}

/** Counters since open. The kernel's (PACKET_STATISTICS) are accumulated across reads. */
export interface NativeSocketStats {
  /** Packets the kernel offered this socket, including kernelDrops. */
  kernelPackets: number;
  /** Packets lost because the RX ring had no free block. */
  kernelDrops: number;
  kernelFreezeQueueCount: number;
  rxFrames: number;
  rxBytes: number;
  rxTruncated: number;
  rxTooBig: number;
  /** V2: frames longer than a slot read whole from the socket's copy queue (PACKET_COPY_THRESH). */
  rxCopied: number;
  /** V2: frames marked as copied whose whole copy could not be read (should stay 0); they arrive TRUNCATED.
   *  A copy the kernel did not queue (rxCopyBytes exhausted) shows up as rxTruncated. */
  rxCopyLost: number;
  txFrames: number;
  txBytes: number;
  /** GSO super-frames queued (included in txFrames/txBytes). */
  txGsoFrames: number;
  txGsoBytes: number;
  txDropped: number;
  txRingFull: number;
  txWrongFormat: number;
  txKicks: number;
  txKickEagain: number;
  txKickEnobufs: number;
  txKickErrors: number;
  txLastErrno: string | null;
  /** Pending socket errors consumed (a link going down reports ENETDOWN this way). */
  socketErrors: number;
  lastSocketError: string | null;
}

export interface NativeAfPacketSocket {
  readonly fd: number;
  /** True when PACKET_VNET_HDR is active. */
  readonly offload: boolean;
  /** Largest frame tx() accepts without GSO flags (the main TX ring's slot). */
  readonly txMaxFrame: number;
  /** Largest GSO super-frame tx() accepts (L2 included); 0 without a GSO ring (offload off, txGsoFrames 0). */
  readonly txGsoMaxSize: number;
  /** The RX ring's TPACKET version. */
  readonly rxRing: 'v2' | 'v3';
  /**
   * Writes frames at indices first..end-1 (packed when slotSize is 0, else into caller-given slots); returns
   * the index after the last frame written.
   */
  rx(
    data: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    meta: Uint16Array,
    slotSize?: number,
    end?: number,
    first?: number,
  ): number;
  /** Queues frames 0..count-1 and kicks once; returns how many were taken from the front. */
  tx(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, meta?: Uint16Array): number;
  stats(): NativeSocketStats;
  info(): NativeInterfaceInfo;
  /** Reads and resets the pending socket error (SO_ERROR): its errno name, or null. */
  clearError(): string | null;
  close(): void;
}

export interface NativeFdWatch {
  /** False after stop(), and after libuv stopped polling on an error (status < 0) until restart(). */
  readonly active: boolean;
  stop(): void;
  restart(): void;
  ref(): void;
  unref(): void;
  /** Poll for this UV_READABLE | UV_WRITABLE mask from now on (0: none); libuv status, 0 or negative. */
  setEvents(mask: number): number;
}

export interface NativeBinding {
  eventfdCreate(): number;
  eventfdSignal(fd: number): void;
  /** Reads and resets the counter; 0 when it was not signalled. */
  eventfdClear(fd: number): number;
  closeFd(fd: number): void;
  /** setsockopt(TCP_QUICKACK, 1): send a pending delayed ACK now, leave interactive delayed-ACK mode. */
  tcpQuickAck(fd: number): void;
  /** Stream socket I/O over up to two spans of `buf`: bytes moved, 0 at end of stream (reads), or -errno. */
  readSpans(fd: number, buf: Uint8Array, off1: number, len1: number, off2: number, len2: number): number;
  writeSpans(fd: number, buf: Uint8Array, off1: number, len1: number, off2: number, len2: number): number;
  /** A second close-on-exec, non-blocking descriptor for the same socket. */
  dupFd(fd: number): number;
  /** shutdown(SHUT_WR): 0 or -errno. */
  shutdownWrite(fd: number): number;
  /** close(); with reset, SO_LINGER 0 first (the peer gets a RST). 0 or -errno. */
  closeStream(fd: number, reset: boolean): number;
  /** The pending SO_ERROR (read and cleared), 0 when none. */
  socketError(fd: number): number;
  /** A non-blocking TCP connect (TCP_NODELAY) to a numeric address: the descriptor (writable once done), or -errno. */
  tcpConnect(addr: string, port: number): number;
  /** getsockname of a TCP socket, or null. */
  localAddress(fd: number): { family: 4 | 6; addr: string; port: number } | null;
  ifQuery(name: string, netns?: string): NativeInterfaceInfo;
  ifSetUp(name: string, up: boolean, netns?: string): void;
  FdWatch: new (fd: number, callback: (status: number, events: number) => void, events?: number) => NativeFdWatch;
  AfPacketSocket: (new (ifname: string, options?: AfPacketSocketOptions) => NativeAfPacketSocket) & {
    readonly META_STRIDE: number;
  };
}

/** A failed system call, as the shim throws it. */
export interface NativeErrnoError extends Error {
  op: string;
  code: string;
  errno: number;
}

export function isNativeErrnoError(e: unknown): e is NativeErrnoError {
  return e instanceof Error && typeof (e as NativeErrnoError).op === 'string' && typeof (e as NativeErrnoError).code === 'string';
}

const ADDON_PATH = join('build', 'native', 'Release', 'onionplane_native.node');

/** The package root: the nearest ancestor of this file holding package.json (works from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`onionplane: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export function nativeAddonPath(): string {
  return join(packageRoot(), ADDON_PATH);
}

let cached: NativeBinding | undefined;

export function loadNative(): NativeBinding {
  if (cached) return cached;
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    throw new Error(`onionplane native shim not built: ${path} is missing (run \`npx cmake-js compile --out build/native\`)`);
  }
  cached = createRequire(import.meta.url)(path) as NativeBinding;
  return cached;
}
