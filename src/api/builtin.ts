// The API modules onionplane ships, in registration order, and their combined message types.

import type { ApiJson } from './generator/json.js';
import { errorsApi, type ErrorsMessages, type ErrorsServices } from './generated/errors.api.js';
import { interfaceApi, type InterfaceMessages, type InterfaceServices } from './generated/interface.api.js';
import { memclntApi, type MemclntMessages, type MemclntServices } from './generated/memclnt.api.js';
import { pluginsApi, type PluginsMessages, type PluginsServices } from './generated/plugins.api.js';
import { torApi, type TorMessages, type TorServices } from './generated/tor.api.js';
import { vpeApi, type VpeMessages, type VpeServices } from './generated/vpe.api.js';

export { errorsApi, interfaceApi, memclntApi, pluginsApi, torApi, vpeApi };

/** Modules after memclnt (which the registry always registers first). */
export const BUILTIN_MODULES: readonly ApiJson[] = [vpeApi, interfaceApi, errorsApi, pluginsApi, torApi];

/** Every module a client should know, memclnt included. */
export const ALL_APIS: readonly ApiJson[] = [memclntApi, ...BUILTIN_MODULES];

export type AllMessages = MemclntMessages & VpeMessages & InterfaceMessages & ErrorsMessages & PluginsMessages & TorMessages;
export type AllServices = MemclntServices & VpeServices & InterfaceServices & ErrorsServices & PluginsServices & TorServices;

type Svc<K> = K extends keyof AllServices ? AllServices[K] : never;

/** Requests answered by one reply. */
export type CallName = {
  [K in keyof AllServices]: Svc<K> extends { stream: string } ? never : Svc<K>['reply'] extends 'null' ? never : K;
}[keyof AllServices];

/** `_dump` requests answered by `_details` messages up to the control_ping_reply. */
export type DumpName = { [K in keyof AllServices]: Svc<K> extends { stream: string } ? K : never }[keyof AllServices];

/** `want_*` requests and the events they subscribe to. */
export type WantName = { [K in keyof AllServices]: Svc<K> extends { events: string } ? K : never }[keyof AllServices];

type Msg<N> = N extends keyof AllMessages ? AllMessages[N] : never;

/** Request arguments: every field optional (zero or its default), without the header fields. */
export type RequestArgs<N> = Omit<Partial<Msg<N>>, 'client_index' | 'context'>;
export type ReplyOf<N> = Svc<N> extends { reply: infer R } ? Msg<R> : never;
export type DetailsOf<N> = Svc<N> extends { stream: infer S } ? Msg<S> : never;
export type EventOf<N> = Svc<N> extends { events: infer E } ? Msg<E> : never;
