/**
 * The decoded-instruction cache, keyed by physical page. Each 4 KiB page of
 * code has one Int32Array with STRIDE ints per instruction slot:
 *   [op, word, a, b, c, d, e, f]
 * op 0 means "not decoded yet". Decoding happens once per slot; stores to a
 * page that holds decoded code (and `ic` maintenance) drop the page.
 */
export const STRIDE = 8;
export const SLOT_OP = 0;
export const SLOT_WORD = 1;
export const PAGE_SLOTS = 1024;

export class DecodeCache {
  private readonly pages = new Map<number, Int32Array>();
  /** Incremented whenever a page is dropped, so the CPU's cached fetch block can notice. */
  generation = 0;

  /** The decoded block for physical page number `ppn` (pa >>> 12, as a JS number). */
  block(ppn: number): Int32Array {
    let b = this.pages.get(ppn);
    if (!b) {
      b = new Int32Array(PAGE_SLOTS * STRIDE);
      this.pages.set(ppn, b);
    }
    return b;
  }

  has(ppn: number): boolean {
    return this.pages.has(ppn);
  }

  invalidatePage(ppn: number): void {
    if (this.pages.delete(ppn)) this.generation++;
  }

  invalidateAll(): void {
    if (this.pages.size > 0) {
      this.pages.clear();
      this.generation++;
    }
  }

  get size(): number {
    return this.pages.size;
  }
}
