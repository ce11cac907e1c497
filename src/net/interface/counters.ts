// Per-interface combined counters (VPP's rx/tx packets and bytes, drops, ip4, ip6), one typed array
// per counter indexed by sw_if_index; `clear interfaces` snapshots them, as `clear errors` does.

export const InterfaceCounter = {
  RX_PACKETS: 0,
  RX_BYTES: 1,
  TX_PACKETS: 2,
  TX_BYTES: 3,
  DROPS: 4,
  IP4: 5,
  IP6: 6,
  TX_ERROR: 7,
} as const;

/** Names `show interface` prints, in VPP's order. */
export const INTERFACE_COUNTER_NAMES = ['rx packets', 'rx bytes', 'tx packets', 'tx bytes', 'drops', 'ip4', 'ip6', 'tx-error'] as const;

const N = INTERFACE_COUNTER_NAMES.length;

export class InterfaceCounters {
  private readonly values: Float64Array;
  private readonly cleared: Float64Array;

  constructor(readonly maxInterfaces: number) {
    this.values = new Float64Array(maxInterfaces * N);
    this.cleared = new Float64Array(maxInterfaces * N);
  }

  add(swIfIndex: number, counter: number, n = 1): void {
    const i = swIfIndex * N + counter;
    this.values[i] = this.values[i]! + n;
  }

  /** Since the last clear. */
  get(swIfIndex: number, counter: number): number {
    const i = swIfIndex * N + counter;
    return this.values[i]! - this.cleared[i]!;
  }

  /** Since the interface was created (monotonic, for the API). */
  total(swIfIndex: number, counter: number): number {
    return this.values[swIfIndex * N + counter]!;
  }

  clear(): void {
    this.cleared.set(this.values);
  }

  /** Zeroes an index being reused by a new interface. */
  reset(swIfIndex: number): void {
    this.values.fill(0, swIfIndex * N, (swIfIndex + 1) * N);
    this.cleared.fill(0, swIfIndex * N, (swIfIndex + 1) * N);
  }
}
