// Test-only helpers: just enough descriptor parsing to get a relay's ntor key (the real parsers live
// in src/tor/netdoc, owned elsewhere).
import { createHash } from 'node:crypto';
import fs from 'node:fs';

export function httpBody(resp: string): string {
  const i = resp.indexOf('\r\n\r\n');
  return i < 0 ? '' : resp.slice(i + 4);
}

export interface DescriptorKeys {
  readonly ntorKey: Uint8Array;
  readonly rsaIdHex: string;
}

/** `ntor-onion-key` (base64) and the fingerprint (SHA-1 of the signing-key PEM's DER) of a server descriptor. */
export function parseDescriptorKeys(desc: string): DescriptorKeys {
  const ntor = /^ntor-onion-key ([A-Za-z0-9+/=]+)$/m.exec(desc);
  if (!ntor) throw new Error('descriptor lacks ntor-onion-key');
  const sk = /^signing-key\n-----BEGIN RSA PUBLIC KEY-----\n([\s\S]+?)-----END RSA PUBLIC KEY-----/m.exec(desc);
  if (!sk) throw new Error('descriptor lacks signing-key');
  const der = Buffer.from(sk[1]!.replace(/\s+/g, ''), 'base64');
  return {
    ntorKey: new Uint8Array(Buffer.from(ntor[1]!, 'base64')),
    rsaIdHex: createHash('sha1').update(der).digest('hex').toUpperCase(),
  };
}

/** The relay's ntor public key from `keys/secret_onion_key_ntor` (32-byte tag | secret | public). */
export function readNtorPublicKey(relayRoot: string, dataDir = 'data'): Uint8Array {
  const f = fs.readFileSync(`${relayRoot}/${dataDir}/keys/secret_onion_key_ntor`);
  if (f.length !== 96 || !f.subarray(0, 20).toString('latin1').startsWith('== c25519v1: onion')) throw new Error('unexpected ntor key file');
  return new Uint8Array(f.subarray(64, 96));
}
