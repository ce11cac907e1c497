// The torrc `DirAuthority` line that names one authority of a private network (tor-manual, chutney style):
//   DirAuthority <nick> orport=<OR> no-v2 v3ident=<hex40> <address>:<DirPort> <relay RSA fingerprint hex40>

export interface DirAuthorityEntry {
  nickname: string;
  address: string;
  orPort: number;
  dirPort: number;
  /** Fingerprint of the authority's v3 identity key (authority_certificate `fingerprint`). */
  v3ident: string;
  /** The authority's relay RSA identity fingerprint. */
  rsaFingerprint: string;
}

const HEX40 = /^[0-9A-F]{40}$/;
const NICKNAME = /^[A-Za-z0-9]{1,19}$/;

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`${name} out of range: ${port}`);
}

export function formatDirAuthorityLine(entry: DirAuthorityEntry): string {
  if (!NICKNAME.test(entry.nickname)) throw new RangeError(`bad nickname: ${entry.nickname}`);
  checkPort('orPort', entry.orPort);
  checkPort('dirPort', entry.dirPort);
  const v3 = entry.v3ident.toUpperCase();
  const fp = entry.rsaFingerprint.toUpperCase().replace(/ /g, '');
  if (!HEX40.test(v3)) throw new RangeError(`bad v3ident: ${entry.v3ident}`);
  if (!HEX40.test(fp)) throw new RangeError(`bad RSA fingerprint: ${entry.rsaFingerprint}`);
  return `DirAuthority ${entry.nickname} orport=${entry.orPort} no-v2 v3ident=${v3} ${entry.address}:${entry.dirPort} ${fp}`;
}

/** Parses a line produced by formatDirAuthorityLine (and the usual variants: flags in any order, spaced fingerprint). */
export function parseDirAuthorityLine(line: string): DirAuthorityEntry {
  const words = line.trim().split(/\s+/);
  if (words[0] === 'DirAuthority') words.shift();
  const nickname = words.shift();
  if (nickname === undefined || !NICKNAME.test(nickname)) throw new SyntaxError(`DirAuthority: bad nickname in "${line}"`);
  let orPort: number | undefined;
  let v3ident: string | undefined;
  while (words.length > 0 && !/^\d+\.\d+\.\d+\.\d+:\d+$/.test(words[0]!)) {
    const flag = words.shift()!;
    const eq = flag.indexOf('=');
    const key = eq < 0 ? flag : flag.slice(0, eq);
    const value = eq < 0 ? '' : flag.slice(eq + 1);
    if (key === 'orport') orPort = Number(value);
    else if (key === 'v3ident') v3ident = value.toUpperCase();
  }
  const addrPort = words.shift();
  if (addrPort === undefined) throw new SyntaxError(`DirAuthority: missing address in "${line}"`);
  const colon = addrPort.lastIndexOf(':');
  const rsaFingerprint = words.join('').toUpperCase();
  if (orPort === undefined || v3ident === undefined || !HEX40.test(v3ident) || !HEX40.test(rsaFingerprint)) {
    throw new SyntaxError(`DirAuthority: incomplete line "${line}"`);
  }
  const entry: DirAuthorityEntry = {
    nickname,
    address: addrPort.slice(0, colon),
    dirPort: Number(addrPort.slice(colon + 1)),
    orPort,
    v3ident,
    rsaFingerprint,
  };
  checkPort('orPort', entry.orPort);
  checkPort('dirPort', entry.dirPort);
  return entry;
}
