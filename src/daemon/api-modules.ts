// The core's binary API modules (vpe, interface, errors, plugins) over the same state the CLI
// uses, and the socket server started from `socksvr { socket-name … }`.

import { ApiServer } from '../api/server.js';
import { errorsApi, interfaceApi, pluginsApi, torApi, vpeApi } from '../api/builtin.js';
import { errorsHandlers } from '../api/handlers/errors.js';
import { interfaceHandlers, publishInterfaceEvent, type InterfaceInfo } from '../api/handlers/interface.js';
import { pluginsHandlers } from '../api/handlers/plugins.js';
import { vpeHandlers } from '../api/handlers/vpe.js';
import { ApiError, ApiRetval } from '../api/errors.js';
import type { SocksvrConfig } from '../config/core-sections.js';
import { VERSION, type Main } from '../core/main.js';
import type { NetMain } from '../net/net-main.js';
import type { NetInterface } from '../net/interface/interface-table.js';
import type { PluginRegistry } from '../plugin/loader.js';

function interfaceInfo(itf: NetInterface): InterfaceInfo {
  return {
    swIfIndex: itf.swIfIndex,
    name: itf.name,
    devType: itf.device ? 'af_packet' : 'local',
    adminUp: itf.adminUp,
    linkUp: itf.linkUp,
    macAddress: itf.mac,
    mtu: itf.mtu,
  };
}

export function registerCoreApi(main: Main, net: NetMain): void {
  const api = main.api;
  api.registerModule(vpeApi, vpeHandlers({ program: 'onionplane', version: VERSION, buildDate: '', buildDirectory: process.cwd() }));
  const byIndex = (swIfIndex: number): NetInterface => {
    const itf = net.interfaces.get(swIfIndex);
    if (!itf) throw new ApiError(ApiRetval.INVALID_SW_IF_INDEX);
    return itf;
  };
  api.registerModule(
    interfaceApi,
    interfaceHandlers(
      {
        createHostInterface: (name, hw) => {
          const itf = net.createHostInterface(name, hw ? { hwAddr: hw } : {});
          publishInterfaceEvent(api, interfaceInfo(itf));
          return itf.swIfIndex;
        },
        deleteHostInterface: (name) => {
          const itf = net.interfaces.find(`host-${name}`);
          if (!itf) throw new ApiError(ApiRetval.INVALID_INTERFACE);
          net.deleteHostInterface(name);
          publishInterfaceEvent(api, interfaceInfo(itf), true);
        },
        setAdminState: (swIfIndex, up) => {
          const itf = byIndex(swIfIndex);
          net.setAdminState(itf, up);
          publishInterfaceEvent(api, interfaceInfo(itf));
        },
        addDelAddress: (swIfIndex, isAdd, prefix, delAll) => {
          const itf = byIndex(swIfIndex);
          if (delAll) {
            for (const a of [...itf.addresses]) net.deleteAddress(itf, a.addr, a.len);
            return;
          }
          if (!prefix || prefix.family !== 4) throw new ApiError(ApiRetval.INVALID_VALUE, 'only IPv4 addresses are supported');
          const a = prefix.address;
          const addr = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
          if (isAdd) net.addAddress(itf, addr, prefix.len);
          else net.deleteAddress(itf, addr, prefix.len);
        },
        listInterfaces: () => net.interfaces.all().map(interfaceInfo),
      },
      api,
    ),
  );
  api.registerModule(
    errorsApi,
    errorsHandlers({
      listErrorCounters: () => main.graph.errors.rows(),
      clearErrorCounters: () => main.graph.errors.clear(),
    }),
  );
  api.registerModule(
    pluginsApi,
    pluginsHandlers({
      listPlugins: () =>
        main.hasModule('plugins')
          ? main.module<PluginRegistry>('plugins').plugins.map((p) => ({
              name: p.name,
              version: p.desc?.version ?? '',
              description: p.desc?.description ?? p.error ?? '',
              enabled: p.state === 'loaded',
              defaultDisabled: p.desc?.defaultDisabled ?? false,
            }))
          : [],
    }),
  );
  // The tor module's ids are reserved even while the plugin is disabled; the plugin adds handlers.
  api.registerModule(torApi);
}

/** Starts the API socket if `socksvr` names one; stops it at shutdown. */
export async function startApiServer(main: Main): Promise<void> {
  const { socketName } = main.config<SocksvrConfig>('socksvr');
  if (!socketName) return;
  const log = main.log.child('api');
  const server = new ApiServer(main.api, { socketPath: socketName, onWarning: (m: string) => log.warn(m) });
  await server.start();
  main.setModule('api-server', server);
  main.onShutdown('socksvr', () => server.stop());
  log.info(`binary API listening on ${socketName}`);
}
