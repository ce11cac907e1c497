// The binary API server driven end to end through its Unix socket: typed client calls, dumps,
// event subscriptions, onionctl's API mode, and bad input from one client not hurting others.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiCallError, ApiClient } from '../../src/api/client.js';
import { runApiCommand } from '../../src/api/cli-mode.js';
import { ApiRetval } from '../../src/api/errors.js';
import { publishInterfaceEvent } from '../../src/api/handlers/interface.js';
import { publishTorStreamEvent } from '../../src/api/handlers/tor.js';
import { papiBareRequest, papiSockclntCreate, parseSockclntCreateReply, RawApiSocket, startTestApi, type TestApi } from '../unit/api/fixtures.js';

let api: TestApi;
const clients: ApiClient[] = [];
const raws: RawApiSocket[] = [];

async function client(): Promise<ApiClient> {
  const c = await ApiClient.connect({ socketPath: api.socketPath, name: 'test', timeoutMs: 5000 });
  clients.push(c);
  return c;
}

async function raw(): Promise<{ s: RawApiSocket; index: number; table: Map<string, number> }> {
  const s = await RawApiSocket.connect(api.socketPath);
  raws.push(s);
  s.write(papiSockclntCreate('raw'));
  const r = parseSockclntCreateReply((await s.read())!);
  return { s, index: r.index, table: r.table };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(async () => {
  api = await startTestApi();
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const r of raws.splice(0)) r.destroy();
  await api.stop();
});

describe('API server: requests, dumps and events', () => {
  it('answers show_version, control_ping and the memclnt lookups', async () => {
    const c = await client();
    const v = await c.call('show_version');
    expect(v).toMatchObject({ retval: 0, program: 'onionplane', version: '0.1.0-test', build_directory: '/work/main' });
    const ping = await c.call('control_ping');
    expect(ping.vpe_pid).toBe(process.pid);
    const first = await c.call('get_first_msg_id', { name: 'tor' });
    expect(first.first_msg_id).toBe(api.registry.idOf('tor_client_enable_disable'));
    await expect(c.call('get_first_msg_id', { name: 'nope' })).rejects.toMatchObject({ retval: ApiRetval.INVALID_VALUE });
    const versions = await c.call('api_versions');
    expect(versions.api_versions.map((m) => m.name)).toEqual(['memclnt', 'vpe', 'interface', 'errors', 'plugins', 'tor']);
    const t = await c.call('show_vpe_system_time');
    expect(t.vpe_system_time).toBe(1_700_000_000);
    const json = JSON.parse((await c.call('get_api_json')).json) as { module: string }[];
    expect(json.map((j) => j.module)).toContain('tor');
    // The shared-memory transport is not served.
    expect((await c.request('sock_init_shm', {}, { throwOnError: false })).reply.retval).toBe(ApiRetval.UNIMPLEMENTED);
    expect(api.server.stats.unimplemented).toBe(1);
  });

  it('streams dumps as details ended by control_ping_reply', async () => {
    const c = await client();
    const ifs = await c.dump('sw_interface_dump');
    expect(ifs.map((i) => i.interface_name)).toEqual(['host-veth0', 'host-veth1']);
    expect(ifs[0]!.flags).toBe(3);
    expect([...ifs[1]!.l2_address]).toEqual([2, 0, 0, 0, 0, 1]);
    expect(await c.dump('sw_interface_dump', { sw_if_index: 2 })).toHaveLength(1);
    expect(await c.dump('sw_interface_dump', { name_filter_valid: true, name_filter: 'veth1' })).toHaveLength(1);
    const errs = await c.dump('error_counters_dump');
    expect(errs.map((e) => [e.node_name, e.counter_name, e.count])).toEqual([['ip4-input', 'bad_checksum', 3n]]);
    expect(await c.dump('error_counters_dump', { include_zero: true })).toHaveLength(2);
    await c.call('error_counters_clear');
    expect(await c.dump('error_counters_dump')).toHaveLength(0);
    expect((await c.dump('plugin_dump'))[0]).toMatchObject({ name: 'tor', enabled: true });
    const streams = await c.dump('tor_stream_dump');
    expect(streams[0]).toMatchObject({ stream_index: 7, state: 2, target: '', target_port: 0 });
  });

  it('changes state and reports errors as negative retvals', async () => {
    const c = await client();
    const created = await c.call('af_packet_create', { host_if_name: 'eth9', use_random_hw_addr: true });
    expect(created.sw_if_index).toBe(3);
    await expect(c.call('af_packet_create', { host_if_name: 'eth9' })).rejects.toBeInstanceOf(ApiCallError);
    await c.call('sw_interface_set_flags', { sw_if_index: 3, flags: 1 });
    expect(api.interfaces[2]!.adminUp).toBe(true);
    await expect(c.call('sw_interface_set_flags', { sw_if_index: 99, flags: 1 })).rejects.toMatchObject({ retval: ApiRetval.INVALID_SW_IF_INDEX });
    await c.call('af_packet_delete', { host_if_name: 'eth9' });
    expect(api.interfaces).toHaveLength(2);
    await expect(c.call('tor_newnym')).rejects.toMatchObject({ retval: ApiRetval.FEATURE_DISABLED });
    await c.call('tor_client_enable_disable', { enable: true });
    expect((await c.call('tor_status')).enabled).toBe(true);
    await c.call('tor_newnym');
  });

  it('delivers events to subscribers only, until they unsubscribe', async () => {
    const a = await client();
    const b = await client();
    const got: unknown[] = [];
    const unsubscribe = await a.subscribe('want_tor_stream_events', (ev) => got.push(ev));
    await expect(a.call('want_tor_stream_events', { enable_disable: 1 })).rejects.toMatchObject({ retval: ApiRetval.INVALID_REGISTRATION });
    let bGot = 0;
    b.onEvent(() => bGot++);
    expect(publishTorStreamEvent(api.registry, { streamIndex: 7, circuitId: 1, state: 'closed', reason: 6 })).toBe(1);
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ stream_index: 7, circuit_id: 1, state: 3, reason: 6, pid: process.pid, client_index: a.clientIndex });
    await unsubscribe();
    expect(publishTorStreamEvent(api.registry, { streamIndex: 8, circuitId: 1, state: 'open' })).toBe(0);
    await b.call('control_ping');
    expect(bGot).toBe(0);
  });

  it('drops a client\'s subscriptions when it disconnects', async () => {
    const a = await client();
    const seen: { sw_if_index: number; flags: number; deleted: boolean }[] = [];
    await a.subscribe('want_interface_events', (ev) => seen.push(ev));
    expect(api.registry.subscriberCount('sw_interface_event')).toBe(1);
    expect(publishInterfaceEvent(api.registry, { ...api.interfaces[1]!, adminUp: true }, true)).toBe(1);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ sw_if_index: 2, flags: 3, deleted: true });
    await a.close();
    await until(() => api.registry.subscriberCount('sw_interface_event') === 0);
  });
});

describe('API server: bad input', () => {
  it('answers a request with the wrong length by context with INVALID_VALUE', async () => {
    const { s, index, table } = await raw();
    const id = table.get('show_version_51077d14')!;
    const long = Buffer.concat([papiBareRequest(id, index, 77), Buffer.from([1, 2, 3])]);
    s.write(long);
    const r1 = (await s.read())!;
    expect([r1.readUInt16BE(0), r1.readUInt32BE(2), r1.readInt32BE(6)]).toEqual([table.get('show_version_reply_c919bde1'), 77, ApiRetval.INVALID_VALUE]);
    const dumpId = table.get('sw_interface_dump_aa610c27')!;
    const short = papiBareRequest(dumpId, index, 78); // missing sw_if_index, name_filter...
    s.write(short);
    expect(await s.read()).toBe(null); // a dump has no reply to carry a retval: closed
    expect(api.server.stats.decode_errors).toBe(2);
  });

  it('closes on unknown message ids, oversized and short frames; counts them; others unaffected', async () => {
    const bystander = await client();
    const a = await raw();
    a.s.write(papiBareRequest(60000, a.index, 1));
    expect(await a.s.read()).toBe(null);
    expect(api.server.stats.unknown_msg_id).toBe(1);

    const b = await raw();
    const hdr = Buffer.alloc(16);
    hdr.writeUInt32BE(64 << 20, 8);
    b.s.writeRaw(hdr);
    expect(await b.s.read()).toBe(null);
    expect(api.server.stats.oversized_frames).toBe(1);

    const c = await raw();
    c.s.write(Buffer.from([0]));
    expect(await c.s.read()).toBe(null);

    const d = await raw();
    const partial = Buffer.alloc(16 + 5);
    partial.writeUInt32BE(100, 8);
    d.s.writeRaw(partial);
    await new Promise((r) => setTimeout(r, 50));
    d.s.destroy();
    await until(() => api.server.stats.truncated_frames === 2);

    expect((await bystander.call('show_version')).program).toBe('onionplane');
    expect(api.server.clientCount).toBe(1);
  });

  it('survives a client vanishing in the middle of a large dump', async () => {
    await api.stop();
    api = await startTestApi({ interfaces: 20000, server: { maxOutputBytes: 256 << 10 } });
    const bystander = await client();
    const { s, index, table } = await raw();
    s.sock.pause(); // read nothing: the server must wait for the socket to drain
    const dumpId = table.get('sw_interface_dump_aa610c27')!;
    const body = Buffer.alloc(2 + 4 + 4 + 4 + 1 + 4);
    body.writeUInt16BE(dumpId, 0);
    body.writeUInt32BE(index, 2);
    body.writeUInt32BE(5, 6);
    body.writeUInt32BE(0xffffffff, 10);
    s.write(body);
    s.write(papiBareRequest(table.get('control_ping_51077d14')!, index, 5));
    await until(() => api.server.stats.messages_sent > 50);
    s.destroy();
    await until(() => api.server.clientCount === 1);
    await until(() => api.server.stats.streams_aborted + api.server.stats.details_dropped === 1);
    const all = await bystander.dump('sw_interface_dump');
    expect(all).toHaveLength(20000);
  });
});

describe('API server: slow subscribers and garbage', () => {
  it('drops events for a subscriber that does not read instead of queueing without bound', async () => {
    await api.stop();
    api = await startTestApi({ server: { maxOutputBytes: 64 << 10 } });
    const { s, index, table } = await raw();
    const want = Buffer.alloc(2 + 4 + 4 + 4 + 4);
    want.writeUInt16BE(table.get('want_tor_stream_events_476f5a08')!, 0);
    want.writeUInt32BE(index, 2);
    want.writeUInt32BE(1, 6);
    want.writeUInt32BE(1, 10);
    s.write(want);
    expect((await s.read())!.readInt32BE(6)).toBe(0);
    s.sock.pause();
    let delivered = 0;
    for (let i = 0; i < 20000; i++) delivered += publishTorStreamEvent(api.registry, { streamIndex: i, circuitId: 1, state: 'open' });
    expect(delivered).toBeLessThan(20000);
    expect(api.server.stats.events_dropped).toBe(20000 - delivered);
    expect(api.server.stats.slow_clients_closed).toBe(0);
    expect(api.server.clientCount).toBe(1);
  });

  it('survives random bodies under every message id', async () => {
    const bystander = await client();
    const maxId = api.registry.messageTable().length;
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let conn = await raw();
    for (let i = 0; i < 300; i++) {
      if (conn.s.closed) conn = await raw();
      const body = Buffer.alloc(2 + rnd(90));
      for (let j = 2; j < body.length; j++) body[j] = rnd(256);
      body.writeUInt16BE(1 + rnd(maxId + 3), 0);
      conn.s.write(body);
    }
    conn.s.destroy();
    expect((await bystander.call('show_version')).program).toBe('onionplane');
    const st = api.server.stats;
    expect(st.decode_errors + st.unknown_msg_id + st.unexpected_messages + st.unimplemented).toBeGreaterThan(0);
  });
});

describe('onionctl api mode', () => {
  it('prints replies, dumps and events as JSON', async () => {
    const lines: string[] = [];
    const out = (l: string) => lines.push(l);
    expect(await runApiCommand(['show_version'], { socketPath: api.socketPath, out })).toBe(0);
    expect(JSON.parse(lines.pop()!)).toMatchObject({ program: 'onionplane', retval: 0 });
    expect(await runApiCommand(['sw_interface_dump', 'sw_if_index=1'], { socketPath: api.socketPath, out })).toBe(0);
    const dump = JSON.parse(lines.pop()!) as { interface_name: string; l2_address: string }[];
    expect(dump).toEqual([expect.objectContaining({ interface_name: 'host-veth0', l2_address: '020000000000' })]);
    expect(await runApiCommand(['af_packet_create', 'host_if_name=eth5', 'hw_addr=02:aa:bb:cc:dd:ee'], { socketPath: api.socketPath, out })).toBe(0);
    expect([...api.interfaces[2]!.macAddress]).toEqual([2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    lines.length = 0;
    expect(await runApiCommand(['sw_interface_set_flags', '--json', '{"sw_if_index": 42, "flags": 1}'], { socketPath: api.socketPath, out })).toBe(1);
    expect(JSON.parse(lines.pop()!)).toMatchObject({ retval: ApiRetval.INVALID_SW_IF_INDEX });
    const err: string[] = [];
    expect(await runApiCommand(['no_such_thing'], { socketPath: api.socketPath, out, err: (l) => err.push(l) })).toBe(2);
    expect(await runApiCommand(['show_version'], { socketPath: api.socketPath + '.missing', out, err: (l) => err.push(l) })).toBe(3);

    const events = runApiCommand(['want_tor_stream_events', '--count', '1'], { socketPath: api.socketPath, out });
    await until(() => api.registry.subscriberCount('tor_stream_event') === 1);
    publishTorStreamEvent(api.registry, { streamIndex: 9, circuitId: 2, state: 'failed' });
    expect(await events).toBe(0);
    expect(JSON.parse(lines.pop()!)).toMatchObject({ event: 'tor_stream_event', stream_index: 9, state: 4 });
    lines.length = 0;
    expect(await runApiCommand(['list'], { socketPath: api.socketPath, out })).toBe(0);
    expect((JSON.parse(lines.pop()!) as { request: string }[]).map((r) => r.request)).toContain('tor_circuit_dump');
  });
});
