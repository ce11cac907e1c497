// SocksStream with the download ring spliced into the client's TCP connection: a SOCKS client on one TCP
// stack, the plugin's stream on another, joined by SimNet's in-memory link, and a backend driven by the test
// writing the stream's ring.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { RingTable, type StreamEndpoint } from '../../../src/backend/ring-table.js';
import type { BackendEvent } from '../../../src/backend/interface.js';
import type { TcpConnection } from '../../../src/net/tcp/connection.js';
import type { TcpStack } from '../../../src/net/tcp/stack.js';
import { Session, type SessionOwner } from '../../../src/session/session.js';
import { DEFAULT_LISTENER_CONFIG, SocksServerSession } from '../../../src/socks/server.js';
import { SocksStream, type StreamHost } from '../../../plugins/tor/socks-stream.js';
import type { BackendHandle } from '../../../plugins/tor/backends.js';
import { IP_A, IP_B, SimNet } from '../tcp/sim.js';
import { randomBytes } from '../tcp/transfer.js';

const RING = 16 * 1024;

/** Client app: sends greeting + CONNECT, collects everything the proxy sends. */
class Client {
  conn: TcpConnection | null = null;
  got: number[] = [];
  chunks: Uint8Array[] = [];
  total = 0;
  peerClosed = false;
  reset = false;
  closed = false;
  paused = false;
  private readonly buf = new Uint8Array(65536);
  constructor(private readonly stack: () => TcpStack) {}
  onConnected(c: TcpConnection): void {
    this.conn = c;
    const hello = Uint8Array.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80]);
    c.txFifo.enqueue(hello, 0, hello.length);
    this.stack().send(c);
  }
  onRx(c: TcpConnection): void { if (!this.paused) this.drain(c); }
  drain(c: TcpConnection = this.conn!): void {
    c.rxFifo.unsetEvent();
    let n;
    while ((n = c.rxFifo.dequeue(this.buf, 0, this.buf.length)) > 0) {
      this.chunks.push(this.buf.slice(0, n));
      this.total += n;
    }
  }
  onPeerClosed(): void { this.peerClosed = true; }
  onReset(): void { this.reset = true; }
  onClosed(): void { this.closed = true; }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.total);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
}

/** The method selection (2 bytes) and the CONNECT reply (10 bytes) come before the stream's bytes. */
const REPLIES = Uint8Array.from([5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);

function setup(clientRxFifo?: number) {
  const net = new SimNet(5);
  net.keepLog = false;
  const a = net.addStack(IP_A, clientRxFifo ? { rxFifoSize: clientRxFifo } : {});
  const b = net.addStack(IP_B);
  const table = RingTable.create({ slots: 2, capacity: RING });
  const sent: unknown[] = [];
  const handle = { state: 'ready', table, streams: 0, bySlot: new Map(), backend: { send: (m: unknown) => sent.push(m) } } as unknown as BackendHandle;
  let stream: SocksStream | null = null;
  const host: StreamHost = {
    backend: handle,
    count: () => {},
    register: () => {},
    finished: () => {},
    changed: () => {},
    scratch: new Uint8Array(2048),
  };
  const owner: SessionOwner = {
    kick: () => {},
    send: (c) => b.send(c),
    shutdownWrite: (c) => b.shutdownWrite(c),
    close: (c) => b.close(c),
    abort: (c) => b.abort(c),
  };
  const sess = (c: TcpConnection) => c.appCtx as Session;
  b.listen(IP_B, 9050, {
    onAccept: (c) => {
      const s = new Session(1, { name: 'socks' }, c, owner, 0);
      c.appCtx = s;
      const { session: engine, actions } = SocksServerSession.accept(DEFAULT_LISTENER_CONFIG, { addr: c.remoteIp, port: c.remotePort }, 0);
      stream = new SocksStream(1, s, engine, host, 0);
      stream.apply(actions);
    },
    onRx: () => stream!.onRx(),
    onPeerClosed: () => stream!.onPeerClosed(),
    onReset: () => stream!.onSessionClosed(true),
    onClosed: (c) => { sess(c).closed = true; stream!.onSessionClosed(false); },
  });
  const client = new Client(() => a);
  a.connect(IP_A, IP_B, 9050, client, 0);
  net.run(1000, () => sent.length > 0);
  const open = sent[0] as { type: string; slot: number };
  expect(open.type).toBe('open');
  const be: StreamEndpoint = table.endpoint(open.slot, 'backend');
  const s = stream!;
  s.onBackendEvent({ type: 'connected', id: 1 } as BackendEvent);
  const bell = table.doorbell('dataplane');
  /** The dataplane's doorbell handler: service the slots rung. */
  const doorbells = () => { for (const slot of bell.takeReady()) if (slot === open.slot) s.service(); };
  return { net, a, b, client, s, be, doorbells, table };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('SocksStream download splice', () => {
  it('sends ring bytes after the SOCKS reply; they leave the ring when ACKed; FIN after the last byte', () => {
    const { net, client, s, be, doorbells } = setup();
    const data = randomBytes(300_000, 3);
    let written = 0;
    let maxUsed = 0;
    let eof = false;
    net.run(60_000, () => {
      doorbells();
      if (written < data.length) written += be.write(data.subarray(written));
      else if (!eof) { eof = true; be.shutdownWrite(); }
      maxUsed = Math.max(maxUsed, be.tx.used());
      return client.peerClosed;
    });
    const got = client.bytes();
    expect(got.subarray(0, REPLIES.length)).toEqual(REPLIES);
    expect(got.length).toBe(REPLIES.length + data.length);
    expect(sha(got.subarray(REPLIES.length))).toBe(sha(data));
    expect(maxUsed).toBe(RING); // a full ring: the backend waited for ACKs
    net.run(net.now + 5000, () => be.tx.used() === 0);
    expect(be.tx.used()).toBe(0);
    expect(s.bytesDown).toBe(data.length);
    expect(s.session.conn.txFifo.maxDequeue).toBe(0);
  });

  it('a slow client: bytes stay in the ring until read and ACKed, the backend stops; the FIN waits for none of the ACKs', () => {
    // A 4 KiB receive window on the client: the ring (16 KiB) holds what its TCP cannot take.
    const { net, client, be, doorbells, s } = setup(4096);
    client.paused = true;
    const data = randomBytes(200_000, 4);
    let written = 0;
    net.run(net.now + 2000, () => {
      doorbells();
      written += be.write(data.subarray(written));
      return false;
    });
    expect(be.tx.used()).toBe(RING); // ring full: the backend waits
    expect(written).toBeLessThan(RING + 4096); // only what the client's window took left the ring
    be.shutdownWrite();
    net.run(net.now + 2000, () => { doorbells(); return false; });
    // The FIN is queued behind the unread bytes: the client has not seen it yet, and the ring still holds them.
    expect(client.peerClosed).toBe(false);
    expect(be.tx.used()).toBeGreaterThan(0);
    expect(s.session.conn.stateName).toBe('FIN-WAIT-1'); // yet the FIN is requested already
    client.paused = false;
    client.drain();
    net.run(net.now + 30_000, () => { doorbells(); return client.peerClosed; });
    expect(client.bytes()).toEqual(new Uint8Array([...REPLIES, ...data.subarray(0, written)]));
    net.run(net.now + 5000, () => be.tx.used() === 0); // the client's last ACK
    expect(s.bytesDown).toBe(written);
  });

  it('a reset ring aborts the client connection', () => {
    const { net, client, be, doorbells } = setup();
    be.write(randomBytes(4000, 5));
    net.run(net.now + 100, () => { doorbells(); return false; });
    be.reset();
    net.run(net.now + 1000, () => { doorbells(); return client.reset || client.closed; });
    expect(client.reset).toBe(true);
  });
});
