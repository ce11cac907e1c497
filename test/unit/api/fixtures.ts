// A server with every built-in module over in-memory backends, and a raw socket speaking the
// transport byte by byte (what vpp_papi puts on the wire), for the API tests and benchmarks.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorsApi, interfaceApi, pluginsApi, torApi, vpeApi } from '../../../src/api/builtin.js';
import { ApiError, ApiRetval } from '../../../src/api/errors.js';
import { errorsHandlers, type ErrorCounterInfo } from '../../../src/api/handlers/errors.js';
import { interfaceHandlers, type InterfaceInfo } from '../../../src/api/handlers/interface.js';
import { pluginsHandlers } from '../../../src/api/handlers/plugins.js';
import { torHandlers, type TorStreamInfo } from '../../../src/api/handlers/tor.js';
import { vpeHandlers } from '../../../src/api/handlers/vpe.js';
import { ApiRegistry } from '../../../src/api/registry.js';
import { ApiServer, type ApiServerOptions } from '../../../src/api/server.js';

export interface TestApi {
  dir: string;
  socketPath: string;
  registry: ApiRegistry;
  server: ApiServer;
  interfaces: InterfaceInfo[];
  counters: ErrorCounterInfo[];
  streams: TorStreamInfo[];
  torEnabled: { value: boolean };
  /** addDelAddress calls as the backend saw them. */
  addressCalls: { swIfIndex: number; isAdd: boolean; prefix: string | null; delAll: boolean }[];
  stop(): Promise<void>;
}

export async function startTestApi(opts: { interfaces?: number; server?: ApiServerOptions } = {}): Promise<TestApi> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onionplane-api-'));
  const socketPath = path.join(dir, 'run', 'api.sock');
  const registry = new ApiRegistry();
  const interfaces: InterfaceInfo[] = Array.from({ length: opts.interfaces ?? 2 }, (_, i) => ({
    swIfIndex: i + 1, name: `host-veth${i}`, devType: 'af_packet', adminUp: i === 0, linkUp: true,
    macAddress: Uint8Array.of(2, 0, 0, 0, 0, i & 0xff), mtu: 1500,
  }));
  const counters: ErrorCounterInfo[] = [
    { node: 'ip4-input', name: 'bad_checksum', description: 'ip4 checksum errors', severity: 'error', count: 3 },
    { node: 'tcp4-input', name: 'no_listener', description: 'no listener for dst port', severity: 'warn', count: 0 },
  ];
  const streams: TorStreamInfo[] = [
    { streamIndex: 7, circuitId: 0x80000001, state: 'open', target: 'example.com', targetPort: 443, bytesSent: 10n, bytesReceived: 20n, ageSeconds: 1.5 },
  ];
  const torEnabled = { value: false };
  const addressCalls: TestApi['addressCalls'] = [];
  let nextIndex = interfaces.length + 1;
  registry.registerModule(vpeApi, vpeHandlers({ program: 'onionplane', version: '0.1.0-test', buildDate: '2026-11-22', buildDirectory: '/work/main', now: () => 1_700_000_000_000 }));
  registry.registerModule(interfaceApi, interfaceHandlers({
    createHostInterface: (name, hw) => {
      if (interfaces.some((i) => i.name === `host-${name}`)) throw new ApiError(ApiRetval.IF_ALREADY_EXISTS);
      const i: InterfaceInfo = { swIfIndex: nextIndex++, name: `host-${name}`, devType: 'af_packet', adminUp: false, linkUp: false, macAddress: hw ?? Uint8Array.of(2, 1, 2, 3, 4, 5), mtu: 1500 };
      interfaces.push(i);
      return i.swIfIndex;
    },
    deleteHostInterface: (name) => {
      const at = interfaces.findIndex((i) => i.name === `host-${name}`);
      if (at < 0) throw new ApiError(ApiRetval.INVALID_INTERFACE);
      interfaces.splice(at, 1);
    },
    setAdminState: (sw, up) => {
      const i = interfaces.find((x) => x.swIfIndex === sw);
      if (!i) throw new ApiError(ApiRetval.INVALID_SW_IF_INDEX);
      i.adminUp = up;
    },
    addDelAddress: (swIfIndex, isAdd, prefix, delAll) => {
      addressCalls.push({ swIfIndex, isAdd, delAll, prefix: prefix && `${prefix.family === 4 ? [...prefix.address].join('.') : Buffer.from(prefix.address).toString('hex')}/${prefix.len}` });
    },
    listInterfaces: () => interfaces,
  }, registry));
  registry.registerModule(errorsApi, errorsHandlers({ listErrorCounters: () => counters, clearErrorCounters: () => counters.forEach((c) => (c.count = 0)) }));
  registry.registerModule(pluginsApi, pluginsHandlers({
    listPlugins: () => [{ name: 'tor', version: '1.0.0', description: 'Tor client', enabled: true, defaultDisabled: false }],
  }));
  registry.registerModule(torApi, torHandlers({
    setEnabled: (e) => { torEnabled.value = e; },
    status: () => ({ enabled: torEnabled.value, bootstrapped: false, bootstrapPercent: 0, bootstrapPhase: 'starting', backend: 'native', circuits: 0, streams: streams.length, bytesSent: 0n, bytesReceived: 0n }),
    streams: () => streams,
    circuits: () => [],
    newnym: () => torEnabled.value,
    showDestinations: () => false,
  }, registry));
  const server = new ApiServer(registry, { socketPath, ...opts.server });
  await server.start();
  return {
    dir, socketPath, registry, server, interfaces, counters, streams, torEnabled, addressCalls,
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client that writes and reads raw frames: header struct ">QII" (0, length, 0), then the body. */
export class RawApiSocket {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  static connect(socketPath: string): Promise<RawApiSocket> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath, () => resolve(new RawApiSocket(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Like vpp_papi's transport.write: the header, then the body. */
  write(body: Buffer): void {
    const header = Buffer.alloc(16);
    header.writeBigUInt64BE(0n, 0);
    header.writeUInt32BE(body.length, 8);
    header.writeUInt32BE(0, 12);
    this.sock.write(header);
    this.sock.write(body);
  }

  writeRaw(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  /** Like vpp_papi's _read: 16 header bytes, then exactly the announced length. Null on close. */
  async read(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 16) {
        const len = this.buf.readUInt32BE(8);
        if (this.buf.length >= 16 + len) {
          const body = this.buf.subarray(16, 16 + len);
          this.buf = this.buf.subarray(16 + len);
          return Buffer.from(body);
        }
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('raw read timeout');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** sockclnt_create as vpp_papi sends it: id 15, context 124, name in 64 NUL-padded bytes. */
export function papiSockclntCreate(name: string): Buffer {
  const b = Buffer.alloc(2 + 4 + 64);
  b.writeUInt16BE(15, 0);
  b.writeUInt32BE(124, 2);
  b.write(name, 6, 'ascii');
  return b;
}

/** Parses sockclnt_create_reply by hand: client_index, context, response, index, count, table. */
export function parseSockclntCreateReply(b: Buffer): { msgId: number; context: number; response: number; index: number; table: Map<string, number> } {
  const msgId = b.readUInt16BE(0);
  const context = b.readUInt32BE(6);
  const response = b.readInt32BE(10);
  const index = b.readUInt32BE(14);
  const count = b.readUInt16BE(18);
  const table = new Map<string, number>();
  let off = 20;
  for (let i = 0; i < count; i++) {
    const id = b.readUInt16BE(off);
    const raw = b.subarray(off + 2, off + 66);
    const end = raw.indexOf(0);
    table.set(raw.subarray(0, end < 0 ? 64 : end).toString('ascii'), id);
    off += 66;
  }
  return { msgId, context, response, index, table };
}

/** A request with no arguments (u16 id, u32 client_index, u32 context), e.g. control_ping. */
export function papiBareRequest(id: number, clientIndex: number, context: number): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt16BE(id, 0);
  b.writeUInt32BE(clientIndex, 2);
  b.writeUInt32BE(context, 6);
  return b;
}
