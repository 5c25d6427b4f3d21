/**
 * The in-memory commit queue, bounded by count and by bytes: one turn re-sends its whole history, so a
 * count alone is no memory bound (tapes learned this: "256 × ~48 MiB is unbounded memory").
 */

export interface Weighted {
  /** Approximate bytes the item holds in memory. */
  readonly weight: number
}

export class BoundedQueue<T extends Weighted> {
  private readonly items: T[] = []
  private heldBytes = 0
  private peak = { items: 0, bytes: 0 }

  constructor(
    readonly maxItems: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length
  }

  get bytes(): number {
    return this.heldBytes
  }

  /** The most items and bytes held since the last call (or since the start); restarts from what is held now. */
  takePeak(): { items: number; bytes: number } {
    const peak = this.peak
    this.peak = { items: this.items.length, bytes: this.heldBytes }
    return peak
  }

  /** At or above the given fraction of either bound. */
  filledTo(fraction: number): boolean {
    return this.items.length >= this.maxItems * fraction || this.heldBytes >= this.maxBytes * fraction
  }

  /** False when the item does not fit; an empty queue takes any single item. */
  offer(item: T): boolean {
    const full =
      this.items.length >= this.maxItems ||
      (this.items.length > 0 && this.heldBytes + item.weight > this.maxBytes)
    if (full) return false
    this.push(item)
    return true
  }

  /** Adds regardless of the bounds (the caller has waited for room). */
  push(item: T): void {
    this.items.push(item)
    this.heldBytes += item.weight
    if (this.heldBytes > this.peak.bytes) this.peak.bytes = this.heldBytes
    if (this.items.length > this.peak.items) this.peak.items = this.items.length
  }

  shift(): T | undefined {
    const item = this.items.shift()
    if (item) this.heldBytes -= item.weight
    return item
  }

  takeAll(): T[] {
    this.heldBytes = 0
    return this.items.splice(0)
  }
}
