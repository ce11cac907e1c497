// Congestion control against real C tor 0.4.9 relays (test/harness/tornet): ntor v3 CREATE2/EXTEND2
// to every hop, the CC request to the exit and its sendme_inc answer, then a 50 MB download paced by
// the exit's TOR_VEGAS (our circuit SENDMEs every sendme_inc cells, no stream SENDMEs), an upload
// paced by our Vegas cwnd, and a slow reader that stops the exit with XOFF and resumes it with XON.
// The exit's own info log confirms it ran TOR_VEGAS on the circuit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { startTorNet, type TorNet, type TorNode } from '../harness/tornet/index.js';
import { startOriginServer, deterministicBytesSha256, type OriginServer } from '../harness/origin-server.js';
import { hexToBytes } from '../../src/tor/bytes/index.js';
import { CC_DEFAULT_PARAMS, type Circuit, type ExtendTarget } from '../../src/tor/proto/index.js';
import { supportsCongestionControl } from '../../src/tor/circmgr/index.js';
import { openTlsChannel, extendCircuit, openExitStream, readToEnd, type TlsChannel } from '../../src/tor/transport/index.js';
import { httpSplit } from '../harness/http-over-stream.js';
import { waitUntilKnows } from '../harness/tornet/relays-settled.js';

function readNtorPublicKey(node: TorNode): Uint8Array {
  const f = fs.readFileSync(`${node.dataDir}/keys/secret_onion_key_ntor`);
  if (f.length !== 96) throw new Error('unexpected ntor key file');
  return new Uint8Array(f.subarray(64, 96));
}

function target(node: TorNode, cc: boolean): ExtendTarget {
  return {
    rsaId: hexToBytes(node.rsaFingerprint!),
    ed25519Id: new Uint8Array(Buffer.from(node.ed25519Id!, 'base64')),
    ntorKey: readNtorPublicKey(node),
    addr: '127.0.0.1',
    port: node.orPort!,
    ntorV3: true,
    ...(cc ? { congestionControl: CC_DEFAULT_PARAMS } : {}),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('congestion control with real C tor relays', () => {
  let net: TorNet;
  let origin: OriginServer;
  let guard: TorNode, middle: TorNode, exit: TorNode;
  let ch: TlsChannel;
  let circ: Circuit;
  const debugBefore = process.env.ONIONPLANE_TORNET_DEBUG;

  beforeAll(async () => {
    // Info logs on the relays: the exit's TOR_VEGAS lines are the relay-side proof of CC.
    process.env.ONIONPLANE_TORNET_DEBUG = '1';
    net = await startTorNet({ authorities: 3, relays: 2, exits: 1, referenceClient: false });
    origin = await startOriginServer();
    const plain = net.relays.filter((r) => r.role === 'relay');
    guard = plain[0]!;
    middle = plain[1]!;
    exit = net.relays.find((r) => r.role === 'exit')!;
    const consensus = await waitUntilKnows(exit, [middle, exit]);
    // The exit advertises what the circuit manager checks before asking for CC.
    const id = Buffer.from(exit.rsaFingerprint!, 'hex').toString('base64').replace(/=+$/, '');
    const entry = consensus.slice(consensus.indexOf(`r ${exit.nickname} ${id} `));
    const pr = /^pr (.*)$/m.exec(entry)?.[1];
    expect(supportsCongestionControl(pr)).toBe(true);
  }, 320_000);

  afterAll(async () => {
    if (debugBefore === undefined) delete process.env.ONIONPLANE_TORNET_DEBUG;
    else process.env.ONIONPLANE_TORNET_DEBUG = debugBefore;
    ch?.close();
    await origin?.stop();
    await net?.stop();
  }, 60_000);

  it('builds 3 hops with ntor v3; only the exit negotiates congestion control (sendme_inc 31)', async () => {
    ch = await openTlsChannel({ host: '127.0.0.1', port: guard.orPort!, expected: { rsaId: hexToBytes(guard.rsaFingerprint!) } });
    const g = target(guard, false);
    const c = ch.channel.createCircuit({ rsaId: g.rsaId, ntorKey: g.ntorKey, ed25519Id: g.ed25519Id, ntorV3: true }, Date.now());
    if (!c.ok) throw new Error(c.error.message);
    circ = c.value;
    await new Promise<void>((resolve, reject) => {
      circ.onEvent = (e) => (e.type === 'open' ? resolve() : e.type === 'closed' ? reject(new Error(`CREATE2 ntor v3: ${e.error?.message}`)) : undefined);
    });
    await extendCircuit(circ, target(middle, false));
    await extendCircuit(circ, target(exit, true));
    expect(circ.hops).toBe(3);
    expect(circ.ccOf(0)).toBeNull();
    expect(circ.ccOf(1)).toBeNull();
    expect(circ.ccOf(2)?.sendmeInc).toBe(31);
    expect(circ.windowsOf(2)).toBeNull();
  }, 60_000);

  it('downloads 50 MB sha256-correct; we SENDME every 31 cells and the window never caps the exit', async () => {
    const n = 50 * 1024 * 1024;
    const before = circ.counters.sendmesOut;
    const cellsBefore = circ.counters.dataCellsIn;
    const conn = await openExitStream(circ, '127.0.0.1', origin.port, 1024 * 1024);
    expect(conn.stream.xonXoff).toBe(true);
    await conn.write(new Uint8Array(Buffer.from(`GET /bytes/${n} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`)));
    const started = Date.now();
    const { head, body } = httpSplit(await readToEnd(conn, n + 4096));
    const ms = Date.now() - started;
    expect(head).toMatch(/^HTTP\/1.[01] 200/);
    expect(body.length).toBe(n);
    expect(createHash('sha256').update(body).digest('hex')).toBe(deterministicBytesSha256(n));
    expect(conn.endReason).toBe('DONE');
    const cells = circ.counters.dataCellsIn - cellsBefore;
    const sendmes = circ.counters.sendmesOut - before;
    // One circuit SENDME per 31 DATA cells (fixed windows would send one per 100).
    expect(cells).toBeGreaterThanOrEqual(Math.ceil(n / 498));
    expect(Math.abs(sendmes - cells / 31)).toBeLessThanOrEqual(1);
    console.log(`[tor-proto-cc] 50 MB over 3 hops with CC in ${ms} ms (${(n / 1e6 / (ms / 1000)).toFixed(1)} MB/s), XOFF sent ${conn.stream.flowCounters.xoffSent}`);
  }, 180_000);

  it('uploads 4 MB sha256-correct, paced by our Vegas cwnd on the exit\'s authenticated SENDMEs', async () => {
    const n = 4 * 1024 * 1024;
    const payload = new Uint8Array(n).map((_, i) => (i * 131 + (i >> 9)) & 0xff);
    const cc = circ.ccOf(2)!;
    const acksBefore = cc.counters.sendmesIn;
    const conn = await openExitStream(circ, '127.0.0.1', origin.port);
    await conn.write(new Uint8Array(Buffer.from(`POST /upload HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: ${n}\r\n\r\n`)));
    await conn.write(payload);
    const { head, body } = httpSplit(await readToEnd(conn));
    expect(head).toMatch(/^HTTP\/1.[01] 200/);
    const answer = JSON.parse(Buffer.from(body).toString()) as { bytes: number; sha256: string };
    expect(answer.bytes).toBe(n);
    expect(answer.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    // The exit acknowledges every 31st cell with a SENDME v1 whose tag we matched.
    expect(cc.counters.sendmesIn - acksBefore).toBeGreaterThanOrEqual(Math.floor(n / 498 / 31) - 2);
    expect(cc.inflight).toBeLessThan(cc.cwnd + 1);
    console.log(`[tor-proto-cc] upload: cwnd ${cc.cwnd}, slow start ${cc.inSlowStart}, RTT min/ewma ${cc.minRtt.toFixed(2)}/${cc.ewmaRtt.toFixed(2)} ms, samples ${cc.counters.rttSamples}, zero-RTT ${cc.counters.clockStalls}`);
  }, 120_000);

  it('a slow reader sends XOFF; the exit stops (bounded buffering), XON resumes it, data intact', async () => {
    const n = 30 * 1024 * 1024;
    const capacity = 512 * 1024;
    const conn = await openExitStream(circ, '127.0.0.1', origin.port, capacity);
    await conn.write(new Uint8Array(Buffer.from(`GET /bytes/${n} HTTP/1.0\r\n\r\n`)));
    // Read nothing: past half the capacity we send XOFF, and the exit must stop reading its socket.
    await sleep(2000);
    expect(conn.stream.flowCounters.xoffSent).toBe(1);
    expect(conn.stream.stoppedExit).toBe(true);
    const stalledAt = capacity - conn.freeSpace;
    await sleep(1000);
    const later = capacity - conn.freeSpace;
    expect(later).toBe(stalledAt); // nothing more arrived: the exit is stopped
    // Bounded: the XOFF threshold plus what the exit had in flight, far below the 30 MB asked for.
    expect(stalledAt).toBeGreaterThanOrEqual(capacity / 2);
    expect(stalledAt).toBeLessThan(4 * 1024 * 1024);
    console.log(`[tor-proto-cc] slow reader: stopped with ${stalledAt} bytes buffered (XOFF at ${capacity / 2})`);
    const { body } = httpSplit(await readToEnd(conn, n + 4096));
    expect(body.length).toBe(n);
    expect(createHash('sha256').update(body).digest('hex')).toBe(deterministicBytesSha256(n));
    expect(conn.stream.flowCounters.xonSent).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('the exit ran TOR_VEGAS on the circuit (its info log)', async () => {
    const log = fs.readFileSync(`${exit.dataDir}/info.log`, 'utf8');
    expect(log).toMatch(/CC: TOR_VEGAS/);
    const vegas = log.split('\n').filter((l) => l.includes('CC: TOR_VEGAS'));
    console.log(`[tor-proto-cc] exit Vegas (${vegas.length} lines), last: ${vegas.slice(-3).join(' | ')}`);
    circ.destroy();
  });
});
