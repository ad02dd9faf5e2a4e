/**
 * The machine's physical address space: RAM regions and memory-mapped devices.
 *
 * Layout of RAM. Each RAM region is split into chunks of at most 1 GiB, each
 * backed by its own ArrayBuffer that is created only when first written (an
 * untouched chunk reads as zeros), so an 8 GiB machine costs nothing until
 * used. Keeping chunk offsets below 2^31 also lets every offset computation
 * use 32-bit integer operations.
 *
 * The fast path. One chunk at a time is the "fast window" (normally the chunk
 * holding the loaded image). Its base, size and views are public fields so the
 * CPU's load/store path can do the bounds check and index the typed array
 * itself, without a call:
 *
 *   const off = pa - mem.ramBase;
 *   if (off >= 0 && off <= mem.ramSize - 4 && (off & 3) === 0) {
 *     value = mem.ram32[off >>> 2];                          // load
 *     mem.ram32[off >>> 2] = value;                          // store, then:
 *     if (mem.ramCodePages[off >>> 12] !== 0) mem.notifyCodeWrite(pa, 4);
 *   } else {
 *     value = mem.read32(pa); if (mem.lastFault !== 0) { ...external abort... }
 *   }
 *
 * Everything else goes through the generic methods, which never throw on an
 * access: reads return 0 and writes return false when the address does not
 * decode, and `lastFault`/`lastFaultAddress` say why, so the CPU can raise a
 * synchronous external abort (ESR DFSC 0b010000).
 *
 * Physical addresses are JS numbers (exact up to 2^53; the PA space is 48
 * bits). Memory is little-endian.
 */
import type { AccessSize, MmioDevice } from './mmio-device.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Default and largest RAM chunk: keeps chunk offsets in int32 range. */
export const MAX_RAM_CHUNK_SIZE = 1 << 30;
/** One past the largest physical address (48-bit PA space). */
export const PHYS_ADDR_LIMIT = 2 ** 48;
/** ESR_ELx DFSC/IFSC for a synchronous external abort, not on a table walk. */
export const FSC_SYNC_EXTERNAL_ABORT = 0b010000;

/**
 * Why the last generic access failed; 0 when it succeeded. Every non-zero
 * kind is reported to software as a synchronous external abort; the kinds
 * only make diagnostics clearer.
 */
export const MemoryFault = {
  None: 0,
  /** Nothing is mapped at the address. */
  Unmapped: 1,
  /** The address is in a named region of the board that is not modelled yet. */
  NotModelled: 2,
  /** The access runs off the end of a device, or from RAM into non-RAM. */
  Straddle: 3,
} as const;
export type MemoryFaultKind = (typeof MemoryFault)[keyof typeof MemoryFault];

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_WORDS = new Uint32Array(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** One ArrayBuffer-backed slice of a RAM region. */
export class RamChunk {
  readonly end: number;
  /** Byte view; null until the chunk is first written (reads then see zeros). */
  bytes: Uint8Array | null = null;
  /** Aligned 32-bit word view of the same buffer. */
  words: Uint32Array | null = null;
  /** For unaligned and 16-bit accesses. */
  view: DataView | null = null;
  /** One flag per 4 KiB page: non-zero if the CPU has decoded code from it. */
  readonly codePages: Uint8Array;
  /** Set when any page flag may be non-zero, so clearing can skip clean chunks. */
  hasCodePages = false;

  constructor(
    readonly regionName: string,
    readonly base: number,
    readonly size: number,
  ) {
    this.end = base + size;
    this.codePages = new Uint8Array(Math.ceil(size / PAGE_SIZE));
  }

  get allocated(): boolean {
    return this.bytes !== null;
  }

  /** Gives the chunk its backing store (zero-filled); a no-op if it has one. */
  materialize(): void {
    if (this.bytes !== null) return;
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(this.size);
    } catch (cause) {
      throw new Error(
        `cannot allocate ${this.size} bytes of RAM for region '${this.regionName}' at ${hex(this.base)}`,
        { cause },
      );
    }
    this.bytes = new Uint8Array(buffer);
    this.words = new Uint32Array(buffer);
    this.view = new DataView(buffer);
  }
}

/** A named RAM region as added with `addRam`; its chunks live in `ramChunks`. */
export interface RamRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly firstChunk: number;
  readonly chunkCount: number;
}

export interface MmioMapping {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly end: number;
  readonly device: MmioDevice;
}

/** An address range the board defines but this model does not implement. */
export interface ReservedRange {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly note: string;
}

export class PhysicalMemory {
  // ---- Fast window: read these fields directly on the CPU's hot path. ----
  /** PA of the first byte of the fast-window chunk. */
  ramBase = 0;
  /** Size in bytes of the fast-window chunk (0 when there is no RAM). */
  ramSize = 0;
  ram8: Uint8Array = EMPTY_BYTES;
  ram32: Uint32Array = EMPTY_WORDS;
  ramView: DataView = EMPTY_VIEW;
  /** Code-page flags of the fast window, indexed by `(pa - ramBase) >>> 12`. */
  ramCodePages: Uint8Array = EMPTY_BYTES;
  /** Index in `ramChunks` of the fast window, or -1. */
  fastChunkIndex = -1;

  // ---- Result of the last generic access. ----
  /** 0 if the last generic access succeeded, else a `MemoryFault` kind. */
  lastFault: MemoryFaultKind = MemoryFault.None;
  /** The PA of the faulting access (meaningful when `lastFault !== 0`). */
  lastFaultAddress = 0;

  /**
   * Called when a store (from any path, including `writeBytes`) touches a page
   * marked with `markCodePage`, so the CPU can drop decoded instructions for
   * [pa, pa + size). The page stays marked; the CPU decides when to unmark.
   */
  onCodeWrite: ((pa: number, size: number) => void) | undefined = undefined;

  readonly ramRegions: RamRegion[] = [];
  /** All RAM chunks of all regions; `findRam` returns indices into this array. */
  readonly ramChunks: RamChunk[] = [];
  readonly mmioMappings: MmioMapping[] = [];
  readonly reservedRanges: ReservedRange[] = [];

  /** Last chunk / mapping found by the slow lookups: accesses cluster. */
  private ramHint = -1;
  private mmioHint = -1;

  // ---------------------------------------------------------------- setup

  /**
   * Adds a RAM region. `base` and `size` must be 4 KiB multiples. The first
   * RAM chunk added becomes the fast window.
   */
  addRam(name: string, base: number, size: number, chunkSize: number = MAX_RAM_CHUNK_SIZE): RamRegion {
    checkRange(name, base, size);
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) {
      throw new Error(`RAM region '${name}': base ${hex(base)} and size ${hex(size)} must be multiples of 4 KiB`);
    }
    if (!Number.isInteger(chunkSize) || chunkSize < PAGE_SIZE || chunkSize > MAX_RAM_CHUNK_SIZE || chunkSize % PAGE_SIZE !== 0) {
      throw new Error(`RAM region '${name}': chunk size ${hex(chunkSize)} must be a 4 KiB multiple up to 1 GiB`);
    }
    this.checkNoOverlap(name, base, size);
    const firstChunk = this.ramChunks.length;
    for (let offset = 0; offset < size; offset += chunkSize) {
      this.ramChunks.push(new RamChunk(name, base + offset, Math.min(chunkSize, size - offset)));
    }
    const region: RamRegion = { name, base, size, firstChunk, chunkCount: this.ramChunks.length - firstChunk };
    this.ramRegions.push(region);
    if (this.fastChunkIndex < 0) this.setFastWindow(base);
    return region;
  }

  /** Maps `device` at [base, base + size). */
  addMmio(name: string, base: number, size: number, device: MmioDevice): MmioMapping {
    checkRange(name, base, size);
    this.checkNoOverlap(name, base, size);
    const mapping: MmioMapping = { name, base, size, end: base + size, device };
    this.mmioMappings.push(mapping);
    return mapping;
  }

  /**
   * Names a range the board has but this model does not implement yet.
   * Accesses there still fault (as external aborts) but are reported as
   * `MemoryFault.NotModelled` with the name, which beats a bare "unmapped".
   */
  addReserved(name: string, base: number, size: number, note = 'not modelled yet'): ReservedRange {
    checkRange(name, base, size);
    this.checkNoOverlap(name, base, size);
    const range: ReservedRange = { name, base, size, note };
    this.reservedRanges.push(range);
    return range;
  }

  /**
   * Makes the RAM chunk containing `pa` the fast window (allocating it).
   * Returns false if `pa` is not RAM. The CPU must re-read the `ram*` fields
   * after calling this.
   */
  setFastWindow(pa: number): boolean {
    const index = this.findRam(pa);
    if (index < 0) return false;
    const chunk = this.ramChunks[index]!;
    chunk.materialize();
    this.fastChunkIndex = index;
    this.ramBase = chunk.base;
    this.ramSize = chunk.size;
    this.ram8 = chunk.bytes!;
    this.ram32 = chunk.words!;
    this.ramView = chunk.view!;
    this.ramCodePages = chunk.codePages;
    return true;
  }

  // ---------------------------------------------------------------- lookup

  /** Index in `ramChunks` of the chunk containing `pa`, or -1. */
  findRam(pa: number): number {
    const chunks = this.ramChunks;
    const hint = this.ramHint;
    if (hint >= 0) {
      const c = chunks[hint]!;
      if (pa >= c.base && pa < c.end) return hint;
    }
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (pa >= c.base && pa < c.end) {
        this.ramHint = i;
        return i;
      }
    }
    return -1;
  }

  /**
   * The chunk's word view for direct indexing (e.g. cached in a TLB entry),
   * allocating its backing store if needed. Index by `(pa - chunk.base) >>> 2`.
   */
  ramWordsOf(chunkIndex: number): Uint32Array {
    const chunk = this.ramChunks[chunkIndex]!;
    chunk.materialize();
    return chunk.words!;
  }

  /** Index in `mmioMappings` of the device mapped at `pa`, or -1. */
  findMmio(pa: number): number {
    const maps = this.mmioMappings;
    const hint = this.mmioHint;
    if (hint >= 0) {
      const m = maps[hint]!;
      if (pa >= m.base && pa < m.end) return hint;
    }
    for (let i = 0; i < maps.length; i++) {
      const m = maps[i]!;
      if (pa >= m.base && pa < m.end) {
        this.mmioHint = i;
        return i;
      }
    }
    return -1;
  }

  /** True if every byte of [pa, pa + length) is RAM. */
  isRam(pa: number, length: number): boolean {
    let cursor = pa;
    const end = pa + length;
    while (cursor < end) {
      const index = this.findRam(cursor);
      if (index < 0) return false;
      cursor = this.ramChunks[index]!.end;
    }
    return true;
  }

  /** Human-readable description of what `pa` decodes to, for diagnostics. */
  describe(pa: number): string {
    const r = this.findRam(pa);
    if (r >= 0) {
      const c = this.ramChunks[r]!;
      const region = this.ramRegions.find((g) => pa >= g.base && pa < g.base + g.size)!;
      return `RAM '${c.regionName}' +${hex(pa - region.base)}`;
    }
    const m = this.findMmio(pa);
    if (m >= 0) {
      const mapping = this.mmioMappings[m]!;
      return `MMIO '${mapping.name}' +${hex(pa - mapping.base)}`;
    }
    const reserved = this.findReserved(pa);
    if (reserved !== undefined) return `'${reserved.name}' (${reserved.note}) +${hex(pa - reserved.base)}`;
    return `unmapped ${hex(pa)}`;
  }

  /** Bytes of RAM with backing store (virtual size; the OS commits pages on touch). */
  allocatedRamBytes(): number {
    let total = 0;
    for (const c of this.ramChunks) if (c.bytes !== null) total += c.size;
    return total;
  }

  // ---------------------------------------------------------------- reads

  /** Byte at `pa` (0..255); 0 with `lastFault` set if it does not decode. */
  read8(pa: number): number {
    const off = pa - this.ramBase;
    if (off >= 0 && off < this.ramSize) {
      this.lastFault = 0;
      return this.ram8[off]!;
    }
    return this.readSlow(pa, 1);
  }

  /** Little-endian halfword at `pa` (0..65535). */
  read16(pa: number): number {
    const off = pa - this.ramBase;
    if (off >= 0 && off <= this.ramSize - 2) {
      this.lastFault = 0;
      return this.ramView.getUint16(off, true);
    }
    return this.readSlow(pa, 2);
  }

  /**
   * Little-endian word at `pa` as an int32 bit pattern (use `>>> 0` for the
   * unsigned value). Signed keeps the result a small integer in V8.
   */
  read32(pa: number): number {
    const off = pa - this.ramBase;
    if (off >= 0 && off <= this.ramSize - 4) {
      this.lastFault = 0;
      if ((off & 3) === 0) return this.ram32[off >>> 2]! | 0;
      return this.ramView.getInt32(off, true);
    }
    return this.readSlow(pa, 4);
  }

  /**
   * Little-endian doubleword at `pa` into `out[outIndex]` (low half) and
   * `out[outIndex + 1]` (high half). Returns false (leaving zeros) on a fault.
   */
  read64(pa: number, out: Uint32Array, outIndex: number): boolean {
    const off = pa - this.ramBase;
    if (off >= 0 && off <= this.ramSize - 8) {
      this.lastFault = 0;
      if ((off & 7) === 0) {
        const w = off >>> 2;
        out[outIndex] = this.ram32[w]!;
        out[outIndex + 1] = this.ram32[w + 1]!;
      } else {
        out[outIndex] = this.ramView.getInt32(off, true);
        out[outIndex + 1] = this.ramView.getInt32(off + 4, true);
      }
      return true;
    }
    return this.read64Slow(pa, out, outIndex);
  }

  // ---------------------------------------------------------------- writes

  /** Writes the low 8 bits of `value` at `pa`. Returns false on a fault. */
  write8(pa: number, value: number): boolean {
    const off = pa - this.ramBase;
    if (off >= 0 && off < this.ramSize) {
      this.lastFault = 0;
      this.ram8[off] = value;
      if (this.ramCodePages[off >>> PAGE_SHIFT] !== 0) this.notifyCodeWrite(pa, 1);
      return true;
    }
    return this.writeSlow(pa, 1, value, 0);
  }

  /** Writes the low 16 bits of `value` at `pa`, little-endian. */
  write16(pa: number, value: number): boolean {
    const off = pa - this.ramBase;
    if (off >= 0 && off <= this.ramSize - 2) {
      this.lastFault = 0;
      this.ramView.setUint16(off, value, true);
      const pages = this.ramCodePages;
      if (pages[off >>> PAGE_SHIFT] !== 0 || pages[(off + 1) >>> PAGE_SHIFT] !== 0) this.notifyCodeWrite(pa, 2);
      return true;
    }
    return this.writeSlow(pa, 2, value, 0);
  }

  /** Writes the 32-bit `value` (signed or unsigned form) at `pa`. */
  write32(pa: number, value: number): boolean {
    const off = pa - this.ramBase;
    if (off >= 0 && off <= this.ramSize - 4) {
      this.lastFault = 0;
      const pages = this.ramCodePages;
      if ((off & 3) === 0) {
        this.ram32[off >>> 2] = value;
        if (pages[off >>> PAGE_SHIFT] !== 0) this.notifyCodeWrite(pa, 4);
      } else {
        this.ramView.setInt32(off, value, true);
        if (pages[off >>> PAGE_SHIFT] !== 0 || pages[(off + 3) >>> PAGE_SHIFT] !== 0) this.notifyCodeWrite(pa, 4);
      }
      return true;
    }
    return this.writeSlow(pa, 4, value, 0);
  }

  /** Writes the doubleword `hi:lo` at `pa`, little-endian. */
  write64(pa: number, lo: number, hi: number): boolean {
    const off = pa - this.ramBase;
    if (off >= 0 && off <= this.ramSize - 8) {
      this.lastFault = 0;
      const pages = this.ramCodePages;
      if ((off & 7) === 0) {
        const w = off >>> 2;
        this.ram32[w] = lo;
        this.ram32[w + 1] = hi;
        if (pages[off >>> PAGE_SHIFT] !== 0) this.notifyCodeWrite(pa, 8);
      } else {
        this.ramView.setInt32(off, lo, true);
        this.ramView.setInt32(off + 4, hi, true);
        if (pages[off >>> PAGE_SHIFT] !== 0 || pages[(off + 7) >>> PAGE_SHIFT] !== 0) this.notifyCodeWrite(pa, 8);
      }
      return true;
    }
    return this.writeSlow(pa, 8, lo, hi);
  }

  // ---------------------------------------------------------------- bulk (RAM only)

  /**
   * Copy of [pa, pa + length) if it is all RAM, else null (with `lastFault`).
   * Never touches devices: meant for loaders, debuggers and host-side models.
   */
  readBytes(pa: number, length: number): Uint8Array | null {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const index = this.findRam(pa + done);
      if (index < 0) {
        this.bulkFault(pa + done);
        return null;
      }
      const chunk = this.ramChunks[index]!;
      const off = pa + done - chunk.base;
      const n = Math.min(length - done, chunk.size - off);
      if (chunk.bytes !== null) out.set(chunk.bytes.subarray(off, off + n), done);
      done += n;
    }
    this.lastFault = 0;
    return out;
  }

  /** Copies `bytes` to `pa` if the whole range is RAM; returns false otherwise (writing nothing). */
  writeBytes(pa: number, bytes: Uint8Array): boolean {
    if (!this.checkBulkRange(pa, bytes.length)) return false;
    let done = 0;
    while (done < bytes.length) {
      const chunk = this.ramChunks[this.findRam(pa + done)]!;
      const off = pa + done - chunk.base;
      const n = Math.min(bytes.length - done, chunk.size - off);
      chunk.materialize();
      chunk.bytes!.set(bytes.subarray(done, done + n), off);
      this.notifyIfCodeRange(chunk, off, n, pa + done);
      done += n;
    }
    this.lastFault = 0;
    return true;
  }

  /** Zeroes [pa, pa + length) if it is all RAM (cheap on untouched chunks). */
  zeroFill(pa: number, length: number): boolean {
    if (!this.checkBulkRange(pa, length)) return false;
    let done = 0;
    while (done < length) {
      const chunk = this.ramChunks[this.findRam(pa + done)]!;
      const off = pa + done - chunk.base;
      const n = Math.min(length - done, chunk.size - off);
      if (chunk.bytes !== null) {
        chunk.bytes.fill(0, off, off + n);
        this.notifyIfCodeRange(chunk, off, n, pa + done);
      }
      done += n;
    }
    this.lastFault = 0;
    return true;
  }

  // ---------------------------------------------------------------- code pages

  /** Flags the 4 KiB page containing `pa` as holding decoded code. False if not RAM. */
  markCodePage(pa: number): boolean {
    const index = this.findRam(pa);
    if (index < 0) return false;
    const chunk = this.ramChunks[index]!;
    chunk.codePages[(pa - chunk.base) >>> PAGE_SHIFT] = 1;
    chunk.hasCodePages = true;
    return true;
  }

  unmarkCodePage(pa: number): void {
    const index = this.findRam(pa);
    if (index < 0) return;
    const chunk = this.ramChunks[index]!;
    chunk.codePages[(pa - chunk.base) >>> PAGE_SHIFT] = 0;
  }

  isCodePage(pa: number): boolean {
    const index = this.findRam(pa);
    if (index < 0) return false;
    const chunk = this.ramChunks[index]!;
    return chunk.codePages[(pa - chunk.base) >>> PAGE_SHIFT] !== 0;
  }

  /** Unflags every page (e.g. when the CPU flushes its whole decode cache). */
  clearCodePages(): void {
    for (const chunk of this.ramChunks) {
      if (!chunk.hasCodePages) continue;
      chunk.codePages.fill(0);
      chunk.hasCodePages = false;
    }
  }

  /** Calls `onCodeWrite`; the CPU's inlined store path calls this after its page check. */
  notifyCodeWrite(pa: number, size: number): void {
    const hook = this.onCodeWrite;
    if (hook !== undefined) hook(pa, size);
  }

  // ---------------------------------------------------------------- slow paths

  private readSlow(pa: number, size: 1 | 2 | 4): number {
    const r = this.findRam(pa);
    if (r >= 0) {
      const chunk = this.ramChunks[r]!;
      const off = pa - chunk.base;
      if (off + size > chunk.size) return this.readStraddling(pa, size);
      this.lastFault = 0;
      const view = chunk.view;
      if (view === null) return 0;
      return size === 1 ? chunk.bytes![off]! : size === 2 ? view.getUint16(off, true) : view.getInt32(off, true);
    }
    const m = this.findMmio(pa);
    if (m >= 0) {
      const mapping = this.mmioMappings[m]!;
      const off = pa - mapping.base;
      if (off + size > mapping.size) return this.fault(pa, MemoryFault.Straddle);
      this.lastFault = 0;
      const value = mapping.device.read(off, size);
      return size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value | 0;
    }
    return this.fault(pa, this.unmappedKind(pa));
  }

  private read64Slow(pa: number, out: Uint32Array, outIndex: number): boolean {
    out[outIndex] = 0;
    out[outIndex + 1] = 0;
    const r = this.findRam(pa);
    if (r >= 0) {
      const chunk = this.ramChunks[r]!;
      const off = pa - chunk.base;
      if (off + 8 > chunk.size) {
        // Split into two words; each may itself straddle the boundary.
        const lo = this.readStraddling(pa, 4);
        if (this.lastFault !== 0) return false;
        const hi = this.readStraddling(pa + 4, 4);
        if (this.lastFault !== 0) return false;
        out[outIndex] = lo;
        out[outIndex + 1] = hi;
        return true;
      }
      this.lastFault = 0;
      const view = chunk.view;
      if (view !== null) {
        out[outIndex] = view.getInt32(off, true);
        out[outIndex + 1] = view.getInt32(off + 4, true);
      }
      return true;
    }
    const m = this.findMmio(pa);
    if (m >= 0) {
      const mapping = this.mmioMappings[m]!;
      const off = pa - mapping.base;
      if (off + 8 > mapping.size) {
        this.fault(pa, MemoryFault.Straddle);
        return false;
      }
      this.lastFault = 0;
      const device = mapping.device;
      if (device.handles64 === true) {
        out[outIndex] = device.read(off, 8);
        out[outIndex + 1] = device.high32 ?? 0;
      } else {
        out[outIndex] = device.read(off, 4);
        out[outIndex + 1] = device.read(off + 4, 4);
      }
      return true;
    }
    this.fault(pa, this.unmappedKind(pa));
    return false;
  }

  /** A RAM read that crosses a chunk boundary: assembled byte by byte. */
  private readStraddling(pa: number, size: number): number {
    let value = 0;
    for (let k = 0; k < size; k++) {
      const r = this.findRam(pa + k);
      if (r < 0) return this.fault(pa, MemoryFault.Straddle);
      const chunk = this.ramChunks[r]!;
      const byte = chunk.bytes === null ? 0 : chunk.bytes[pa + k - chunk.base]!;
      value |= byte << (8 * k);
    }
    this.lastFault = 0;
    return value;
  }

  private writeSlow(pa: number, size: AccessSize, lo: number, hi: number): boolean {
    const r = this.findRam(pa);
    if (r >= 0) {
      const chunk = this.ramChunks[r]!;
      const off = pa - chunk.base;
      if (off + size > chunk.size) return this.writeStraddling(pa, size, lo, hi);
      this.lastFault = 0;
      if (chunk.bytes === null) {
        // Zero-fill semantics: storing zeros to an untouched chunk changes nothing.
        if ((size === 8 ? lo | hi : lo & sizeMask(size)) === 0) return true;
        chunk.materialize();
      }
      const view = chunk.view!;
      if (size === 1) chunk.bytes![off] = lo;
      else if (size === 2) view.setUint16(off, lo, true);
      else {
        view.setInt32(off, lo, true);
        if (size === 8) view.setInt32(off + 4, hi, true);
      }
      const pages = chunk.codePages;
      if (pages[off >>> PAGE_SHIFT] !== 0 || pages[(off + size - 1) >>> PAGE_SHIFT] !== 0) {
        this.notifyCodeWrite(pa, size);
      }
      return true;
    }
    const m = this.findMmio(pa);
    if (m >= 0) {
      const mapping = this.mmioMappings[m]!;
      const off = pa - mapping.base;
      if (off + size > mapping.size) return this.fault(pa, MemoryFault.Straddle) !== 0;
      this.lastFault = 0;
      const device = mapping.device;
      if (size === 8 && device.handles64 !== true) {
        device.write(off, 4, lo, 0);
        device.write(off + 4, 4, hi, 0);
      } else if (size === 8) {
        device.write(off, 8, lo, hi);
      } else {
        device.write(off, size, size === 4 ? lo | 0 : lo & sizeMask(size), 0);
      }
      return true;
    }
    return this.fault(pa, this.unmappedKind(pa)) !== 0;
  }

  /** A RAM write that crosses a chunk boundary: all-or-nothing, byte by byte. */
  private writeStraddling(pa: number, size: number, lo: number, hi: number): boolean {
    if (!this.isRam(pa, size)) return this.fault(pa, MemoryFault.Straddle) !== 0;
    for (let k = 0; k < size; k++) {
      const chunk = this.ramChunks[this.findRam(pa + k)]!;
      const byte = (k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4))) & 0xff;
      const off = pa + k - chunk.base;
      if (chunk.bytes === null) {
        if (byte === 0) continue;
        chunk.materialize();
      }
      chunk.bytes![off] = byte;
      if (chunk.codePages[off >>> PAGE_SHIFT] !== 0) this.notifyCodeWrite(pa + k, 1);
    }
    this.lastFault = 0;
    return true;
  }

  private notifyIfCodeRange(chunk: RamChunk, off: number, length: number, pa: number): void {
    if (!chunk.hasCodePages || length === 0) return;
    const last = (off + length - 1) >>> PAGE_SHIFT;
    for (let page = off >>> PAGE_SHIFT; page <= last; page++) {
      if (chunk.codePages[page] !== 0) {
        this.notifyCodeWrite(pa, length);
        return;
      }
    }
  }

  private checkBulkRange(pa: number, length: number): boolean {
    if (this.isRam(pa, length)) return true;
    // Report the first byte that is not RAM.
    let cursor = pa;
    for (let index = this.findRam(cursor); index >= 0; index = this.findRam(cursor)) {
      cursor = this.ramChunks[index]!.end;
    }
    this.bulkFault(cursor);
    return false;
  }

  private bulkFault(pa: number): void {
    this.fault(pa, this.findMmio(pa) >= 0 ? MemoryFault.Straddle : this.unmappedKind(pa));
  }

  /** Records a fault and returns 0, the value a faulting read yields. */
  private fault(pa: number, kind: MemoryFaultKind): 0 {
    this.lastFault = kind;
    this.lastFaultAddress = pa;
    return 0;
  }

  private unmappedKind(pa: number): MemoryFaultKind {
    return this.findReserved(pa) !== undefined ? MemoryFault.NotModelled : MemoryFault.Unmapped;
  }

  private findReserved(pa: number): ReservedRange | undefined {
    return this.reservedRanges.find((r) => pa >= r.base && pa < r.base + r.size);
  }

  private checkNoOverlap(name: string, base: number, size: number): void {
    const end = base + size;
    const existing: { name: string; base: number; size: number }[] = [
      ...this.ramRegions,
      ...this.mmioMappings,
      ...this.reservedRanges,
    ];
    for (const other of existing) {
      if (base < other.base + other.size && other.base < end) {
        throw new Error(
          `region '${name}' [${hex(base)}, ${hex(end)}) overlaps '${other.name}' [${hex(other.base)}, ${hex(other.base + other.size)})`,
        );
      }
    }
  }
}

function sizeMask(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
}

function checkRange(name: string, base: number, size: number): void {
  if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size <= 0 || base + size > PHYS_ADDR_LIMIT) {
    throw new Error(`region '${name}': [${base}, +${size}) is not a non-empty range inside the 48-bit physical address space`);
  }
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}
