// RESOLVED answers (tor-spec §6.4) in the backend contract's shape.
import type { ResolveAnswer } from '../../backend/interface.js';
import type { ResolvedAnswer } from '../cell/relay/resolve.js';

export function ipText(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return parts.join(':');
}

/** The first usable answer of a RESOLVED cell, in the contract's shape. */
export function toResolveAnswer(answers: readonly ResolvedAnswer[], mode: 'forward' | 'reverse'): ResolveAnswer {
  for (const a of answers) {
    if (mode === 'forward' && a.kind === 'ipv4') return { kind: 'ipv4', addr: ipText(a.addr) };
    if (mode === 'forward' && a.kind === 'ipv6') return { kind: 'ipv6', addr: ipText(a.addr) };
    if (mode === 'reverse' && a.kind === 'hostname') return { kind: 'host', host: a.hostname };
  }
  return { kind: 'error' };
}
