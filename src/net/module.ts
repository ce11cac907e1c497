// The net module: registers the L2/L3 host-stack graph nodes, their CLI, and the `net` main-state
// object other layers use (ip4Output to send, registerIp4Protocol to receive).

import type { Main } from '../core/main.js';
import { AfPacketDevice } from '../native/af-packet-device.js';
import { registerFaultCommands } from './cli/fault.js';
import { registerHostInterfaceCommands } from './cli/host-interface.js';
import { registerInterfaceCommands } from './cli/interface.js';
import { registerIpCommands } from './cli/ip.js';
import { registerVethPairCommands } from './cli/veth-pair.js';
import { NetMain, type DeviceOpener } from './net-main.js';
import { afPacketInputNode } from './nodes/af-packet-input.js';
import { afPacketOutputNode } from './nodes/af-packet-output.js';
import { arpInputNode } from './nodes/arp-input.js';
import { ethernetInputNode } from './nodes/ethernet-input.js';
import { interfaceFaultNode } from './nodes/interface-fault.js';
import { interfaceFaultProcessNode } from './nodes/interface-fault-process.js';
import { interfaceOutputNode } from './nodes/interface-output.js';
import { ip4ArpNode } from './nodes/ip4-arp.js';
import { ip4IcmpErrorNode } from './nodes/ip4-icmp-error.js';
import { ip4IcmpInputNode } from './nodes/ip4-icmp-input.js';
import { ip4InputNode } from './nodes/ip4-input.js';
import { ip4LocalNode } from './nodes/ip4-local.js';
import { ip4LookupNode } from './nodes/ip4-lookup.js';
import { ip4NeighborProcessNode } from './nodes/ip4-neighbor-process.js';
import { ip4RewriteNode } from './nodes/ip4-rewrite.js';

export type NetModule = NetMain;
export { NetMain };

export const NET_MODULE = 'net';

export interface NetModuleOptions {
  /** How `create host-interface` opens a device; default AF_PACKET. Tests pass MemoryDevices. */
  readonly openDevice?: DeviceOpener;
}

const openAfPacket: DeviceOpener = (ifname, opts) => AfPacketDevice.open(ifname, { rxQueues: opts.rxQueues });

export function registerNetModule(main: Main, options: NetModuleOptions = {}): NetModule {
  const net = new NetMain(main, options.openDevice ?? openAfPacket);
  main.setModule(NET_MODULE, net);
  net.nodes.afPacketInput = main.registerNode(afPacketInputNode(net));
  main.registerNode(ethernetInputNode(net));
  main.registerNode(arpInputNode(net));
  main.registerNode(ip4InputNode(net));
  main.registerNode(ip4LocalNode(net));
  main.registerNode(ip4IcmpInputNode(net));
  main.registerNode(ip4IcmpErrorNode(net));
  net.nodes.ip4Lookup = main.registerNode(ip4LookupNode(net));
  main.registerNode(ip4ArpNode(net));
  net.nodes.ip4Rewrite = main.registerNode(ip4RewriteNode(net));
  net.nodes.interfaceOutput = main.registerNode(interfaceOutputNode(net));
  main.registerNode(afPacketOutputNode(net));
  main.registerNode(interfaceFaultNode(net, 'rx'));
  main.registerNode(interfaceFaultNode(net, 'tx'));
  net.nodes.faultProcess = main.registerNode(interfaceFaultProcessNode(net));
  net.nodes.neighborProcess = main.registerNode(ip4NeighborProcessNode(net));

  registerHostInterfaceCommands(main, net);
  registerVethPairCommands(main, net);
  registerInterfaceCommands(main, net);
  registerIpCommands(main, net);
  registerFaultCommands(main, net);

  main.onShutdown(NET_MODULE, () => net.shutdown());
  return net;
}
