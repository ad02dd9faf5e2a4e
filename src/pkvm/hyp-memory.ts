/**
 * The EL2 view of memory that the pKVM allocators and page-table code share, as the
 * kernel's `kvm/hyp/include/nvhe/memory.h` defines it (V61; pkvm-facts §5.7, §1.3):
 *
 * - `hyp_physvirt_offset`: the hyp linear map is PA − offset, so `__hyp_va(pa)` and
 *   `__hyp_pa(va)` are a subtraction and an addition (hyp_phys_to_virt / hyp_virt_to_phys);
 * - `hyp_vmemmap` (`__hyp_vmemmap`): an array of `struct hyp_page`, one per page frame,
 *   at a hyp VA (0x6000_0000_0000 for RAM below 2^46), backed by pool pages that
 *   `hyp_back_vmemmap` maps. The entries live in emulated memory: the model reads and
 *   writes them at the physical address their VA resolves to, so they really exist.
 *
 * Everything goes through `PhysMem`, a small interface over the machine's
 * PhysicalMemory (64/16/8-bit accesses and zeroing at a PA), so unit tests can use a
 * bare PhysicalMemory or a whole virt machine. Addresses are bigint: this is the model of
 * C code, not an interpreter hot path, and hyp VAs use bit 47.
 */
import type { PhysicalMemory } from '../machine/physical-memory.js';

export const PAGE_SHIFT = 12n;
export const PAGE_SIZE = 1n << PAGE_SHIFT;
export const PAGE_MASK = ~(PAGE_SIZE - 1n);
const U64 = (1n << 64n) - 1n;

export const hex = (v: bigint | number): string => `0x${BigInt(v).toString(16)}`;

/** A BUG_ON / hyp_panic in the modelled EL2 code: a broken invariant, never a recoverable error. */
export class HypBugError extends Error {
  override name = 'HypBugError';
}

/** A model asked to touch memory that is not RAM (page tables and the vmemmap must live in RAM). */
export class HypMemoryError extends Error {
  override name = 'HypMemoryError';
}

// ---- physical memory access -------------------------------------------------------------------

/** What the models need from physical memory: aligned little-endian accesses and zeroing at a PA. */
export interface PhysMem {
  read64(pa: bigint): bigint;
  write64(pa: bigint, value: bigint): void;
  read16(pa: bigint): number;
  write16(pa: bigint, value: number): void;
  read8(pa: bigint): number;
  write8(pa: bigint, value: number): void;
  /** Zeroes [pa, pa + length). */
  zero(pa: bigint, length: bigint): void;
}

/** PhysMem over the machine's PhysicalMemory; any access outside RAM throws HypMemoryError. */
export function physMemOf(memory: PhysicalMemory): PhysMem {
  const tmp = new Uint32Array(2);
  const check = (pa: bigint, n: number, what: string): number => {
    const p = Number(pa);
    if (pa < 0n || !memory.isRam(p, n)) throw new HypMemoryError(`${what} at physical ${hex(pa)}: not RAM (${memory.describe(p)})`);
    return p;
  };
  return {
    read64(pa) {
      memory.read64(check(pa, 8, 'read64'), tmp, 0);
      return (BigInt(tmp[1]!) << 32n) | BigInt(tmp[0]!);
    },
    write64(pa, value) {
      const v = value & U64;
      memory.write64(check(pa, 8, 'write64'), Number(v & 0xffff_ffffn) | 0, Number(v >> 32n) | 0);
    },
    read16(pa) { return memory.read16(check(pa, 2, 'read16')); },
    write16(pa, value) { memory.write16(check(pa, 2, 'write16'), value & 0xffff); },
    read8(pa) { return memory.read8(check(pa, 1, 'read8')); },
    write8(pa, value) { memory.write8(check(pa, 1, 'write8'), value & 0xff); },
    zero(pa, length) {
      if (length <= 0n) return;
      if (!memory.zeroFill(check(pa, Number(length), 'zero'), Number(length))) {
        throw new HypMemoryError(`zero ${hex(length)} bytes at physical ${hex(pa)}: not RAM`);
      }
    },
  };
}

// ---- the hyp linear map -------------------------------------------------------------------------

/**
 * The EL2 globals that turn PAs into hyp VAs and back (`hyp_physvirt_offset`, set by
 * `__pkvm_init` from the host's `kvm_compute_layout`, pkvm-facts §5.7), plus the memory
 * the hyp code runs on. An offset of 0 is an identity map (handy in unit tests).
 */
export class HypMemory {
  constructor(
    readonly mem: PhysMem,
    /** hyp_physvirt_offset = PA − hyp VA of the linear map (may be "negative": 64-bit wrap-around). */
    readonly hypPhysvirtOffset: bigint = 0n,
  ) {}

  /** __hyp_va / hyp_phys_to_virt. */
  phys_to_virt(phys: bigint): bigint {
    return (phys - this.hypPhysvirtOffset) & U64;
  }

  /** __hyp_pa / hyp_virt_to_phys. */
  virt_to_phys(virt: bigint): bigint {
    return (virt + this.hypPhysvirtOffset) & U64;
  }

  /** hyp_phys_to_pfn. */
  static phys_to_pfn(phys: bigint): number {
    return Number(phys >> PAGE_SHIFT);
  }

  /** hyp_pfn_to_phys. */
  static pfn_to_phys(pfn: number): bigint {
    return BigInt(pfn) << PAGE_SHIFT;
  }
}

// ---- struct hyp_page and the vmemmap ------------------------------------------------------------

/**
 * Where the fields of `struct hyp_page` sit. V61: `{ u16 refcount; u16 order; }` = 4 bytes,
 * HYP_NO_ORDER = USHRT_MAX. From v6.2 (and the Android tree) the order shrank to a u8
 * (HYP_NO_ORDER = 0xff) next to an 8-bit host_state / flags byte, still 4 bytes;
 * later mainline (~6.14) adds a u32 and makes it 8 (pkvm-facts §1.3).
 */
export interface HypPageLayout {
  readonly name: string;
  /** sizeof(struct hyp_page): STRUCT_HYP_PAGE_SIZE. */
  readonly size: number;
  readonly refcountOffset: number;
  readonly orderOffset: number;
  /** Width of `order` in bytes. */
  readonly orderBytes: 1 | 2;
  /** HYP_NO_ORDER: the order of a page covered by a larger free block (not a head). */
  readonly noOrder: number;
  /** Offset of the host_state byte (Android / ≥ 6.2), or null. */
  readonly hostStateOffset: number | null;
}

export const HYP_PAGE_LAYOUT_V61: HypPageLayout = {
  name: 'linux-6.1', size: 4, refcountOffset: 0, orderOffset: 2, orderBytes: 2, noOrder: 0xffff, hostStateOffset: null,
};

/** Android 6.6 / mainline 6.2–6.13: u16 refcount, u8 order, u8 host_state (size 4 is assumed for Android, §7.5). */
export const HYP_PAGE_LAYOUT_ANDROID: HypPageLayout = {
  name: 'android', size: 4, refcountOffset: 0, orderOffset: 2, orderBytes: 1, noOrder: 0xff, hostStateOffset: 3,
};

/** The refcount is a u16: hyp_page_ref_inc BUGs rather than wrap. */
export const HYP_PAGE_REFCOUNT_MAX = 0xffff;

/**
 * The hyp vmemmap: `struct hyp_page` entries at `base + pfn × size` (a hyp VA). `resolve`
 * turns a vmemmap VA into the PA that backs it — in the kernel the MMU does that through
 * the hyp stage-1 mapping made by hyp_back_vmemmap; here it is a software walk of that
 * page table (see `vmemmapResolverFromPgtable` in pgtable.ts) or, for unit tests on bare
 * memory, a linear backing. Resolutions are cached per page.
 */
export class HypVmemmap {
  private readonly pageCache = new Map<bigint, bigint>();

  constructor(
    readonly mem: PhysMem,
    /** __hyp_vmemmap: the hyp VA of the entry for pfn 0. */
    readonly base: bigint,
    readonly resolve: (va: bigint) => bigint,
    readonly layout: HypPageLayout = HYP_PAGE_LAYOUT_V61,
  ) {}

  /** A vmemmap whose VA range [base + firstPfn × size, …) is backed linearly from `backingPa`. */
  static linear(mem: PhysMem, base: bigint, firstPfn: number, backingPa: bigint, layout: HypPageLayout = HYP_PAGE_LAYOUT_V61): HypVmemmap {
    const startVa = base + BigInt(firstPfn * layout.size);
    const startPage = startVa & PAGE_MASK;
    return new HypVmemmap(mem, base, (va) => {
      if (va < startPage) throw new HypMemoryError(`vmemmap VA ${hex(va)} is below the backed range starting at ${hex(startPage)}`);
      return backingPa + (va - startPage);
    }, layout);
  }

  /** Forgets cached VA→PA resolutions (after the backing mapping changed). */
  flush(): void {
    this.pageCache.clear();
  }

  /** The hyp VA of pfn's entry: hyp_phys_to_page(phys) as a pointer. */
  entryVa(pfn: number): bigint {
    return this.base + BigInt(pfn) * BigInt(this.layout.size);
  }

  /** The PA holding pfn's entry. */
  entryPa(pfn: number): bigint {
    const va = this.entryVa(pfn);
    const page = va & PAGE_MASK;
    let pa = this.pageCache.get(page);
    if (pa === undefined) {
      pa = this.resolve(page);
      this.pageCache.set(page, pa);
    }
    return pa + (va - page);
  }

  refcount(pfn: number): number {
    return this.mem.read16(this.entryPa(pfn) + BigInt(this.layout.refcountOffset));
  }

  setRefcount(pfn: number, value: number): void {
    this.mem.write16(this.entryPa(pfn) + BigInt(this.layout.refcountOffset), value);
  }

  order(pfn: number): number {
    const pa = this.entryPa(pfn) + BigInt(this.layout.orderOffset);
    return this.layout.orderBytes === 2 ? this.mem.read16(pa) : this.mem.read8(pa);
  }

  setOrder(pfn: number, value: number): void {
    const pa = this.entryPa(pfn) + BigInt(this.layout.orderOffset);
    if (this.layout.orderBytes === 2) this.mem.write16(pa, value);
    else this.mem.write8(pa, value);
  }

  /** Android's per-page host_state byte (null with the V61 layout). */
  hostState(pfn: number): number | null {
    const off = this.layout.hostStateOffset;
    return off === null ? null : this.mem.read8(this.entryPa(pfn) + BigInt(off));
  }

  setHostState(pfn: number, value: number): void {
    const off = this.layout.hostStateOffset;
    if (off === null) throw new HypBugError(`struct hyp_page (${this.layout.name}) has no host_state field`);
    this.mem.write8(this.entryPa(pfn) + BigInt(off), value);
  }

  // memory.h refcount helpers: BUG_ON as the kernel does.

  /** hyp_page_ref_inc. */
  refInc(pfn: number): void {
    const r = this.refcount(pfn);
    if (r >= HYP_PAGE_REFCOUNT_MAX) throw new HypBugError(`hyp_page_ref_inc: refcount overflow on pfn ${hex(pfn)}`);
    this.setRefcount(pfn, r + 1);
  }

  /** hyp_page_ref_dec_and_test: true when the count reached 0. */
  refDecAndTest(pfn: number): boolean {
    const r = this.refcount(pfn);
    if (r === 0) throw new HypBugError(`hyp_page_ref_dec_and_test: refcount already 0 on pfn ${hex(pfn)} (PA ${hex(HypMemory.pfn_to_phys(pfn))})`);
    this.setRefcount(pfn, r - 1);
    return r - 1 === 0;
  }

  /** hyp_set_page_refcounted: a page handed out gets refcount 1 (it must have been 0). */
  setPageRefcounted(pfn: number): void {
    const r = this.refcount(pfn);
    if (r !== 0) throw new HypBugError(`hyp_set_page_refcounted: pfn ${hex(pfn)} already has refcount ${r}`);
    this.setRefcount(pfn, 1);
  }
}

/** get_order(size): the smallest order with PAGE_SIZE << order ≥ size. */
export function get_order(size: bigint): number {
  let order = 0;
  while ((PAGE_SIZE << BigInt(order)) < size) order++;
  return order;
}
