// Interface commands: state, addresses, rx-mode, `show interface [address]`,
// `show hardware-interfaces`, `clear interfaces`, in VPP's layouts.

import { CliError } from '../../cli/command.js';
import type { Main } from '../../core/main.js';
import { INTERFACE_COUNTER_NAMES } from '../interface/counters.js';
import type { NetInterface } from '../interface/interface-table.js';
import type { NetMain } from '../net-main.js';
import { formatMac } from '../wire/ethernet.js';
import { formatPrefix } from '../wire/ipv4.js';
import { expectInterface, expectPrefix } from './parse.js';
import { center, left, right } from './text-format.js';

/** Columns before the counters in `show interface`: Name, Idx, State, MTU. */
const COUNTER_INDENT = 32 + 5 + 10 + 21;

function mtuText(itf: NetInterface): string {
  return `${itf.mtu}/0/0/0`;
}

export function formatShowInterface(net: NetMain, list: NetInterface[]): string {
  const { counters } = net.interfaces;
  const lines = [
    center('Name', 32) + center('Idx', 5) + center('State', 10) + center('MTU (L3/IP4/IP6/MPLS)', 21) + center('Counter', 16) + center('Count', 16),
  ];
  for (const itf of list) {
    let line = left(itf.name, 32) + center(String(itf.swIfIndex), 5) + center(itf.adminUp ? 'up' : 'down', 10) + center(mtuText(itf), 21);
    let first = true;
    INTERFACE_COUNTER_NAMES.forEach((name, c) => {
      const v = counters.get(itf.swIfIndex, c);
      if (v === 0) return;
      const cell = left(name, 16) + right(String(v), 16);
      if (first) line += cell;
      else lines.push(line), (line = ' '.repeat(COUNTER_INDENT) + cell);
      first = false;
    });
    lines.push(line.trimEnd());
  }
  return lines.join('\n');
}

export function formatShowInterfaceAddress(list: NetInterface[]): string {
  const lines: string[] = [];
  for (const itf of list) {
    lines.push(`${itf.name} (${itf.adminUp ? 'up' : 'dn'}):`);
    for (const a of itf.addresses) lines.push(`  L3 ${formatPrefix(a)}`);
  }
  return lines.join('\n');
}

export function formatShowHardware(list: NetInterface[]): string {
  const lines = [center('Name', 32) + center('Idx', 6) + center('Link', 8) + 'Hardware'];
  for (const itf of list) {
    const link = itf.device ? (itf.linkUp ? 'up' : 'down') : 'down';
    lines.push(left(itf.name, 32) + center(String(itf.swIfIndex), 6) + center(link, 8) + itf.name);
    lines.push('  Link speed: unknown');
    if (!itf.device) {
      lines.push('  local');
      continue;
    }
    lines.push('  RX Queues:');
    lines.push('    queue thread         mode');
    lines.push(`    0     main (0)       ${itf.rxMode}`);
    lines.push(`  Ethernet address ${formatMac(itf.mac)}`);
    lines.push(`  Linux PACKET socket interface v3 (host ${itf.hostIfName}, ifindex ${itf.device.ifindex}, host MAC ${formatMac(itf.device.mac)})`);
    const s = itf.device.stats();
    lines.push(`  device rx frames ${s.rxFrames} bytes ${s.rxBytes} dropped ${s.rxDropped}`);
    lines.push(`  device tx frames ${s.txFrames} bytes ${s.txBytes} dropped ${s.txDropped} ring-full ${s.txRingFull}`);
  }
  return lines.join('\n');
}

function interfaceList(net: NetMain, names: string[]): NetInterface[] {
  if (names.length === 0) return net.interfaces.all();
  return names.map((n) => {
    const itf = net.interfaces.find(n);
    if (!itf) throw new CliError(`unknown interface \`${n}'`);
    return itf;
  });
}

export function registerInterfaceCommands(main: Main, net: NetMain): void {
  main.registerCliCommand({
    path: 'set interface state',
    shortHelp: 'set interface state <interface> [up|down]',
    run: (input) => {
      const itf = expectInterface(net, input);
      let up: boolean;
      if (input.accept('up')) up = true;
      else if (input.accept('down')) up = false;
      else throw input.unknown();
      input.expectEnd();
      if (!itf.device) throw new CliError(`${itf.name} cannot be brought up`);
      net.setAdminState(itf, up);
    },
  });

  main.registerCliCommand({
    path: 'set interface ip address',
    shortHelp: 'set interface ip address [del] <interface> <a.b.c.d/len>',
    run: (input) => {
      const del = input.accept('del');
      const itf = expectInterface(net, input);
      const p = expectPrefix(input);
      input.expectEnd();
      if (del) net.deleteAddress(itf, p.addr, p.len);
      else net.addAddress(itf, p.addr, p.len);
    },
  });

  main.registerCliCommand({
    path: 'set interface rx-mode',
    shortHelp: 'set interface rx-mode <interface> [polling|interrupt]',
    run: (input) => {
      const itf = expectInterface(net, input);
      let mode: 'polling' | 'interrupt';
      if (input.accept('polling')) mode = 'polling';
      else if (input.accept('interrupt')) mode = 'interrupt';
      else throw input.unknown();
      input.expectEnd();
      net.setRxMode(itf, mode);
    },
  });

  main.registerCliCommand({
    path: 'show interface',
    shortHelp: 'show interface [address|addr] [<interface> ...]',
    run: (input) => {
      const address = input.accept('address') || input.accept('addr');
      const names: string[] = [];
      while (!input.atEnd()) names.push(input.expectWord('interface name'));
      const list = interfaceList(net, names);
      return address ? formatShowInterfaceAddress(list) : formatShowInterface(net, list);
    },
  });

  main.registerCliCommand({
    path: 'show hardware-interfaces',
    shortHelp: 'show hardware-interfaces [<interface> ...]',
    run: (input) => {
      const names: string[] = [];
      while (!input.atEnd()) names.push(input.expectWord('interface name'));
      return formatShowHardware(interfaceList(net, names));
    },
  });

  main.registerCliCommand({
    path: 'clear interfaces',
    shortHelp: 'clear interfaces',
    run: (input) => {
      input.expectEnd();
      net.interfaces.counters.clear();
    },
  });
}
