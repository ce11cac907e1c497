// Handlers for interface.api over a narrow backend the dataplane implements; and the helper that
// turns an interface change into sw_interface_event for subscribers.

import { ApiError, ApiRetval } from '../errors.js';
import type { ApiHandlerFn, ApiRegistry } from '../registry.js';

export const IF_STATUS_ADMIN_UP = 1;
export const IF_STATUS_LINK_UP = 2;
const ALL_INTERFACES = 0xffffffff;

export interface InterfaceInfo {
  swIfIndex: number;
  /** e.g. "host-eth0". */
  name: string;
  /** e.g. "af_packet". */
  devType: string;
  adminUp: boolean;
  linkUp: boolean;
  macAddress: Uint8Array;
  /** L3 MTU. */
  mtu: number;
  linkSpeedKbps?: number;
  tag?: string;
}

export interface IpPrefix {
  family: 4 | 6;
  /** 4 or 16 bytes. */
  address: Uint8Array;
  len: number;
}

export interface InterfaceApiBackend {
  /** `create host-interface name <hostIfName>`; returns the new sw_if_index. */
  createHostInterface(hostIfName: string, hwAddr: Uint8Array | null): number | Promise<number>;
  deleteHostInterface(hostIfName: string): void | Promise<void>;
  setAdminState(swIfIndex: number, up: boolean): void | Promise<void>;
  addDelAddress(swIfIndex: number, isAdd: boolean, prefix: IpPrefix | null, delAll: boolean): void | Promise<void>;
  listInterfaces(): InterfaceInfo[];
}

function flagsOf(i: InterfaceInfo): number {
  return (i.adminUp ? IF_STATUS_ADMIN_UP : 0) | (i.linkUp ? IF_STATUS_LINK_UP : 0);
}

export function interfaceHandlers(backend: InterfaceApiBackend, registry: ApiRegistry): Record<string, ApiHandlerFn> {
  return {
    af_packet_create: async (req, ctx) => {
      const name = String(req.host_if_name ?? '');
      if (!name) throw new ApiError(ApiRetval.INVALID_ARGUMENT, 'host_if_name is empty');
      const hw = req.use_random_hw_addr ? null : (req.hw_addr as Uint8Array);
      // An all-zero address is "not given" (it is what a client that omits hw_addr sends).
      const explicit = hw && hw.some((b) => b !== 0) ? hw : null;
      const swIfIndex = await backend.createHostInterface(name, explicit);
      ctx.reply({ sw_if_index: swIfIndex });
    },
    af_packet_delete: async (req, ctx) => {
      await backend.deleteHostInterface(String(req.host_if_name ?? ''));
      ctx.reply({});
    },
    sw_interface_set_flags: async (req, ctx) => {
      await backend.setAdminState(Number(req.sw_if_index), (Number(req.flags) & IF_STATUS_ADMIN_UP) !== 0);
      ctx.reply({});
    },
    sw_interface_add_del_address: async (req, ctx) => {
      const p = req.prefix as { address: { af: number; un: { ip4: Uint8Array; ip6: Uint8Array } }; len: number };
      const family = p.address.af === 0 ? 4 : 6;
      const address = family === 4 ? p.address.un.ip4 : p.address.un.ip6;
      if (p.len > (family === 4 ? 32 : 128)) throw new ApiError(ApiRetval.INVALID_VALUE, 'prefix length');
      const delAll = Boolean(req.del_all);
      await backend.addDelAddress(Number(req.sw_if_index), Boolean(req.is_add), delAll ? null : { family, address, len: p.len }, delAll);
      ctx.reply({});
    },
    sw_interface_dump: async (req, ctx) => {
      const only = Number(req.sw_if_index ?? ALL_INTERFACES);
      const filter = req.name_filter_valid ? String(req.name_filter ?? '') : null;
      for (const i of backend.listInterfaces()) {
        if (only !== ALL_INTERFACES && i.swIfIndex !== only) continue;
        if (filter !== null && !i.name.includes(filter)) continue;
        const ok = ctx.details({
          sw_if_index: i.swIfIndex,
          sup_sw_if_index: i.swIfIndex,
          l2_address: i.macAddress,
          flags: flagsOf(i),
          type: 0, // IF_API_TYPE_HARDWARE
          link_duplex: 2, // LINK_DUPLEX_API_FULL
          link_speed: i.linkSpeedKbps ?? 0,
          link_mtu: Math.min(i.mtu, 0xffff),
          mtu: [i.mtu, i.mtu, i.mtu, 0],
          interface_name: i.name,
          interface_dev_type: i.devType,
          tag: i.tag ?? '',
        });
        if (!ok && !(await ctx.drained())) return;
      }
    },
    want_interface_events: registry.wantHandler('want_interface_events'),
  };
}

/** Tells subscribers that an interface changed state or was deleted. */
export function publishInterfaceEvent(registry: ApiRegistry, i: InterfaceInfo, deleted = false): number {
  return registry.publish('sw_interface_event', { sw_if_index: i.swIfIndex, flags: flagsOf(i), deleted });
}
