// Names of the graph nodes the net module registers (and the ones it hands packets to).

export const NodeName = {
  AF_PACKET_INPUT: 'af-packet-input',
  ETHERNET_INPUT: 'ethernet-input',
  ARP_INPUT: 'arp-input',
  IP4_INPUT: 'ip4-input',
  IP4_LOCAL: 'ip4-local',
  IP4_ICMP_INPUT: 'ip4-icmp-input',
  IP4_ICMP_ERROR: 'ip4-icmp-error',
  IP4_LOOKUP: 'ip4-lookup',
  IP4_ARP: 'ip4-arp',
  IP4_REWRITE: 'ip4-rewrite',
  INTERFACE_OUTPUT: 'interface-output',
  AF_PACKET_OUTPUT: 'af-packet-output',
  INTERFACE_RX_FAULT: 'interface-rx-fault',
  INTERFACE_TX_FAULT: 'interface-tx-fault',
  INTERFACE_FAULT_PROCESS: 'interface-fault-process',
  IP4_NEIGHBOR_PROCESS: 'ip4-neighbor-process',
  /** Registered by the TCP layer; until then ip4-local counts TCP as having no handler. */
  TCP4_INPUT: 'tcp4-input',
  UDP4_INPUT: 'udp4-input',
  ERROR_DROP: 'error-drop',
} as const;
