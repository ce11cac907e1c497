/** Keys for one hop of tor1 relay crypto (tor-spec §5.2). */
export interface RelayKeys {
  readonly df: Uint8Array; // 20: forward digest seed
  readonly db: Uint8Array; // 20: backward digest seed
  readonly kf: Uint8Array; // 16: forward AES-128 key
  readonly kb: Uint8Array; // 16: backward AES-128 key
}

/** Bytes of key material tor1 needs (Df, Db, Kf, Kb). */
export const TOR1_KEY_MATERIAL_LEN = 20 + 20 + 16 + 16;

/** Split `Df | Db | Kf | Kb …` (the ntor HKDF layout; KDF-TOR output after KH). */
export function splitRelayKeys(material: Uint8Array): RelayKeys {
  if (material.length < TOR1_KEY_MATERIAL_LEN) throw new RangeError('not enough key material for tor1');
  return {
    df: material.slice(0, 20),
    db: material.slice(20, 40),
    kf: material.slice(40, 56),
    kb: material.slice(56, 72),
  };
}
