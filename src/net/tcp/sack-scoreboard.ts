/**
 * Sender-side SACK scoreboard (RFC 2018, used for RFC 6675-style loss recovery).
 *
 * Blocks are kept as sorted, disjoint [start, end) byte offsets relative to SND.UNA, so every comparison is a
 * plain number comparison; `advance()` re-bases them when SND.UNA moves. The number of blocks is bounded;
 * when full, a new block that cannot merge replaces the highest one (the least useful for recovery).
 */
export const MAX_SCOREBOARD_BLOCKS = 32;

export class SackScoreboard {
  private readonly starts = new Float64Array(MAX_SCOREBOARD_BLOCKS);
  private readonly ends = new Float64Array(MAX_SCOREBOARD_BLOCKS);
  private n = 0;
  /** Total SACKed bytes above SND.UNA. */
  sacked = 0;
  /** End of the last hole found by `nextHole` (offset). */
  holeEnd = 0;

  get blockCount(): number { return this.n; }
  get isEmpty(): boolean { return this.n === 0; }
  /** Offset (from SND.UNA) just past the highest SACKed byte, 0 when empty. */
  get highSacked(): number { return this.n === 0 ? 0 : this.ends[this.n - 1]!; }
  blockStart(i: number): number { return this.starts[i]!; }
  blockEnd(i: number): number { return this.ends[i]!; }

  clear(): void { this.n = 0; this.sacked = 0; }

  /**
   * Record a SACK block given as offsets from SND.UNA; blocks outside (0, sndMaxOff] are ignored (RFC 2018 §8
   * invalid blocks). Returns true when new bytes became SACKed.
   */
  add(start: number, end: number, sndMaxOff: number): boolean {
    if (start < 0) start = 0;
    if (end > sndMaxOff) end = sndMaxOff;
    if (end <= start) return false;
    const s = this.starts, e = this.ends;
    let i = 0;
    while (i < this.n && e[i]! < start) i++;
    let j = i;
    let ns = start, ne = end;
    let covered = 0;
    while (j < this.n && s[j]! <= end) {
      if (s[j]! < ns) ns = s[j]!;
      if (e[j]! > ne) ne = e[j]!;
      covered += e[j]! - s[j]!;
      j++;
    }
    const merged = j - i;
    if (merged === 0) {
      if (this.n === MAX_SCOREBOARD_BLOCKS) {
        if (i === this.n) return false; // above everything and no room: ignore
        this.sacked -= e[this.n - 1]! - s[this.n - 1]!;
        this.n--;
      }
      s.copyWithin(i + 1, i, this.n);
      e.copyWithin(i + 1, i, this.n);
      this.n++;
    } else if (merged > 1) {
      s.copyWithin(i + 1, j, this.n);
      e.copyWithin(i + 1, j, this.n);
      this.n -= merged - 1;
    }
    s[i] = ns;
    e[i] = ne;
    const gained = ne - ns - covered;
    this.sacked += gained;
    return gained > 0;
  }

  /** SND.UNA advanced by `delta` bytes: drop covered blocks and re-base the rest. */
  advance(delta: number): void {
    if (delta <= 0 || this.n === 0) return;
    const s = this.starts, e = this.ends;
    let k = 0;
    let sacked = 0;
    for (let i = 0; i < this.n; i++) {
      const ns = Math.max(0, s[i]! - delta), ne = e[i]! - delta;
      if (ne <= 0) continue;
      s[k] = ns; e[k] = ne; sacked += ne - ns; k++;
    }
    this.n = k;
    this.sacked = sacked;
  }

  /** SACKed bytes within [from, to). */
  sackedIn(from: number, to: number): number {
    let sum = 0;
    for (let i = 0; i < this.n; i++) {
      const a = Math.max(from, this.starts[i]!), b = Math.min(to, this.ends[i]!);
      if (b > a) sum += b - a;
      if (this.starts[i]! >= to) break;
    }
    return sum;
  }

  /** True when `off` lies in a SACKed block. */
  isSacked(off: number): boolean {
    for (let i = 0; i < this.n; i++) {
      if (off < this.starts[i]!) return false;
      if (off < this.ends[i]!) return true;
    }
    return false;
  }

  /**
   * First un-SACKed offset ≥ from that lies below the highest SACKed byte (a hole presumed lost), or -1.
   * Sets `holeEnd` to where that hole ends.
   */
  nextHole(from: number): number {
    let off = from;
    for (let i = 0; i < this.n; i++) {
      if (off < this.starts[i]!) { this.holeEnd = this.starts[i]!; return off; }
      if (off < this.ends[i]!) off = this.ends[i]!;
    }
    return -1;
  }
}
