// IPv4 commands: `ip route add|del`, `show ip fib`, `show ip neighbors`.

import { CliError } from '../../cli/command.js';
import type { Main } from '../../core/main.js';
import type { NetInterface } from '../interface/interface-table.js';
import type { NetMain } from '../net-main.js';
import { formatPrefix, ip4ToString } from '../wire/ipv4.js';
import { formatMac, macHi, macLo, parseMac, writeMacWords } from '../wire/ethernet.js';
import { expectInterface, expectIp4, expectPrefix } from './parse.js';
import { center } from './text-format.js';

export function formatShowIpFib(net: NetMain): string {
  const lines = ['ipv4-VRF:0, fib_index:0'];
  const name = (sw: number): string => net.interfaces.get(sw)?.name ?? `sw_if_index ${sw}`;
  for (const r of net.fib.routes()) {
    lines.push(formatPrefix({ addr: r.prefix, len: r.len }));
    if (r.kind === 'local') lines.push(`  [@0]: dpo-receive: ${ip4ToString(r.prefix)} on ${name(r.swIfIndex)}`);
    else if (r.kind === 'connected') lines.push(`  [@0]: attached, connected: glean ${name(r.swIfIndex)}`);
    else lines.push(`  [@0]: via ${ip4ToString(r.nextHop)}${r.swIfIndex === 0xffffffff ? '' : ` ${name(r.swIfIndex)}`}`);
  }
  return lines.join('\n');
}

export function formatShowIpNeighbors(net: NetMain): string {
  const lines = [center('Time', 12) + center('IP', 40) + center('Flags', 6) + center('Ethernet', 20) + center('Interface', 24)];
  const mac = new Uint8Array(6);
  const started = net.graph.startTime;
  for (const n of net.neighbors.all()) {
    if (n.state !== 'reachable') continue;
    writeMacWords(mac, 0, n.macHi, n.macLo);
    const age = ((n.updatedAt - started) / 1000).toFixed(4);
    const itf = net.interfaces.get(n.swIfIndex);
    lines.push(center(age, 12) + center(ip4ToString(n.ip), 40) + center(n.isStatic ? 'S' : 'D', 6) + center(formatMac(mac), 20) + (itf?.name ?? ''));
  }
  return lines.join('\n');
}

export function registerIpCommands(main: Main, net: NetMain): void {
  main.registerCliCommand({
    path: 'ip route',
    shortHelp: 'ip route [add|del] <a.b.c.d/len> [via <a.b.c.d> [<interface>]]',
    run: (input) => {
      const del = input.accept('del');
      if (!del) input.accept('add');
      const p = expectPrefix(input);
      if (del) {
        if (input.accept('via')) {
          expectIp4(input, 'next hop a.b.c.d');
          input.word();
        }
        input.expectEnd();
        net.deleteRoute(p.addr, p.len);
        return;
      }
      if (!input.accept('via')) throw new CliError('via <next-hop> expected');
      const nextHop = expectIp4(input, 'next hop a.b.c.d');
      let itf: NetInterface | undefined;
      const w = input.word();
      if (w !== undefined) {
        itf = net.interfaces.find(w);
        if (!itf) throw new CliError(`unknown interface \`${w}'`);
      }
      input.expectEnd();
      net.addRoute(p.addr, p.len, nextHop, itf);
    },
  });

  main.registerCliCommand({
    path: 'set ip neighbor',
    shortHelp: 'set ip neighbor [del] <interface> <a.b.c.d> [<mac>]',
    run: (input) => {
      const del = input.accept('del');
      const itf = expectInterface(net, input);
      const addr = expectIp4(input);
      if (del) {
        input.word();
        input.expectEnd();
        if (!net.neighbors.lookup(itf.swIfIndex, addr)) throw new CliError(`no neighbor ${ip4ToString(addr)} on ${itf.name}`);
        for (const bi of net.neighbors.remove(itf.swIfIndex, addr)) net.graph.buffers.free(bi);
        return;
      }
      const w = input.expectWord('MAC address');
      const mac = parseMac(w);
      if (!mac) throw new CliError(`MAC address expected, got \`${w}'`);
      input.expectEnd();
      net.setStaticNeighbor(itf, addr, mac);
    },
  });

  main.registerCliCommand({
    path: 'show ip fib',
    shortHelp: 'show ip fib',
    run: (input) => {
      input.expectEnd();
      return formatShowIpFib(net);
    },
  });

  main.registerCliCommand({
    path: 'show ip neighbors',
    shortHelp: 'show ip neighbors',
    run: (input) => {
      input.expectEnd();
      return formatShowIpNeighbors(net);
    },
  });
}
