/**
 * `kvm_hyp_reserve` (arch/arm64/kvm/pkvm.c) and `divide_memory_pool` (nvhe/setup.c):
 * how many pages the pKVM hypervisor needs, where memblock puts them, and how
 * __pkvm_init later carves that pool (pkvm-facts §1.2, §1.3, §1.7).
 *
 * The formulas are the kernel's (kvm_pkvm.h) with 4 KiB pages; which terms exist and how
 * the vmemmap is sized depend on the kernel profile (src/pkvm/profile.ts). The v6.1
 * arithmetic is checked against Debian's 6.1 kernel under QEMU in
 * test/pkvm/reservation.test.ts.
 */
import { virtMemblockAtHypReserve, formatBytes } from './early-memblock.js';
import type { EarlyMemblock, EarlyMemblockOptions } from './early-memblock.js';
import { alignDown, alignUp, hex, PAGE_SIZE } from './memblock.js';
import type { Memblock } from './memblock.js';
import { resolveKernelProfile } from './profile.js';
import type { KernelProfile, KernelProfileName, PoolPartName } from './profile.js';

export { PAGE_SIZE } from './memblock.js';
export const PAGE_SHIFT = 12;
/** Entries per 4 KiB table: 1 << (PAGE_SHIFT − 3). */
export const PTRS_PER_PTE = 512;
export const KVM_PGTABLE_MAX_LEVELS = 4;
/** The pool is PMD-aligned when possible, to cut TLB pressure once the host loses it. */
export const PMD_SIZE = 2 * 1024 * 1024;
/** SZ_1G >> PAGE_SHIFT: the 1 GiB of private (s1) / MMIO (s2) mappings both pools allow for. */
export const SZ_1G_PAGES = 262144;
/** Upper bound of the concatenated stage-2 PGD pages (host_s2_pgtable_pages). */
export const HOST_S2_PGD_PAGES = 16;

/** A physical range the formulas walk: a hyp_memory[] entry or a moveable region. */
export interface HypRegion {
  readonly base: number;
  readonly size: number;
}

// ---------------------------------------------------------------------------------------------
// The page-count formulas (kvm_pkvm.h)
// ---------------------------------------------------------------------------------------------

/**
 * `__hyp_pgtable_max_pages(nr_pages)`: worst-case table pages to map `nrPages` pages one by
 * one. Each of the 4 levels needs ceil(n / 512) tables of the level below.
 */
export function hypPgtableMaxPages(nrPages: number): number {
  checkCount('__hyp_pgtable_max_pages', nrPages);
  let total = 0;
  let n = nrPages;
  for (let level = 0; level < KVM_PGTABLE_MAX_LEVELS; level++) {
    n = Math.ceil(n / PTRS_PER_PTE);
    total += n;
  }
  return total;
}

/**
 * `__hyp_pgtable_total_pages()` (v6.1) / `__hyp_pgtable_moveable_regs_pages()` (Android):
 * the sum over regions of the worst case for each region separately, so every extra region
 * costs at least 4 pages.
 */
export function hypPgtableTotalPages(regions: readonly HypRegion[]): number {
  let total = 0;
  for (const r of regions) total += hypPgtableMaxPages(Math.floor(r.size / PAGE_SIZE));
  return total;
}

/** `hyp_s1_pgtable_pages()`: map all regions, plus 1 GiB of private mappings. */
export function hypS1PgtablePages(regions: readonly HypRegion[]): number {
  return hypPgtableTotalPages(regions) + hypPgtableMaxPages(SZ_1G_PAGES);
}

/** `host_s2_pgtable_pages()`: map all regions, the concatenated PGDs, plus 1 GiB of MMIO. */
export function hostS2PgtablePages(regions: readonly HypRegion[]): number {
  return hypPgtableTotalPages(regions) + HOST_S2_PGD_PAGES + hypPgtableMaxPages(SZ_1G_PAGES);
}

/** `hyp_vm_table_pages()`: one pointer per protected VM, page-aligned; 0 where it does not exist (v6.1). */
export function hypVmTablePages(profile: KernelProfile | KernelProfileName): number {
  const p = resolveKernelProfile(profile);
  if (p.kvmMaxPvms === null) return 0;
  return alignUp(p.kvmMaxPvms * 8, PAGE_SIZE) / PAGE_SIZE;
}

/**
 * `hyp_vmemmap_pages(entry)` (≥ v6.2, Android): pages of `struct hyp_page` entries for every
 * region, each region's slice of the vmemmap rounded out to whole pages.
 */
export function hypVmemmapPages(regions: readonly HypRegion[], entrySize: number): number {
  checkCount('hyp_vmemmap_pages entry size', entrySize);
  let bytes = 0;
  for (const r of regions) {
    const start = Math.floor(r.base / PAGE_SIZE) * entrySize;
    const end = start + Math.floor(r.size / PAGE_SIZE) * entrySize;
    bytes += alignUp(end, PAGE_SIZE) - alignDown(start, PAGE_SIZE);
  }
  return bytes / PAGE_SIZE;
}

/**
 * `hyp_vmemmap_range(phys, size)` as v6.1's divide_memory_pool uses it: the pages of the
 * vmemmap slice covering [phys, phys + size), rounded out.
 */
export function hypVmemmapRangePages(phys: number, size: number, entrySize: number): number {
  const start = Math.floor(phys / PAGE_SIZE) * entrySize;
  const end = Math.floor((phys + size) / PAGE_SIZE) * entrySize;
  return (alignUp(end, PAGE_SIZE) - alignDown(start, PAGE_SIZE)) / PAGE_SIZE;
}

/**
 * v6.1's vmemmap term: the pool's own hyp_page entries plus the tables that map them, which
 * grow the pool, so iterate to a fixed point: nr = ceil((pages + nr) · entry / PAGE_SIZE) +
 * max_pages(that) until nr stops changing.
 */
export function v61VmemmapFixedPointPages(basePages: number, entrySize: number): number {
  checkCount('vmemmap base pages', basePages);
  let nr = 0;
  let prev: number;
  do {
    prev = nr;
    const entries = Math.ceil(((basePages + prev) * entrySize) / PAGE_SIZE);
    nr = entries + hypPgtableMaxPages(entries);
  } while (nr !== prev);
  return nr;
}

/**
 * `hyp_ffa_proxy_pages()` (≥ ~v6.4, Android): the TX/RX mailboxes plus a buffer for the
 * largest memory-transaction descriptor; 0 where FF-A proxying does not exist (v6.1).
 */
export function hypFfaProxyPages(profile: KernelProfile | KernelProfileName): number {
  const f = resolveKernelProfile(profile).ffaProxy;
  if (f === null) return 0;
  const descMax = f.memRegionBytes + f.memRegionAttributesBytes + f.compositeMemRegionBytes + f.maxConstituents * f.addrRangeBytes;
  return 2 * f.mailboxPages + Math.ceil(descMax / PAGE_SIZE);
}

// ---------------------------------------------------------------------------------------------
// kvm_hyp_reserve
// ---------------------------------------------------------------------------------------------

export interface ReservationBreakdown {
  /** Regions the page-table terms were summed over (hyp_memory, or moveable regions on Android). */
  readonly pgtableRegions: number;
  /** __hyp_pgtable_total_pages / __hyp_pgtable_moveable_regs_pages. */
  readonly pgtableTotalPages: number;
  readonly hypS1PgtablePages: number;
  readonly hostS2PgtablePages: number;
  readonly hypVmTablePages: number;
  /** v6.1: the fixed-point pool vmemmap (entries + their tables); Android: all memory. */
  readonly hypVmemmapPages: number;
  readonly hypFfaProxyPages: number;
}

export interface Reservation {
  readonly profile: KernelProfileName;
  /** hyp_mem_pages: the sum of the breakdown. */
  readonly hypMemPages: number;
  /** hyp_mem_size as the kernel leaves it: PMD-aligned, or hypMemPages pages on the fallback path. */
  readonly hypMemSize: number;
  /** hyp_mem_base: where memblock put the pool. */
  readonly hypMemBase: number;
  /** The alignment that succeeded: PMD_SIZE, or PAGE_SIZE when no 2 MiB-aligned range was free. */
  readonly alignment: number;
  /** Pages of the pool beyond hypMemPages (alignment slack). */
  readonly slackPages: number;
  /** The memblock_phys_alloc calls made, in order, and what each returned (null = failed). */
  readonly attempts: readonly { readonly bytes: number; readonly align: number; readonly base: number | null }[];
  readonly breakdown: ReservationBreakdown;
  /** hyp_memory[]: the memblock regions registered for EL2, sorted by base. */
  readonly hypMemory: readonly (HypRegion & { readonly nomap: boolean })[];
  /** The kernel's own line: `kvm [0]: Reserved N MiB at 0x…`. */
  readonly log: string;
}

/** kvm_hyp_reserve could not do its job; `kernelMessage` is what the kernel prints then. */
export class ReservationError extends Error {
  override name = 'ReservationError';
  constructor(
    message: string,
    readonly kernelMessage: string,
  ) {
    super(message);
  }
}

export interface KvmHypReserveOptions {
  profile?: KernelProfile | KernelProfileName;
  /** DT "pkvm,protected-region" ranges: Android counts them as moveable regions (§1.8). */
  protectedRegions?: readonly HypRegion[];
}

/** `kvm_info("Reserved %lld MiB at 0x%llx\n", size >> 20, base)` with kvm_info's "kvm [pid]: " prefix (pid 0 in setup_arch). */
export function reservationLogLine(hypMemSize: number, hypMemBase: number): string {
  return `kvm [0]: Reserved ${Math.floor(hypMemSize / (1024 * 1024))} MiB at ${hex(hypMemBase)}`;
}

/**
 * The arithmetic half of kvm_hyp_reserve: hyp_mem_pages for the given hyp_memory regions
 * (and, on Android, the extra protected regions).
 */
export function hypMemPagesFor(
  hypMemory: readonly HypRegion[],
  options: KvmHypReserveOptions = {},
): { hypMemPages: number; breakdown: ReservationBreakdown } {
  const profile = resolveKernelProfile(options.profile);
  const pgRegions = profile.pgtableRegions === 'moveable' ? moveableRegions(hypMemory, options.protectedRegions ?? [], profile) : hypMemory;
  const s1 = hypS1PgtablePages(pgRegions);
  const s2 = hostS2PgtablePages(pgRegions);
  const vmTable = hypVmTablePages(profile);
  const ffa = hypFfaProxyPages(profile);
  const vmemmap =
    profile.vmemmapSizing === 'pool-fixed-point'
      ? v61VmemmapFixedPointPages(s1 + s2 + vmTable + ffa, profile.structHypPageSize)
      : hypVmemmapPages(hypMemory, profile.structHypPageSize);
  const breakdown: ReservationBreakdown = {
    pgtableRegions: pgRegions.length,
    pgtableTotalPages: hypPgtableTotalPages(pgRegions),
    hypS1PgtablePages: s1,
    hostS2PgtablePages: s2,
    hypVmTablePages: vmTable,
    hypVmemmapPages: vmemmap,
    hypFfaProxyPages: ffa,
  };
  return { hypMemPages: s1 + s2 + vmTable + vmemmap + ffa, breakdown };
}

/** register_moveable_regions: memblock regions then protected regions, sorted by start, larger first on ties. */
function moveableRegions(hypMemory: readonly HypRegion[], protectedRegions: readonly HypRegion[], profile: KernelProfile): HypRegion[] {
  for (const r of protectedRegions) {
    if (r.base % PAGE_SIZE !== 0 || r.size % PAGE_SIZE !== 0 || r.size <= 0) {
      throw new ReservationError(
        `protected region ${hex(r.base)}+${hex(r.size)} is not page-aligned`,
        'kvm [0]: Failed to register pkvm moveable regions',
      );
    }
  }
  const all = [...hypMemory, ...protectedRegions].sort((a, b) => a.base - b.base || b.size - a.size);
  if (profile.moveableRegionsMax !== null && all.length > profile.moveableRegionsMax) {
    throw new ReservationError(
      `${all.length} moveable regions exceed PKVM_NR_MOVEABLE_REGS (${profile.moveableRegionsMax})`,
      'kvm [0]: Failed to register pkvm moveable regions',
    );
  }
  return all;
}

/**
 * kvm_hyp_reserve: register the memblock regions for EL2, add up the hypervisor's pages,
 * and take them from memblock top-down, PMD-aligned if possible, else page-aligned.
 * Reserves the pool in `memblock`. Throws ReservationError where the kernel would print an
 * error and leave hyp_mem_base at 0 (pKVM then cannot initialise).
 */
export function kvmHypReserve(memblock: Memblock, options: KvmHypReserveOptions = {}): Reservation {
  const profile = resolveKernelProfile(options.profile);
  // register_memblock_regions: every memory region, NOMAP ones included, sorted by base.
  const hypMemory = memblock.memoryRegions().map((r) => ({ base: r.base, size: r.size, nomap: r.nomap }));
  if (hypMemory.length > profile.hypMemblockRegionsMax) {
    throw new ReservationError(
      `${hypMemory.length} memblock regions exceed HYP_MEMBLOCK_REGIONS (${profile.hypMemblockRegionsMax})`,
      'kvm [0]: Failed to register hyp memblocks: -12',
    );
  }
  const { hypMemPages, breakdown } = hypMemPagesFor(hypMemory, options);
  const exactSize = hypMemPages * PAGE_SIZE;
  const pmdSize = alignUp(exactSize, PMD_SIZE);
  const attempts: { bytes: number; align: number; base: number | null }[] = [];
  const tryAlloc = (bytes: number, align: number): number | null => {
    const got = memblock.physAlloc(bytes, align, 'hyp memory pool');
    attempts.push({ bytes, align, base: got });
    return got;
  };
  let alignment = PMD_SIZE;
  let hypMemSize = pmdSize;
  let base = tryAlloc(pmdSize, PMD_SIZE);
  if (base === null) {
    // The kernel falls back to page alignment and keeps the unaligned size.
    alignment = PAGE_SIZE;
    hypMemSize = exactSize;
    base = tryAlloc(exactSize, PAGE_SIZE);
  }
  if (base === null) {
    const largest = Math.max(0, ...memblock.freeRanges().map((r) => r.size));
    const ram = memblock.memoryRegions().reduce((sum, r) => sum + r.size, 0);
    throw new ReservationError(
      `memory too small for the hypervisor: kvm_hyp_reserve needs ${hypMemPages} pages (${formatBytes(exactSize)}) ` +
        `of contiguous free memory for the ${profile.name} profile, but with ${formatBytes(ram)} of RAM the largest free ` +
        `range left by the kernel image, the device tree and the early allocations is ${formatBytes(largest)}`,
      'kvm [0]: Failed to reserve hyp memory',
    );
  }
  return {
    profile: profile.name,
    hypMemPages,
    hypMemSize,
    hypMemBase: base,
    alignment,
    slackPages: hypMemSize / PAGE_SIZE - hypMemPages,
    attempts,
    breakdown,
    hypMemory,
    log: reservationLogLine(hypMemSize, base),
  };
}

export interface VirtReservation {
  readonly reservation: Reservation;
  /** memblock before the reservation was made, and how it got there. */
  readonly early: EarlyMemblock;
}

/**
 * The whole memory-reservation stage on QEMU virt: memblock as the kernel has it when
 * bootmem_init calls kvm_hyp_reserve, then kvm_hyp_reserve itself.
 */
export function kvmHypReserveOnVirt(options: EarlyMemblockOptions & KvmHypReserveOptions): VirtReservation {
  const early = virtMemblockAtHypReserve(options);
  const reservation = kvmHypReserve(early.memblock, options);
  return { reservation, early };
}

// ---------------------------------------------------------------------------------------------
// divide_memory_pool
// ---------------------------------------------------------------------------------------------

export interface PoolPart {
  readonly name: PoolPartName;
  /** Physical address of the first page (the hyp works on its VA alias of it). */
  readonly base: number;
  readonly pages: number;
}

export interface PoolDivision {
  readonly profile: KernelProfileName;
  readonly base: number;
  readonly size: number;
  /** The bump allocations in order, contiguous from `base`. */
  readonly parts: readonly PoolPart[];
  /** hyp_early_alloc_nr_used_pages() after the division. */
  readonly usedPages: number;
  /** What is left: mapped and hyp-owned, but unused (alignment and fixed-point surplus). */
  readonly slack: { readonly base: number; readonly pages: number };
}

export interface DivideMemoryPoolArgs {
  /** hyp_mem_base and hyp_mem_size as __pkvm_init receives them. */
  base: number;
  size: number;
  /** hyp_memory[]: the regions registered by kvm_hyp_reserve (Reservation.hypMemory). */
  hypMemory: readonly HypRegion[];
  profile?: KernelProfile | KernelProfileName;
  protectedRegions?: readonly HypRegion[];
}

/**
 * divide_memory_pool: __pkvm_init's bump allocator hands out the pool in the profile's
 * order. Every count is the same function kvm_hyp_reserve summed, so a pool reserved by
 * kvmHypReserve always holds the division (v6.1 divides less than it reserved: only the
 * pool's own vmemmap slice, without the fixed-point's table allowance).
 */
export function divideMemoryPool(args: DivideMemoryPoolArgs): PoolDivision {
  const profile = resolveKernelProfile(args.profile);
  const { base, size } = args;
  if (!Number.isSafeInteger(base) || base % PAGE_SIZE !== 0 || !Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
    // __pkvm_init refuses an unaligned pool with -EINVAL.
    throw new RangeError(`divide_memory_pool: pool ${hex(base)}+${hex(size)} must be page-aligned and non-empty`);
  }
  const pgRegions =
    profile.pgtableRegions === 'moveable' ? moveableRegions(args.hypMemory, args.protectedRegions ?? [], profile) : args.hypMemory;
  const count = (name: PoolPartName): number => {
    switch (name) {
      case 'vmemmap':
        return profile.vmemmapSizing === 'pool-fixed-point'
          ? hypVmemmapRangePages(base, size, profile.structHypPageSize)
          : hypVmemmapPages(args.hypMemory, profile.structHypPageSize);
      case 'vm_table':
        return hypVmTablePages(profile);
      case 'hyp_s1_pgtable':
        return hypS1PgtablePages(pgRegions);
      case 'host_s2_pgtable':
        return hostS2PgtablePages(pgRegions);
      case 'ffa_proxy':
        return hypFfaProxyPages(profile);
    }
  };
  const parts: PoolPart[] = [];
  let next = base;
  for (const name of profile.poolLayout) {
    const pages = count(name);
    parts.push({ name, base: next, pages });
    next += pages * PAGE_SIZE;
  }
  const usedPages = (next - base) / PAGE_SIZE;
  if (next > base + size) {
    throw new RangeError(
      `divide_memory_pool: the pool of ${size / PAGE_SIZE} pages at ${hex(base)} cannot hold ${usedPages} pages ` +
        `(${parts.map((p) => `${p.name} ${p.pages}`).join(', ')}); was it reserved for another profile or other memory?`,
    );
  }
  return { profile: profile.name, base, size, parts, usedPages, slack: { base: next, pages: (base + size - next) / PAGE_SIZE } };
}

/** The part named `name` of a division (throws if the profile has no such part). */
export function poolPart(division: PoolDivision, name: PoolPartName): PoolPart {
  const part = division.parts.find((p) => p.name === name);
  if (!part) throw new Error(`divide_memory_pool (${division.profile}): no ${name} part`);
  return part;
}

function checkCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what}: ${n} is not a non-negative integer`);
}
