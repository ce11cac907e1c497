// Identity keys made before any daemon starts, so every torrc can name every authority:
// tor-gencert for an authority's v3 identity/signing keys, `tor --list-fingerprint` for relay identities.

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TOR_BINARY } from './daemon.js';

export const TOR_GENCERT_BINARY = process.env.ONIONPLANE_TOR_GENCERT ?? '/usr/bin/tor-gencert';

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], stdin?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve({ stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

/** Creates keys/authority_{identity_key,signing_key,certificate} in dataDir; returns the v3ident (hex, upper). */
export async function createAuthorityKeys(dataDir: string, dirPort: number): Promise<string> {
  const keys = path.join(dataDir, 'keys');
  await fs.mkdir(keys, { recursive: true, mode: 0o700 });
  const cert = path.join(keys, 'authority_certificate');
  // Empty passphrase on stdin (fd 0); -m 12: certificate valid for 12 months.
  await run(
    TOR_GENCERT_BINARY,
    [
      '--create-identity-key',
      '--passphrase-fd', '0',
      '-i', path.join(keys, 'authority_identity_key'),
      '-s', path.join(keys, 'authority_signing_key'),
      '-c', cert,
      '-m', '12',
      '-a', `127.0.0.1:${dirPort}`,
    ],
    '\n',
  );
  return parseCertificateFingerprint(await fs.readFile(cert, 'utf8'));
}

export function parseCertificateFingerprint(certificate: string): string {
  const m = /^fingerprint ([0-9A-Fa-f]{40})$/m.exec(certificate);
  if (!m) throw new Error('authority_certificate has no fingerprint line');
  return m[1]!.toUpperCase();
}

export interface RelayIdentity {
  rsaFingerprint: string;
  ed25519Id: string;
}

/** `<nick> <hex with optional spaces>` or `<nick> <base64>` as in tor's fingerprint files. */
export function parseFingerprintFile(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  const space = line.indexOf(' ');
  if (space < 0) throw new Error(`unexpected fingerprint file: "${line}"`);
  return line.slice(space + 1).replace(/ /g, '');
}

/**
 * Makes the relay identity keys in dataDir (the daemon reuses them later) and reads both fingerprints
 * from the files tor writes there.
 */
export async function createRelayIdentity(dataDir: string, nickname: string, orPort: number): Promise<RelayIdentity> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await run(TOR_BINARY, [
    '--list-fingerprint',
    '--ignore-missing-torrc',
    '-f', '/dev/null',
    '--defaults-torrc', '/dev/null',
    '--quiet',
    '--DataDirectory', dataDir,
    '--Nickname', nickname,
    '--ORPort', `127.0.0.1:${orPort}`,
    '--SocksPort', '0',
  ]);
  const rsa = parseFingerprintFile(await fs.readFile(path.join(dataDir, 'fingerprint'), 'utf8')).toUpperCase();
  const ed = parseFingerprintFile(await fs.readFile(path.join(dataDir, 'fingerprint-ed25519'), 'utf8')).replace(/=+$/, '');
  if (!/^[0-9A-F]{40}$/.test(rsa)) throw new Error(`bad RSA fingerprint for ${nickname}: ${rsa}`);
  if (Buffer.from(ed, 'base64').length !== 32) throw new Error(`bad Ed25519 id for ${nickname}: ${ed}`);
  return { rsaFingerprint: rsa, ed25519Id: ed };
}
