/**
 * A model of Linux's memblock, the boot-time physical memory allocator: the
 * `memory` regions (RAM the firmware/DT described, some marked NOMAP) and the
 * `reserved` ranges (kernel image, DTB, earlier allocations), with the top-down
 * `memblock_phys_alloc(size, align)` that kvm_hyp_reserve uses (pkvm-facts §1.5, §1.6).
 *
 * Addresses are plain numbers (safe integers up to 2^53, far beyond a 48-bit PA): this is
 * boot-time bookkeeping, not a hot path, and numbers keep the arithmetic readable.
 */

export const PAGE_SIZE = 4096;

/** MEMBLOCK_ALLOC_ANYWHERE: no current limit (arm64 6.1 never lowers it before kvm_hyp_reserve). */
export const MEMBLOCK_ALLOC_ANYWHERE = Number.MAX_SAFE_INTEGER;

export interface MemblockRegion {
  readonly base: number;
  readonly size: number;
  /** MEMBLOCK_NOMAP: not in the linear map and never allocated from, but still a hyp_memory region. */
  readonly nomap: boolean;
}

/** One reservation, with a label saying what it holds (merged views drop labels). */
export interface MemblockReservation {
  readonly base: number;
  readonly size: number;
  readonly label: string;
}

export function alignDown(value: number, align: number): number {
  return value - (value % align);
}

export function alignUp(value: number, align: number): number {
  const rem = value % align;
  return rem === 0 ? value : value + (align - rem);
}

export function isPowerOfTwo(n: number): boolean {
  if (!Number.isSafeInteger(n) || n <= 0) return false;
  let v = n;
  while (v % 2 === 0) v /= 2;
  return v === 1;
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function checkRange(what: string, base: number, size: number): void {
  if (!Number.isSafeInteger(base) || base < 0) throw new RangeError(`memblock ${what}: base ${base} is not a non-negative integer`);
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`memblock ${what}: size ${size} is not a positive integer`);
  if (!Number.isSafeInteger(base + size)) throw new RangeError(`memblock ${what}: ${hex(base)} + ${hex(size)} overflows`);
}

interface Span {
  start: number;
  end: number;
}

/** Union of spans, sorted and merged (touching spans merge, as memblock merges neighbours). */
function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ start: s.start, end: s.end });
  }
  return out;
}

/** `spans` minus `holes` (both merged and sorted). */
function subtractSpans(spans: readonly Span[], holes: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    let cur = s.start;
    for (const h of holes) {
      if (h.end <= cur) continue;
      if (h.start >= s.end) break;
      if (h.start > cur) out.push({ start: cur, end: h.start });
      cur = Math.max(cur, h.end);
      if (cur >= s.end) break;
    }
    if (cur < s.end) out.push({ start: cur, end: s.end });
  }
  return out;
}

export class Memblock {
  /** memblock.memory: sorted, neighbours with equal flags merged. */
  private memory: MemblockRegion[] = [];
  private reservations: MemblockReservation[] = [];
  /** memblock.current_limit: allocations without an explicit end stay below it. */
  currentLimit = MEMBLOCK_ALLOC_ANYWHERE;

  /** memblock_add: RAM described by the DT memory node (or EFI). */
  addMemory(base: number, size: number): void {
    checkRange('add', base, size);
    this.setFlag({ start: base, end: base + size }, false, true);
  }

  /** memblock_mark_nomap: e.g. a /reserved-memory node with no-map; splits the region. */
  markNomap(base: number, size: number): void {
    checkRange('mark_nomap', base, size);
    this.setFlag({ start: base, end: base + size }, true, false);
  }

  /** memblock_clear_nomap: clears the flag; neighbours merge again. */
  clearNomap(base: number, size: number): void {
    checkRange('clear_nomap', base, size);
    this.setFlag({ start: base, end: base + size }, false, false);
  }

  /** memblock_reserve. */
  reserve(base: number, size: number, label: string): void {
    checkRange('reserve', base, size);
    // Like memblock, join a neighbour (here only one with the same label, to keep labels):
    // thousands of consecutive page-table pages stay one entry.
    const i = this.reservations.findIndex((r) => r.label === label && (r.base + r.size === base || base + size === r.base));
    if (i >= 0) {
      const r = this.reservations[i]!;
      this.reservations[i] = { base: Math.min(r.base, base), size: r.size + size, label };
      return;
    }
    this.reservations.push({ base, size, label });
    this.reservations.sort((a, b) => a.base - b.base);
  }

  /** memblock_phys_free: drops [base, base+size) from every reservation it overlaps. */
  free(base: number, size: number): void {
    checkRange('free', base, size);
    const end = base + size;
    const next: MemblockReservation[] = [];
    for (const r of this.reservations) {
      const rEnd = r.base + r.size;
      if (rEnd <= base || r.base >= end) {
        next.push(r);
        continue;
      }
      if (r.base < base) next.push({ base: r.base, size: base - r.base, label: r.label });
      if (rEnd > end) next.push({ base: end, size: rEnd - end, label: r.label });
    }
    this.reservations = next.sort((a, b) => a.base - b.base);
  }

  /** for_each_mem_region: every memory region, NOMAP included, sorted by base. */
  memoryRegions(): readonly MemblockRegion[] {
    return this.memory;
  }

  /** The reservations as made, with labels. */
  reservedRanges(): readonly MemblockReservation[] {
    return this.reservations;
  }

  /** memblock.reserved as the kernel keeps it: overlapping and touching ranges merged. */
  reservedMerged(): readonly { base: number; size: number }[] {
    return mergeSpans(this.reservations.map((r) => ({ start: r.base, end: r.base + r.size }))).map((s) => ({
      base: s.start,
      size: s.end - s.start,
    }));
  }

  /** Start of the lowest and end of the highest memory region. */
  startOfDram(): number {
    const first = this.memory[0];
    if (!first) throw new Error('memblock: no memory regions');
    return first.base;
  }

  endOfDram(): number {
    const last = this.memory.at(-1);
    if (!last) throw new Error('memblock: no memory regions');
    return last.base + last.size;
  }

  /** Free, mappable ranges (memory without NOMAP, minus reservations), ascending. */
  freeRanges(): readonly { base: number; size: number }[] {
    return this.freeSpans().map((s) => ({ base: s.start, size: s.end - s.start }));
  }

  private freeSpans(): Span[] {
    const usable = this.memory.filter((r) => !r.nomap).map((r) => ({ start: r.base, end: r.base + r.size }));
    const holes = mergeSpans(this.reservations.map((r) => ({ start: r.base, end: r.base + r.size })));
    return subtractSpans(usable, holes);
  }

  /**
   * memblock_find_in_range_node, top-down: the highest `align`-aligned address where `size`
   * bytes fit in a free range inside [start, end). As the kernel does, `end` is capped at the
   * current limit and `start` is raised to PAGE_SIZE so that 0 is never handed out.
   * Returns null when nothing fits.
   */
  findInRange(size: number, align: number, start = 0, end = MEMBLOCK_ALLOC_ANYWHERE): number | null {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`memblock: allocation size ${size} is not a positive integer`);
    if (!Number.isSafeInteger(align) || align <= 0 || !isPowerOfTwo(align)) throw new RangeError(`memblock: alignment ${align} is not a power of two`);
    const lo = Math.max(start, PAGE_SIZE);
    const hi = Math.min(end, this.currentLimit);
    const free = this.freeSpans();
    for (let i = free.length - 1; i >= 0; i--) {
      const span = free[i]!;
      const thisStart = Math.max(span.start, lo);
      const thisEnd = Math.min(span.end, hi);
      if (thisEnd <= thisStart || thisEnd < size) continue;
      const candidate = alignDown(thisEnd - size, align);
      if (candidate >= thisStart) return candidate;
    }
    return null;
  }

  /** memblock_phys_alloc_range: find top-down and reserve. Null on failure (the kernel returns 0). */
  allocRange(size: number, align: number, start: number, end: number, label: string): number | null {
    const base = this.findInRange(size, align, start, end);
    if (base !== null) this.reserve(base, size, label);
    return base;
  }

  /** memblock_phys_alloc(size, align): anywhere below the current limit. */
  physAlloc(size: number, align: number, label: string): number | null {
    return this.allocRange(size, align, 0, MEMBLOCK_ALLOC_ANYWHERE, label);
  }

  /** Applies a flag to [span) of memory, splitting and re-merging regions. */
  private setFlag(span: Span, nomap: boolean, add: boolean): void {
    // Break the address space into pieces at every boundary, keep each piece's flag.
    const pieces: { start: number; end: number; nomap: boolean }[] = [];
    for (const r of this.memory) pieces.push({ start: r.base, end: r.base + r.size, nomap: r.nomap });
    const updated: { start: number; end: number; nomap: boolean }[] = [];
    for (const p of pieces) {
      if (p.end <= span.start || p.start >= span.end) {
        updated.push(p);
        continue;
      }
      if (p.start < span.start) updated.push({ start: p.start, end: span.start, nomap: p.nomap });
      updated.push({ start: Math.max(p.start, span.start), end: Math.min(p.end, span.end), nomap: add ? p.nomap : nomap });
      if (p.end > span.end) updated.push({ start: span.end, end: p.end, nomap: p.nomap });
    }
    if (add) {
      // memblock_add fills only the gaps not already covered.
      const covered = mergeSpans(pieces);
      for (const gap of subtractSpans([span], covered)) updated.push({ ...gap, nomap: false });
    }
    updated.sort((a, b) => a.start - b.start);
    const merged: MemblockRegion[] = [];
    for (const p of updated) {
      const last = merged.at(-1);
      if (last && last.base + last.size === p.start && last.nomap === p.nomap) {
        merged[merged.length - 1] = { base: last.base, size: p.end - last.base, nomap: last.nomap };
      } else {
        merged.push({ base: p.start, size: p.end - p.start, nomap: p.nomap });
      }
    }
    this.memory = merged;
  }
}
