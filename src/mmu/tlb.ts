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
export const CONTEXT_EL2 = 1 << 16;
export const CONTEXT_EL10 = 2 << 16;
export const CONTEXT_STAGE2 = 3 << 16;
export const CONTEXT_KIND_MASK = 3 << 16;

/** ASID value of global entries (match any ASID). */
export const GLOBAL = -1;

/** Levels packed in `level`: stage-1 level in bits [3:0], stage-2 level in bits [7:4]; 0xf = that stage did not translate. */
export const NO_LEVEL = 0xf;

export class TranslationCache {
  readonly sets: number;
  readonly ways: number;
  /** Page address bits [31:12] (low 12 bits zero) and [63:32] of the input address. */
  readonly keyLo: Int32Array;
  readonly keyHi: Int32Array;
  readonly context: Int32Array;
  readonly asid: Int32Array;
  /** Physical address of the 4 KiB page. */
  readonly outPage: Float64Array;
  /** Main TLB: the stage-1 output (IPA) page; -1 when stage 2 did not apply. */
  readonly midPage: Float64Array;
  /** Permission bits (Perm.* in mmu.ts). */
  readonly perm: Uint8Array;
  /** Memory attributes in MAIR format, and shareability. */
  readonly attr: Uint8Array;
  readonly sh: Uint8Array;
  /** log2 size of the leaf this piece came from (stage-1 leaf for the main TLB, stage-2 leaf for the stage-2 TLB). */
  readonly shift: Uint8Array;
  readonly level: Uint8Array;
  /** Per set: the way the next insertion replaces (FIFO). */
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
    this.keyLo = new Int32Array(n);
    this.keyHi = new Int32Array(n);
    this.context = new Int32Array(n);
    this.asid = new Int32Array(n);
    this.outPage = new Float64Array(n);
    this.midPage = new Float64Array(n);
    this.perm = new Uint8Array(n);
    this.attr = new Uint8Array(n);
    this.sh = new Uint8Array(n);
    this.shift = new Uint8Array(n);
    this.level = new Uint8Array(n);
    this.nextWay = new Uint8Array(sets);
  }

  get capacity(): number {
    return this.sets * this.ways;
  }

  private setBase(pageLo: number, pageHi: number): number {
    return (((pageLo >>> 12) ^ pageHi ^ (pageHi >>> 12)) & (this.sets - 1)) * this.ways;
  }

  /** Index of the entry for this page, context and ASID (global entries match any ASID), or -1. */
  find(pageLo: number, pageHi: number, context: number, asid: number): number {
    const base = this.setBase(pageLo, pageHi);
    const end = base + this.ways;
    const keyLo = this.keyLo, keyHi = this.keyHi, ctx = this.context, asids = this.asid;
    for (let e = base; e < end; e++) {
      if (keyLo[e] === pageLo && keyHi[e] === pageHi && ctx[e] === context) {
        const a = asids[e]!;
        if (a === GLOBAL || a === asid) return e;
      }
    }
    return -1;
  }

  /**
   * Stores a translation: the output page as (lo, hi) halves (page-aligned),
   * the intermediate page likewise (midHi < 0: none). `replace` is the index
   * of an entry for the same key to overwrite (from find), else -1: a free
   * way of the set, or its oldest entry. Returns the index.
   */
  insert(
    pageLo: number, pageHi: number, context: number, asid: number,
    outLo: number, outHi: number, midLo: number, midHi: number,
    perm: number, attr: number, sh: number, shift: number, level: number, replace: number,
  ): number {
    let victim = replace;
    if (victim < 0) {
      const base = this.setBase(pageLo, pageHi);
      const ctx = this.context;
      const ways = this.ways;
      victim = -1;
      if (this.live < ctx.length) {
        for (let e = base; e < base + ways; e++) {
          if (ctx[e] === 0) { victim = e; break; }
        }
      }
      if (victim < 0) {
        const set = base / ways;
        const way = this.nextWay[set]!;
        this.nextWay[set] = way + 1 === ways ? 0 : way + 1;
        victim = base + way;
      }
    }
    if (this.context[victim] !== 0) this.drop(victim);
    this.keyLo[victim] = pageLo;
    this.keyHi[victim] = pageHi;
    this.context[victim] = context;
    this.asid[victim] = asid;
    this.outPage[victim] = outHi * 4294967296 + (outLo >>> 0);
    this.midPage[victim] = midHi < 0 ? -1 : midHi * 4294967296 + (midLo >>> 0);
    this.perm[victim] = perm;
    this.attr[victim] = attr;
    this.sh[victim] = sh;
    this.shift[victim] = shift;
    this.level[victim] = level;
    if (shift > 12) this.pieces++;
    this.live++;
    return victim;
  }

  private drop(e: number): void {
    if (this.shift[e]! > 12) this.pieces--;
    this.context[e] = 0;
    this.live--;
  }

  /** Removes every entry. */
  clear(): void {
    this.context.fill(0);
    this.pieces = 0;
    this.live = 0;
  }

  /** Removes entries whose context kind is `kind` (CONTEXT_* constant), and of VMID `vmid` unless vmid < 0. */
  invalidateContext(kind: number, vmid: number): void {
    const ctx = this.context;
    for (let e = 0; e < ctx.length; e++) {
      const c = ctx[e]!;
      if (c !== 0 && (c & CONTEXT_KIND_MASK) === kind && (vmid < 0 || (c & 0xffff) === vmid)) this.drop(e);
    }
  }

  /** Removes the non-global entries of `context` tagged with `asid`. */
  invalidateAsid(context: number, asid: number): void {
    const ctx = this.context, asids = this.asid;
    for (let e = 0; e < ctx.length; e++) {
      if (ctx[e] === context && asids[e] === asid) this.drop(e);
    }
  }

  /**
   * Removes the entries of `context` whose leaf covers the address
   * (addrLo, addrHi), comparing bits [hiBits+31:12] of the address: TLBI by
   * VA compares VA[55:12] (hiBits 24), by IPA IPA[47:12] (hiBits 16).
   * `asid` >= 0 limits it to that ASID and global entries; GLOBAL (-1)
   * matches every ASID.
   */
  invalidateAddress(context: number, addrLo: number, addrHi: number, hiBits: number, asid: number): void {
    if (this.pieces === 0) {
      // Every entry is exactly one 4 KiB leaf: only the set of the page can hold it.
      // The key's bits above hiBits may differ (VA[63:56]): compare every way of the set.
      this.scanSet(context, addrLo & ~0xfff, addrHi, hiBits, asid);
      return;
    }
    const hiMask = hiBits >= 32 ? -1 : (1 << hiBits) - 1;
    const ctx = this.context;
    for (let e = 0; e < ctx.length; e++) {
      if (ctx[e] !== context) continue;
      const s = this.shift[e]!;
      const loMask = s >= 32 ? 0 : ~((1 << s) - 1);
      if (((this.keyLo[e]! ^ addrLo) & loMask) !== 0 || ((this.keyHi[e]! ^ addrHi) & hiMask) !== 0) continue;
      if (asid >= 0 && this.asid[e] !== GLOBAL && this.asid[e] !== asid) continue;
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
    const ctx = this.context;
    for (let e = 0; e < ctx.length; e++) {
      if (ctx[e] !== context) continue;
      const s = this.shift[e]!;
      const size = 2 ** s;
      const key = (this.keyHi[e]! & hiMask) * 4294967296 + (this.keyLo[e]! >>> 0);
      const leafStart = key - (key % size);
      if (leafStart + size <= start || leafStart >= end) continue;
      if (asid >= 0 && this.asid[e] !== GLOBAL && this.asid[e] !== asid) continue;
      this.drop(e);
    }
  }

  private scanSet(context: number, pageLo: number, pageHi: number, hiBits: number, asid: number): void {
    const hiMask = hiBits >= 32 ? -1 : (1 << hiBits) - 1;
    // The set index uses the full key, so a key differing only in bits above hiBits may sit in another set:
    // only VA[63:56] can differ that way, and those keys are canonical (all-0 or all-1 above bit 55) in this TLB.
    for (const hi of [pageHi & hiMask, pageHi | ~hiMask]) {
      const base = this.setBase(pageLo, hi);
      for (let e = base; e < base + this.ways; e++) {
        if (this.context[e] !== context) continue;
        if (this.keyLo[e] !== pageLo || ((this.keyHi[e]! ^ pageHi) & hiMask) !== 0) continue;
        if (asid >= 0 && this.asid[e] !== GLOBAL && this.asid[e] !== asid) continue;
        this.drop(e);
      }
    }
  }
}
