// Public surface of the binary API (see README.md in this folder).

export { ALL_APIS, BUILTIN_MODULES, errorsApi, interfaceApi, memclntApi, pluginsApi, torApi, vpeApi } from './builtin.js';
export type { AllMessages, AllServices, CallName, DumpName, WantName, RequestArgs, ReplyOf, DetailsOf, EventOf } from './builtin.js';
export { ApiClient, ApiCallError, type ApiClientOptions } from './client.js';
export { runApiCommand, type ApiCommandOptions } from './cli-mode.js';
export { ApiError, ApiRetval, retvalName } from './errors.js';
export {
  ApiRegistry, type ApiClientSession, type ApiHandlerFn, type ApiHandlers, type ApiMessage, type ApiMessageHandler,
  type ApiRequestContext, type ModuleRange,
} from './registry.js';
export { ApiServer, DEFAULT_API_SOCKET, type ApiServerOptions, type ApiServerStats } from './server.js';
export { vpeHandlers, type VpeInfo } from './handlers/vpe.js';
export { interfaceHandlers, publishInterfaceEvent, type InterfaceApiBackend, type InterfaceInfo, type IpPrefix } from './handlers/interface.js';
export { errorsHandlers, type ErrorsApiBackend, type ErrorCounterInfo, type ErrorSeverity } from './handlers/errors.js';
export { pluginsHandlers, type PluginsApiBackend, type PluginInfo } from './handlers/plugins.js';
export {
  torHandlers, publishTorStreamEvent, type TorApiBackend, type TorStatusInfo, type TorStreamInfo, type TorCircuitInfo,
} from './handlers/tor.js';
export type { ApiJson } from './generator/json.js';
