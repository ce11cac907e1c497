// How the IPv4 nodes use a buffer's 4 opaque words (BufferPool.opaque[bi * 4 + word]).
// ip4-lookup writes them; ip4-arp and ip4-rewrite read them. A buffer leaving ip4-local for a
// protocol node (tcp4-input) carries nothing here: the receiver may use all four words.

/** ip4-lookup → ip4-arp: the next hop to resolve. ip4-local → ip4-icmp-error: (type << 8) | code. */
export const OPAQUE_NEXT_HOP = 0;
export const OPAQUE_ICMP_TYPE_CODE = 0;
/** ip4-lookup/arp → ip4-rewrite: destination MAC, bytes 0-3 and 4-5. */
export const OPAQUE_MAC_HI = 1;
export const OPAQUE_MAC_LO = 2;
