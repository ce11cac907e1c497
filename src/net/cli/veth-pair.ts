// `create veth-pair`, `delete veth-pair`: a veth pair whose host side gets an address and whose
// other side becomes a host-interface (what VPP's `create tap … host-ip4-addr` does with a tap).

import { CliError } from '../../cli/command.js';
import type { Main } from '../../core/main.js';
import { addAddress, createVethPair, deleteLink, IFNAME_MAX } from '../../native/veth.js';
import type { NetMain } from '../net-main.js';
import { formatPrefix } from '../wire/ipv4.js';
import { expectPrefix } from './parse.js';

/** The dataplane end's default name: the host end's name and this suffix. */
const DATAPLANE_SUFFIX = '-dp';

export function registerVethPairCommands(main: Main, net: NetMain): void {
  main.registerCliCommand({
    path: 'create veth-pair',
    shortHelp: 'create veth-pair name <host-if> host-ip4-addr <a.b.c.d/len> [peer-name <ifname>]',
    run: async (input) => {
      let hostIf: string | undefined;
      let peer: string | undefined;
      let addr: string | undefined;
      while (!input.atEnd()) {
        if (input.accept('name')) hostIf = input.expectWord('host interface name');
        else if (input.accept('host-ip4-addr')) addr = formatPrefix(expectPrefix(input));
        else if (input.accept('peer-name')) peer = input.expectWord('peer interface name');
        else throw input.unknown();
      }
      if (!hostIf) throw new CliError('missing host interface name');
      peer ??= hostIf + DATAPLANE_SUFFIX;
      if (peer.length > IFNAME_MAX) throw new CliError(`peer name ${peer} longer than ${IFNAME_MAX} characters: give peer-name`);
      if (net.interfaces.find(`host-${peer}`)) throw new CliError(`interface host-${peer} already exists`);
      // One segment per GSO packet: the host's TCP then sends MTU-sized frames, which is what the
      // dataplane's TCP takes (it does not segment GSO super-frames).
      await createVethPair({ name: hostIf, peerName: peer, up: true, gsoMaxSegs: 1 });
      try {
        if (addr) await addAddress(hostIf, addr);
        const itf = net.createHostInterface(peer);
        itf.vethHostName = hostIf;
        return itf.name;
      } catch (e) {
        await deleteLink(hostIf);
        throw e;
      }
    },
  });

  main.registerCliCommand({
    path: 'delete veth-pair',
    shortHelp: 'delete veth-pair name <host-if>',
    run: async (input) => {
      let hostIf: string | undefined;
      while (!input.atEnd()) {
        if (input.accept('name')) hostIf = input.expectWord('host interface name');
        else throw input.unknown();
      }
      if (!hostIf) throw new CliError('missing host interface name');
      const itf = net.interfaces.all().find((i) => i.vethHostName === hostIf);
      if (!itf) throw new CliError(`no veth pair with host side ${hostIf}`);
      net.deleteInterface(itf);
      await deleteLink(hostIf);
    },
  });
}
