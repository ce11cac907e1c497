/**
 * Min-heap of (deadline, owner) with lazy deletion: an owner records the deadline of its live entry in
 * `timerAt`; entries whose deadline no longer matches are skipped when popped. Rescheduling later leaves the
 * old entry in place (it pops early, the owner finds nothing due and is rescheduled), so each owner has O(1)
 * live entries and every operation is O(log n).
 */
export interface TimerOwner {
  /** Deadline of this owner's live heap entry (Infinity when none). */
  timerAt: number;
}

export class TimerQueue<T extends TimerOwner> {
  private t: number[] = [];
  private o: T[] = [];

  get size(): number { return this.t.length; }

  /** Earliest pending deadline (possibly stale), Infinity when empty. */
  peekDeadline(): number { return this.t.length === 0 ? Infinity : this.t[0]!; }

  /** Make sure `owner` is woken no later than `deadline`. */
  schedule(owner: T, deadline: number): void {
    if (!(deadline < owner.timerAt)) return;
    owner.timerAt = deadline;
    this.push(deadline, owner);
  }

  /** Pop the next owner whose live deadline is ≤ now (its timerAt is reset to Infinity), or null. */
  popDue(now: number): T | null {
    while (this.t.length > 0 && this.t[0]! <= now) {
      const d = this.t[0]!, owner = this.o[0]!;
      this.pop();
      if (owner.timerAt === d) {
        owner.timerAt = Infinity;
        return owner;
      }
    }
    return null;
  }

  private push(d: number, owner: T): void {
    const t = this.t, o = this.o;
    let i = t.length;
    t.push(d); o.push(owner);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= d) break;
      t[i] = t[p]!; o[i] = o[p]!;
      i = p;
    }
    t[i] = d; o[i] = owner;
  }

  private pop(): void {
    const t = this.t, o = this.o;
    const lastT = t.pop()!, lastO = o.pop()!;
    const n = t.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && t[c + 1]! < t[c]!) c++;
      if (t[c]! >= lastT) break;
      t[i] = t[c]!; o[i] = o[c]!;
      i = c;
    }
    t[i] = lastT; o[i] = lastO;
  }
}
