// Interop with VPP's own Python client. The first test replays vpp_papi's exact byte sequence
// (header ">QII", sockclnt_create with context 124, table lookup by name_crc, control_ping) so it
// runs everywhere; the second runs the real vpp_papi against the generated JSON directory when
// VPP_PAPI_PATH points at a vpp_papi checkout (the package directory or the one containing it).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishTorStreamEvent } from '../../src/api/handlers/tor.js';
import { papiBareRequest, papiSockclntCreate, parseSockclntCreateReply, RawApiSocket, startTestApi, type TestApi } from '../unit/api/fixtures.js';

const GENERATED = path.resolve(__dirname, '../../src/api/generated');

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.stop();
});

describe('vpp_papi wire sequence', () => {
  it('connects, binds by name_crc and pings exactly as vpp_papi does', async () => {
    const s = await RawApiSocket.connect(api.socketPath);
    try {
      s.write(papiSockclntCreate('vpp_api_test'));
      const created = parseSockclntCreateReply((await s.read())!);
      expect(created.msgId).toBe(16);
      expect(created.context).toBe(124);
      expect(created.response).toBe(0);
      expect(created.index >>> 31).toBe(1);
      // vpp_papi binds only messages whose name_crc is in the table.
      const ping = created.table.get('control_ping_51077d14');
      const pingReply = created.table.get('control_ping_reply_f6b0b8ca');
      expect(ping).toBe(23);
      expect(pingReply).toBe(24);
      expect(created.table.get('sockclnt_create_455fb9c4')).toBe(15);
      expect(created.table.get('show_version_51077d14')).toBeGreaterThan(28);

      s.write(papiBareRequest(ping!, created.index, 0x1234));
      const r = (await s.read())!;
      expect(r.readUInt16BE(0)).toBe(pingReply);
      expect(r.readUInt32BE(2)).toBe(0x1234); // context
      expect(r.readInt32BE(6)).toBe(0); // retval
      expect(r.readUInt32BE(10)).toBe(created.index); // client_index echoed
      expect(r.readUInt32BE(14)).toBe(process.pid); // vpe_pid
      expect(r.length).toBe(18);

      const sv = created.table.get('show_version_51077d14')!;
      s.write(papiBareRequest(sv, created.index, 7));
      const v = (await s.read())!;
      expect(v.readUInt16BE(0)).toBe(created.table.get('show_version_reply_c919bde1'));
      expect(v.length).toBe(2 + 4 + 4 + 32 * 3 + 256);
      expect(v.subarray(10, 20).toString('ascii')).toBe('onionplane');

      // disconnect(): sockclnt_delete(index=...), then the server closes.
      const del = Buffer.alloc(14);
      del.writeUInt16BE(created.table.get('sockclnt_delete_8ac76db6')!, 0);
      del.writeUInt32BE(created.index, 2);
      del.writeUInt32BE(9, 6);
      del.writeUInt32BE(created.index, 10);
      s.write(del);
      const d = (await s.read())!;
      expect([d.readUInt16BE(0), d.readUInt32BE(2), d.readInt32BE(6)]).toEqual([created.table.get('sockclnt_delete_reply_8f38b1ee'), 9, 1]);
      expect(await s.read()).toBe(null);
    } finally {
      s.destroy();
    }
  });
});

function papiImportDir(p: string): string | null {
  if (fs.existsSync(path.join(p, 'vpp_papi', '__init__.py'))) return p;
  if (fs.existsSync(path.join(p, '__init__.py')) && path.basename(p) === 'vpp_papi') return path.dirname(p);
  if (fs.existsSync(path.join(p, 'src/vpp-api/python/vpp_papi/__init__.py'))) return path.join(p, 'src/vpp-api/python');
  return null;
}

const PAPI_PATH = process.env.VPP_PAPI_PATH ?? '';
const PAPI_DIR = PAPI_PATH ? papiImportDir(PAPI_PATH) : null;

const SCRIPT = `
import json, os, sys, threading
sys.path.insert(0, sys.argv[1])
from vpp_papi import VPPApiClient
c = VPPApiClient(apidir=sys.argv[2], server_address=sys.argv[3], read_timeout=5)
c.connect("papi-interop")
out = {}
v = c.api.show_version()
out["show_version"] = {"retval": v.retval, "program": v.program, "version": v.version}
p = c.api.control_ping()
out["control_ping"] = {"retval": p.retval, "vpe_pid": p.vpe_pid}
out["interfaces"] = [(i.sw_if_index, i.interface_name, str(i.l2_address)) for i in c.api.sw_interface_dump()]
out["set_flags"] = c.api.sw_interface_set_flags(sw_if_index=2, flags=1).retval
out["add_address"] = c.api.sw_interface_add_del_address(sw_if_index=1, is_add=True, prefix="10.77.0.1/24").retval
out["bad_flags"] = c.api.sw_interface_set_flags(sw_if_index=99, flags=1).retval
got = []
ev = threading.Event()
def on_event(name, msg):
    got.append([name, msg.stream_index, int(msg.state), msg.reason])
    ev.set()
c.register_event_callback(on_event)
out["want"] = c.api.want_tor_stream_events(enable_disable=1, pid=os.getpid()).retval
print("SUBSCRIBED", flush=True)
ev.wait(5)
out["events"] = got
c.disconnect()
# Bootstrap mode: only vpp_papi's bundled memclnt.api.json, the rest fetched with get_api_json.
b = VPPApiClient(bootstrapapi=True, server_address=sys.argv[3], read_timeout=5)
b.connect("papi-bootstrap")
out["bootstrap_program"] = b.api.show_version().program
out["bootstrap_circuits"] = len(b.api.tor_circuit_dump())
b.disconnect()
print(json.dumps(out), flush=True)
`;

describe('vpp_papi interop', () => {
  it.skipIf(!PAPI_DIR)(
    `VPP's Python client binds and calls the generated API${PAPI_DIR ? '' : ' (skipped: set VPP_PAPI_PATH to a vpp_papi checkout)'}`,
    async () => {
      const script = path.join(api.dir, 'papi_interop.py');
      fs.writeFileSync(script, SCRIPT);
      const py = spawn(process.env.VPP_PAPI_PYTHON ?? 'python3', [script, PAPI_DIR!, GENERATED, api.socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      py.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      py.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (d.toString().includes('SUBSCRIBED')) publishTorStreamEvent(api.registry, { streamIndex: 7, circuitId: 3, state: 'closed', reason: 6 });
      });
      const code = await new Promise<number>((resolve) => py.on('close', (c) => resolve(c ?? -1)));
      expect(code, stderr).toBe(0);
      const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(out.show_version).toEqual({ retval: 0, program: 'onionplane', version: '0.1.0-test' });
      expect(out.control_ping).toEqual({ retval: 0, vpe_pid: process.pid });
      expect(out.interfaces).toEqual([[1, 'host-veth0', '02:00:00:00:00:00'], [2, 'host-veth1', '02:00:00:00:00:01']]);
      expect(out.set_flags).toBe(0);
      expect(api.interfaces[1]!.adminUp).toBe(true);
      expect(out.add_address).toBe(0);
      expect(api.addressCalls).toEqual([{ swIfIndex: 1, isAdd: true, delAll: false, prefix: '10.77.0.1/24' }]);
      expect(out.bad_flags).toBe(-2);
      expect(out.want).toBe(0);
      expect(out.events).toEqual([['tor_stream_event', 7, 3, 6]]);
      expect(out.bootstrap_program).toBe('onionplane');
      expect(out.bootstrap_circuits).toBe(0);
    },
    30_000,
  );
});
