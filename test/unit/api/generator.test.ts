import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32, pyRepr } from '../../../src/api/generator/crc.js';
import { generateModule } from '../../../src/api/generator/generate.js';
import { ApiSemanticError } from '../../../src/api/generator/model.js';
import { ApiSyntaxError } from '../../../src/api/generator/lexer.js';
import type { ApiJson } from '../../../src/api/generator/json.js';

const ROOT = path.resolve(__dirname, '../../..');
const DEFS = path.join(ROOT, 'src/api/defs');
const GENERATED = path.join(ROOT, 'src/api/generated');
const API_FILES = [...fs.readdirSync(DEFS).filter((f) => f.endsWith('.api')).map((f) => path.join(DEFS, f)), path.join(ROOT, 'plugins/tor/tor.api')];

function crcs(j: ApiJson): Record<string, string> {
  return Object.fromEntries(j.messages.map((m) => [m[0] as string, (m[m.length - 1] as { crc: string }).crc]));
}

// Published by FD.io VPP: src/vpp-api/python/vpp_papi/data/memclnt.api.json (memclnt 2.1.0) and
// the vpe.api.json vppapigen writes for vpe.api 1.7.0.
const VPP_MEMCLNT_CRCS: Record<string, string> = {
  memclnt_create: '0x9c5e1c2f', memclnt_create_reply: '0x42ec4560', memclnt_delete: '0x7e1c04e3',
  memclnt_delete_reply: '0x3d3b6312', rx_thread_exit: '0xc3a3a452', memclnt_rx_thread_suspend: '0xc3a3a452',
  memclnt_read_timeout: '0xc3a3a452', rpc_call: '0x7e8a2c95', rpc_call_reply: '0xe8d4e804',
  get_first_msg_id: '0xebf79a66', get_first_msg_id_reply: '0x7d337472', api_versions: '0x51077d14',
  api_versions_reply: '0x5f0d99d6', trace_plugin_msg_ids: '0xf476d3ce', sockclnt_create: '0x455fb9c4',
  sockclnt_create_reply: '0x35166268', sockclnt_delete: '0x8ac76db6', sockclnt_delete_reply: '0x8f38b1ee',
  sock_init_shm: '0x51646d92', sock_init_shm_reply: '0xe8d4e804', memclnt_keepalive: '0x51077d14',
  memclnt_keepalive_reply: '0xe8d4e804', control_ping: '0x51077d14', control_ping_reply: '0xf6b0b8ca',
  memclnt_create_v2: '0xc4bd4882', memclnt_create_v2_reply: '0x42ec4560', get_api_json: '0x51077d14',
  get_api_json_reply: '0xea715b59',
};
const VPP_VPE_CRCS: Record<string, string> = {
  show_version: '0x51077d14', show_version_reply: '0xc919bde1',
  show_vpe_system_time: '0x51077d14', show_vpe_system_time_reply: '0x7ffd8193',
};
// From VPP's interface.api 3.2.5 and af_packet.api.
const VPP_INTERFACE_CRCS: Record<string, string> = {
  sw_interface_set_flags: '0xf5aec1b8', sw_interface_add_del_address: '0x5463d73b',
  sw_interface_dump: '0xaa610c27', sw_interface_details: '0x6c221fc7',
  want_interface_events: '0x476f5a08', sw_interface_event: '0x2d3d95a7',
  af_packet_create: '0xa190415f', af_packet_delete: '0x863fa648',
};

function tmpApi(src: string, extra: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apigen-'));
  for (const [n, s] of Object.entries(extra)) fs.writeFileSync(path.join(dir, n), s);
  const f = path.join(dir, 'test.api');
  fs.writeFileSync(f, src);
  return f;
}

describe('crc primitives', () => {
  it('crc32 is zlib CRC-32 with a running start value', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('456789', crc32('123'))).toBe(0xcbf43926);
  });
  it('pyRepr prints nested lists like Python', () => {
    expect(pyRepr([['u32', 'context'], ['u8', 'name', 64, null]])).toBe("[['u32', 'context'], ['u8', 'name', 64, None]]");
    expect(pyRepr(["it's"])).toBe(`["it's"]`);
  });
});

describe('generator CRCs equal VPP', () => {
  it('memclnt: every message and the file CRC', () => {
    const g = generateModule(path.join(DEFS, 'memclnt.api'));
    expect(crcs(g.json)).toEqual(VPP_MEMCLNT_CRCS);
    expect(g.json.vl_api_version).toBe('0xb197c551');
    expect(g.json.messages.map((m) => m[0]).indexOf('sockclnt_create') + 1).toBe(15);
  });
  it('vpe: show_version and show_vpe_system_time', () => {
    const c = crcs(generateModule(path.join(DEFS, 'vpe.api')).json);
    for (const [k, v] of Object.entries(VPP_VPE_CRCS)) expect(c[k], k).toBe(v);
  });
  it('interface messages mirrored from VPP', () => {
    const c = crcs(generateModule(path.join(DEFS, 'interface.api')).json);
    for (const [k, v] of Object.entries(VPP_INTERFACE_CRCS)) expect(c[k], k).toBe(v);
  });
});

describe('committed generated output', () => {
  it.each(API_FILES.map((f) => [path.basename(f), f]))('%s regenerates identically', (_n, f) => {
    const g = generateModule(f, [DEFS]);
    expect(fs.readFileSync(path.join(GENERATED, `${g.apiFile}.json`), 'utf8')).toBe(g.jsonText);
    expect(fs.readFileSync(path.join(GENERATED, `${g.apiFile}.ts`), 'utf8')).toBe(g.tsText);
  });
});

describe('grammar', () => {
  it('handles enums, aliases, unions, options, services, counters and paths like vppapigen', () => {
    const f = tmpApi(`
option version = "2.0.1";
import "t.api";
/* attached */
autoreply define set_x {
  option deprecated;
  u32 client_index;
  u32 context;
  vl_api_color_t c [default=3];
  vl_api_mac_t mac;
};
define get_x { u32 client_index; u32 context; };
define get_x_reply { u32 context; i32 retval; u8 n; vl_api_pair_t pairs[n]; };
define x_dump { u32 client_index; u32 context; };
define x_details { u32 context; string s[]; };
counters x { bad { severity error; type counter64; units "packets"; description "bad things"; }; };
paths { "/err/x" "x"; };
`, { 't.api': `typedef u8 mac[6];\nenum color : u8 { RED = 1, GREEN, BLUE = 7, };\ntypedef pair { u16 a; u16 b; };\n` });
    const j = generateModule(f).json;
    expect(j.enums).toEqual([['color', ['RED', 1], ['GREEN', 2], ['BLUE', 7], { enumtype: 'u8' }]]);
    expect(j.aliases).toEqual({ mac: { type: 'u8', length: 6 } });
    expect(j.imports).toEqual(['t.api']);
    expect(j.messages.map((m) => m[0])).toEqual(['set_x', 'set_x_reply', 'get_x', 'get_x_reply', 'x_dump', 'x_details']);
    const setX = j.messages[0]!;
    expect(setX[4]).toEqual(['vl_api_color_t', 'c', { default: 3 }]);
    expect(setX[setX.length - 1]).toMatchObject({ options: { deprecated: null }, comment: '/* attached */' });
    expect(j.messages[1]![j.messages[1]!.length - 1]).toMatchObject({ options: { deprecated: null } });
    expect(j.messages[3]![5]).toEqual(['vl_api_pair_t', 'pairs', 0, 'n']);
    expect(j.services).toEqual({
      set_x: { reply: 'set_x_reply' }, get_x: { reply: 'get_x_reply' }, x_dump: { reply: 'x_details', stream: true },
    });
    expect(j.counters).toEqual([{ name: 'x', elements: [{ name: 'bad', severity: 'error', type: 'counter64', units: 'packets', description: 'bad things' }] }]);
    expect(j.paths).toEqual([{ path: '/err/x', counter: 'x' }]);
  });

  it('folds referenced type CRCs into message CRCs', () => {
    const a = generateModule(tmpApi('typedef t { u8 a; };\ndefine m { u32 client_index; u32 context; vl_api_t_t x; };\ndefine m_reply { u32 context; i32 retval; };')).json;
    const b = generateModule(tmpApi('typedef t { u16 a; };\ndefine m { u32 client_index; u32 context; vl_api_t_t x; };\ndefine m_reply { u32 context; i32 retval; };')).json;
    expect(crcs(a).m).not.toBe(crcs(b).m);
    expect(crcs(a).m_reply).toBe(crcs(b).m_reply);
  });

  it.each([
    ['a VLA that is not last', 'define m { u32 client_index; u32 context; u8 n; u8 d[n]; u8 after; };\ndefine m_reply { u32 context; i32 retval; };', ApiSemanticError],
    ['an unknown length field', 'define m { u32 client_index; u8 d[n]; };', ApiSyntaxError],
    ['a python keyword field', 'define m { u32 client_index; u32 from; };', ApiSyntaxError],
    ['an undefined type', 'define m { vl_api_nope_t x; };', ApiSemanticError],
    ['a request without reply', 'define lonely { u32 client_index; u32 context; };', ApiSemanticError],
    ['a dump without details', 'define a_dump { u32 client_index; u32 context; };', ApiSemanticError],
    ['a flag enum with two bits', 'enumflag f { A = 3, };', ApiSemanticError],
    ['a missing semicolon', 'define m { u32 x; }', ApiSyntaxError],
  ])('rejects %s', (_what, src, err) => {
    expect(() => generateModule(tmpApi(src))).toThrow(err);
  });
});

describe('generator CLI', () => {
  it('--check passes on the committed output and writes both files per input', async () => {
    const { main } = await import('../../../src/api/generator/cli.js');
    expect(main(['--out', GENERATED, '-I', DEFS, '--check', ...API_FILES])).toBe(0);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'apigen-out-'));
    expect(main(['--out', out, '-I', DEFS, path.join(DEFS, 'vpe.api')])).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['vpe.api.json', 'vpe.api.ts']);
    expect(main(['--out', out, '--check', path.join(DEFS, 'memclnt.api')])).toBe(1);
  });
});
