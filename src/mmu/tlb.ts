/**
 * A set-associative translation cache in typed arrays. Two instances make
 * the TLB behind the MemoryPort's per-access-type fast arrays:
 *
 *  - the main TLB: final VA → PA translations, tagged by regime, VMID and
 *    ASID (or global), holding the combined stage-1 + stage-2 result for the
 *    EL1&0 regime;
 *  - the stage-2 TLB: IPA → PA translations tagged by VMID, used for the
 *    table addresses of stage-1 walks, for the final IPA on a main-TLB miss,
 *    and for EL1&0 accesses with stage 1 disabled.
 *
 * Every entry maps one 4 KiB page. A larger leaf (a block, a 16/64 KiB page,
 * or a stage-1 block over stage-2 pages) is cached as 4 KiB pieces that
 * remember the size of the leaf they came from (`shift`), so that TLBI by
 * address invalidates every piece of the block it names. Replacement is
 * first-in first-out within a set (free ways first).
 *
 * Context keys: bits [17:16] = kind (1 = EL2 regime, 2 = EL1&0 regime,
 * 3 = stage 2), bits [15:0] = VMID (0 for EL2). 0 marks a free entry.
 */
export const enum TlbKey {
  ContextEl2 = 1 << 16,
  ContextEl10 = 2 << 16,
  ContextStage2 = 3 << 16,
  ContextKindMask = 3 << 16,
  /** ASID value of global entries (match any ASID). */
  Global = -1,
  /** Levels packed in `level`: stage-1 level in bits [3:0], stage-2 level in bits [7:4]; 0xf = that stage did not translate. */
  NoLevel = 0xf,
}
// (a const enum: the values are inlined where used, where an exported const is loaded from its module binding)
export const CONTEXT_EL2 = TlbKey.ContextEl2;
export const CONTEXT_EL10 = TlbKey.ContextEl10;
export const CONTEXT_STAGE2 = TlbKey.ContextStage2;
export const CONTEXT_KIND_MASK = TlbKey.ContextKindMask;
export const GLOBAL = TlbKey.Global;
export const NO_LEVEL = TlbKey.NoLevel;

export class TranslationCache {
  readonly sets: number;
  readonly ways: number;
  /**
   * The tags, four ints per entry so that a set's probe reads one cache line:
   * [TAG_LO] page address bits [31:12] (low 12 bits zero), [TAG_HI] bits
   * [63:32], [TAG_CONTEXT] context key (0 = free), [TAG_ASID] ASID or TlbKey.Global.
   */
  readonly tags: Int32Array;
  /**
   * Two doubles per entry: [2e] the physical address of the 4 KiB page;
   * [2e + 1] (main TLB) the stage-1 output (IPA) page, -1 when stage 2 did
   * not apply.
   */
  readonly pages: Float64Array;
  /**
   * The rest of an entry in one int: permission bits (PERM_* / S2_* in
   * walk.ts) [7:0], MAIR-format attribute [15:8], shareability [17:16], log2
   * size of the leaf the piece came from [22:18] (stage-1 leaf for the main
   * TLB, stage-2 leaf for the stage-2 TLB), levels [30:23] (stage 1 in the
   * low nibble, stage 2 in the high one).
   */
  readonly info: Int32Array;
  /** Per set, at the index of the set's first entry: the way the next insertion replaces (FIFO). */
  private readonly nextWay: Uint8Array;
  /** Live entries whose leaf is larger than 4 KiB: TLBI by address must then look beyond one set. */
  private pieces = 0;
  /** Live entries, for statistics. */
  live = 0;

  constructor(sets: number, ways: number) {
    if ((sets & (sets - 1)) !== 0) throw new Error('TranslationCache: sets must be a power of two');
    this.sets = sets;
    this.ways = ways;
    const n = sets * ways;
    this.tags = new Int32Array(n * 4);
    this.pages = new Float64Array(n * 2);
    this.info = new Int32Array(n);
    this.nextWay = new Uint8Array(n);
  }

  get capacity(): number {
    return this.sets * this.ways;
  }

  perm(e: number): number { return this.info[e]! & 0xff; }
  attr(e: number): number { return (this.info[e]! >>> 8) & 0xff; }
  sh(e: number): number { return (this.info[e]! >>> 16) & 3; }
  shift(e: number): number { return (this.info[e]! >>> 18) & 31; }
  level(e: number): number { return (this.info[e]! >>> 23) & 0xff; }
  outPage(e: number): number { return this.pages[e << 1]!; }
  midPage(e: number): number { return this.pages[(e << 1) + 1]!; }

  /** Index of the first entry of the page's set. */
  private setBase(pageLo: number, pageHi: number): number {
    return (((pageLo >>> 12) ^ pageHi ^ (pageHi >>> 12)) & (this.sets - 1)) * this.ways;
  }

  /**
   * Index of the entry for this page, context and ASID (global entries match
   * any ASID); on a miss, ~(first index of the set) (negative, int32 arithmetic), which insert takes
   * back so that it need not find the set again.
   */
  find(pageLo: number, pageHi: number, context: number, asid: number): number {
    const base = this.setBase(pageLo, pageHi);
    const tags = this.tags;
    for (let e = base, t = base << 2, end = base + this.ways; e < end; e++, t += 4) {
      if (tags[t] === pageLo && tags[t + 1] === pageHi && tags[t + 2] === context) {
        const a = tags[t + 3]!;
        if (a === TlbKey.Global || a === asid) return e;
      }
    }
    return ~base;
  }

  /**
   * Stores a translation: the output page as (lo, hi) halves (page-aligned),
   * the intermediate page likewise (midHi < 0: none). `found` is what find
   * returned for this key: an entry to overwrite (>= 0, e.g. one that did not
   * permit the access), or the set (< 0), where a free way or else the
   * oldest entry is replaced. Returns the index.
   */
  insert(
    pageLo: number, pageHi: number, context: number, asid: number,
    outLo: number, outHi: number, midLo: number, midHi: number,
    perm: number, attr: number, sh: number, shift: number, level: number, found: number,
  ): number {
    const tags = this.tags;
    let victim = found;
    if (victim < 0) {
      const base = ~found;
      victim = -1;
      if (this.live < this.info.length) {
        for (let e = base, end = base + this.ways; e < end; e++) {
          if (tags[(e << 2) + 2] === 0) { victim = e; break; }
        }
      }
      if (victim < 0) {
        // FIFO: the per-set pointer is kept at the set's first entry (no division by the way count).
        const way = this.nextWay[base]!;
        this.nextWay[base] = way + 1 === this.ways ? 0 : way + 1;
        victim = base + way;
      }
    }
    const t = victim << 2;
    const info = this.info;
    if (tags[t + 2] === 0) this.live++;
    else if (((info[victim]! >>> 18) & 31) > 12) this.pieces--; // the entry replaced (drop, inline)
    tags[t] = pageLo;
    tags[t + 1] = pageHi;
    tags[t + 2] = context;
    tags[t + 3] = asid;
    const pages = this.pages, p = victim << 1;
    pages[p] = outHi * 4294967296 + (outLo >>> 0);
    pages[p + 1] = midHi < 0 ? -1 : midHi * 4294967296 + (midLo >>> 0);
    info[victim] = perm | (attr << 8) | (sh << 16) | (shift << 18) | (level << 23);
    if (shift > 12) this.pieces++;
    return victim;
  }

  private drop(e: number): void {
    if (this.shift(e) > 12) this.pieces--;
    this.tags[(e << 2) + 2] = 0;
    this.live--;
  }

  /** Removes every entry. */
  clear(): void {
    this.tags.fill(0);
    this.pieces = 0;
    this.live = 0;
  }

  /** Removes entries whose context kind is `kind` (CONTEXT_* constant), and of VMID `vmid` unless vmid < 0. */
  invalidateContext(kind: number, vmid: number): void {
    const tags = this.tags;
    for (let e = 0, t = 2; e < this.info.length; e++, t += 4) {
      const c = tags[t]!;
      if (c !== 0 && (c & TlbKey.ContextKindMask) === kind && (vmid < 0 || (c & 0xffff) === vmid)) this.drop(e);
    }
  }

  /** Removes the non-global entries of `context` tagged with `asid`. */
  invalidateAsid(context: number, asid: number): void {
    const tags = this.tags;
    for (let e = 0, t = 0; e < this.info.length; e++, t += 4) {
      if (tags[t + 2] === context && tags[t + 3] === asid) this.drop(e);
    }
  }

  /**
   * Removes the entries of `context` whose leaf covers the address
   * (addrLo, addrHi), comparing bits [hiBits+31:12] of the address: TLBI by
   * VA compares VA[55:12] (hiBits 24), by IPA IPA[47:12] (hiBits 16).
   * `asid` >= 0 limits it to that ASID and global entries; TlbKey.Global (-1)
   * matches every ASID.
   */
  invalidateAddress(context: number, addrLo: number, addrHi: number, hiBits: number, asid: number): void {
    if (this.pieces === 0) {
      // Every entry is exactly one 4 KiB leaf: only the set of the page can hold it.
      this.scanSet(context, addrLo & ~0xfff, addrHi, hiBits, asid);
      return;
    }
    const hiMask = hiBits >= 32 ? -1 : (1 << hiBits) - 1;
    const tags = this.tags;
    for (let e = 0, t = 0; e < this.info.length; e++, t += 4) {
      if (tags[t + 2] !== context) continue;
      const s = this.shift(e);
      const loMask = s >= 32 ? 0 : ~((1 << s) - 1);
      if (((tags[t]! ^ addrLo) & loMask) !== 0 || ((tags[t + 1]! ^ addrHi) & hiMask) !== 0) continue;
      const a = tags[t + 3]!;
      if (asid >= 0 && a !== TlbKey.Global && a !== asid) continue;
      this.drop(e);
    }
  }

  /**
   * Removes the entries of `context` whose leaf overlaps the address range
   * [start, end) (byte addresses as numbers, compared on bits [hiBits+31:0]);
   * for range TLBIs. ASID matching as in invalidateAddress.
   */
  invalidateRange(context: number, start: number, end: number, hiBits: number, asid: number): void {
    const hiMask = (1 << hiBits) - 1; // hiBits < 32
    const tags = this.tags;
    for (let e = 0, t = 0; e < this.info.length; e++, t += 4) {
      if (tags[t + 2] !== context) continue;
      const size = 2 ** this.shift(e);
      const key = (tags[t + 1]! & hiMask) * 4294967296 + (tags[t]! >>> 0);
      const leafStart = key - (key % size);
      if (leafStart + size <= start || leafStart >= end) continue;
      const a = tags[t + 3]!;
      if (asid >= 0 && a !== TlbKey.Global && a !== asid) continue;
      this.drop(e);
    }
  }

  private scanSet(context: number, pageLo: number, pageHi: number, hiBits: number, asid: number): void {
    const hiMask = hiBits >= 32 ? -1 : (1 << hiBits) - 1;
    const tags = this.tags;
    // The set index uses the full key, so a key differing only in bits above hiBits may sit in another set:
    // only VA[63:56] can differ that way, and those keys are canonical (all-0 or all-1 above bit 55) in this TLB.
    for (const hi of [pageHi & hiMask, pageHi | ~hiMask]) {
      const base = this.setBase(pageLo, hi);
      for (let e = base; e < base + this.ways; e++) {
        const t = e << 2;
        if (tags[t + 2] !== context) continue;
        if (tags[t] !== pageLo || ((tags[t + 1]! ^ pageHi) & hiMask) !== 0) continue;
        const a = tags[t + 3]!;
        if (asid >= 0 && a !== TlbKey.Global && a !== asid) continue;
        this.drop(e);
      }
    }
  }
}
