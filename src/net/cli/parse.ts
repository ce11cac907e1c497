// Argument parsing shared by the net CLI commands.

import { CliError } from '../../cli/command.js';
import type { TokenInput } from '../../control/token-input.js';
import type { NetInterface } from '../interface/interface-table.js';
import type { NetMain } from '../net-main.js';
import { parseIp4, parseIp4Prefix, type Ip4Prefix } from '../wire/ipv4.js';

export function expectInterface(net: NetMain, input: TokenInput): NetInterface {
  const name = input.expectWord('interface name');
  const itf = net.interfaces.find(name);
  if (!itf) throw new CliError(`unknown interface \`${name}'`);
  return itf;
}

export function expectPrefix(input: TokenInput, what = 'prefix a.b.c.d/len'): Ip4Prefix {
  const w = input.expectWord(what);
  const p = parseIp4Prefix(w);
  if (!p) throw new CliError(`${what} expected, got \`${w}'`);
  return p;
}

export function expectIp4(input: TokenInput, what = 'address a.b.c.d'): number {
  const w = input.expectWord(what);
  const a = parseIp4(w);
  if (a === undefined) throw new CliError(`${what} expected, got \`${w}'`);
  return a;
}

/** A number from `min` to `max`, decimals allowed (percentages, milliseconds). */
export function expectNumber(input: TokenInput, what: string, min: number, max: number): number {
  const w = input.expectWord(what);
  const v = /^\d+(\.\d+)?$/.test(w) ? Number(w) : NaN;
  if (!(v >= min && v <= max)) throw new CliError(`${what} expected (a number from ${min} to ${max}), got \`${w}'`);
  return v;
}
