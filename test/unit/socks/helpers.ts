import {
  DEFAULT_ISOLATION,
  SocksServerSession,
  type SocksAction,
  type SocksListenerConfig,
} from '../../../src/socks/index.js';

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export const baseConfig: SocksListenerConfig = {
  listenerId: 1,
  extendedErrors: false,
  safeSocks: false,
  isolation: DEFAULT_ISOLATION,
  handshakeTimeoutMs: 5_000,
};

export const CLIENT = { addr: 0x0a4d0002, port: 40000 }; // 10.77.0.2

export function open(config: Partial<SocksListenerConfig> = {}, now = 0) {
  return SocksServerSession.accept({ ...baseConfig, ...config }, CLIENT, now);
}

export function sent(actions: SocksAction[]): string {
  return actions
    .filter((a): a is Extract<SocksAction, { type: 'send' }> => a.type === 'send')
    .map((a) => toHex(a.bytes))
    .join('');
}

export function counters(actions: SocksAction[]): string[] {
  return actions.flatMap((a) => (a.type === 'count' ? [a.counter] : []));
}

export function closed(actions: SocksAction[]): boolean {
  return actions.some((a) => a.type === 'close');
}

export function opens(actions: SocksAction[]) {
  return actions.flatMap((a) => (a.type === 'open' ? [a.request] : []));
}

export function forwarded(actions: SocksAction[]): string {
  return actions.flatMap((a) => (a.type === 'forward' ? [toHex(a.bytes)] : [])).join('');
}
