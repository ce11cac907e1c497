// Where a reusable network is described on disk (for `npm run tornet -- up` and tests that attach to it),
// and the per-root owner record that lets a later run remove roots left by a killed process.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isOurTorRunning } from './daemon.js';
import { removeTreeSync } from './cleanup.js';
import type { TorNetDescription } from './types.js';

export const ROOT_PREFIX = 'onionplane-tornet-';
const OWNER_FILE = 'owner.json';

export function defaultStatePath(): string {
  return process.env.ONIONPLANE_TORNET_STATE ?? path.join(os.tmpdir(), 'onionplane-tornet', 'state.json');
}

export function writeStateFile(description: TorNetDescription, file = defaultStatePath()): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(description, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

export function readStateFile(file = defaultStatePath()): TorNetDescription {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no tornet state at ${file} (start one with: npm run tornet -- up)`);
  }
  const d = JSON.parse(text) as TorNetDescription;
  if (typeof d.root !== 'string' || !Array.isArray(d.authorities) || !Array.isArray(d.dirAuthorityLines)) {
    throw new Error(`${file} is not a tornet state file`);
  }
  return d;
}

export interface OwnerRecord {
  ownerPid: number;
  /** A network the CLI leaves running on purpose: never swept while any daemon lives. */
  detached: boolean;
  daemons: { pid: number; torrcFile: string }[];
}

export function writeOwnerRecord(root: string, record: OwnerRecord): void {
  fs.writeFileSync(path.join(root, OWNER_FILE), JSON.stringify(record) + '\n');
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `<parent>/onionplane-tornet-*` roots whose owner died without cleaning up and whose daemons are
 * all gone (tor's __OwningControllerProcess makes them exit with their owner). Returns the removed paths.
 */
export function sweepAbandonedRoots(parent: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(parent).filter((n) => n.startsWith(ROOT_PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    const root = path.join(parent, name);
    let record: OwnerRecord;
    try {
      record = JSON.parse(fs.readFileSync(path.join(root, OWNER_FILE), 'utf8')) as OwnerRecord;
    } catch {
      continue; // Not ours, or still being created.
    }
    if (record.ownerPid === process.pid || (!record.detached && processExists(record.ownerPid))) continue;
    if (record.daemons.some((d) => isOurTorRunning(d.pid, d.torrcFile))) continue;
    removeTreeSync(root);
    removed.push(root);
  }
  return removed;
}
