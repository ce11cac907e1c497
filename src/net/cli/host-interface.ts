// `create host-interface`, `delete host-interface`: attach a Linux interface through AF_PACKET.

import { CliError } from '../../cli/command.js';
import type { Main } from '../../core/main.js';
import type { NetMain } from '../net-main.js';
import { parseMac } from '../wire/ethernet.js';

export function registerHostInterfaceCommands(main: Main, net: NetMain): void {
  main.registerCliCommand({
    path: 'create host-interface',
    shortHelp: 'create host-interface name <ifname> [hw-addr <mac>] [num-rx-queues <n>]',
    run: (input) => {
      let ifname: string | undefined;
      let hwAddr: Uint8Array | undefined;
      let rxQueues = 1;
      while (!input.atEnd()) {
        if (input.accept('name')) ifname = input.expectWord('interface name');
        else if (input.accept('hw-addr')) {
          const w = input.expectWord('MAC address');
          hwAddr = parseMac(w);
          if (!hwAddr) throw new CliError(`MAC address expected, got \`${w}'`);
        } else if (input.accept('num-rx-queues')) rxQueues = input.expectInt('num-rx-queues', 1, 64);
        else throw input.unknown();
      }
      if (!ifname) throw new CliError('missing host interface name');
      return net.createHostInterface(ifname, { hwAddr, rxQueues }).name;
    },
  });

  main.registerCliCommand({
    path: 'delete host-interface',
    shortHelp: 'delete host-interface name <ifname>',
    run: (input) => {
      let ifname: string | undefined;
      while (!input.atEnd()) {
        if (input.accept('name')) ifname = input.expectWord('interface name');
        else throw input.unknown();
      }
      if (!ifname) throw new CliError('missing host interface name');
      net.deleteHostInterface(ifname);
    },
  });
}
