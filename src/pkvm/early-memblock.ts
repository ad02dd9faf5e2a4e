/**
 * memblock as Linux/arm64 has it when `kvm_hyp_reserve` runs (bootmem_init, after
 * paging_init and unflatten_device_tree, pkvm-facts §1.1) on QEMU's `-M virt` booted
 * with `-kernel Image`: one memory region, a few reservations low in RAM, and the early
 * top-down allocations at the top of RAM that the hypervisor pool lands just below.
 *
 * The arithmetic is the kernel's; the sizes that belong to one kernel build or one QEMU
 * board (image size, NODE_DATA, the unflattened DT) are data, measured from a
 * `memblock=debug` boot of that kernel (scripts/kernel-reservation-check.mjs records them
 * in test/fixtures/pkvm/kernel-reservations.json, and the tests hold the model to them).
 */
import { alignDown, alignUp, hex, Memblock, PAGE_SIZE } from './memblock.js';
import type { MemblockRegion } from './memblock.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** arm64 4 KiB-granule block sizes: a PTE table spans 2 MiB, a PMD table 1 GiB, a PUD table 512 GiB. */
const PTE_TABLE_SPAN = 2 * MiB;
const PMD_TABLE_SPAN = GiB;
const PUD_TABLE_SPAN = 512 * GiB;

/** Facts of one kernel build that shape memblock before kvm_hyp_reserve. */
export interface KernelImageFacts {
  readonly name: string;
  /** Bytes from the RAM base to where QEMU loads the Image (text_offset 0 → 2 MiB; _stext seen at 0x4021_0000). */
  readonly loadOffset: number;
  /** _stext − _text: arm64_memblock_init reserves [_stext, _end), not the 64 KiB head. */
  readonly stextOffset: number;
  /** image_size from the Image header (_end − _text). */
  readonly imageSize: number;
  /**
   * paging_init's page-table pages that do not scale with RAM: the kernel image mapped at its
   * (KASLR) VA (PUD, PMD, PTE tables where segments are not 2 MiB aligned), create_idmap's
   * tables, less the 2 MiB chunks of the kernel's linear alias [_stext, __init_begin) that
   * map_mem maps with blocks. Net, measured: early page-table pages − (2 MiB + 1 GiB + 512 GiB
   * tables of the linear map) at every recorded size. A KASLR offset that makes the image
   * straddle a 1 GiB boundary needs one more PMD table; the model takes the usual case.
   */
  readonly fixedPageTablePages: number;
  /** NODE_DATA (pg_data_t) for the one fake NUMA node, and its alignment (SMP_CACHE_BYTES). */
  readonly nodeDataBytes: number;
  readonly nodeDataAlign: number;
  /** numa_distance table: MAX_NUMNODES² bytes, PAGE_SIZE aligned (CONFIG_NODES_SHIFT=4). */
  readonly numaDistanceBytes: number;
}

/** Debian's linux-image-6.1.0-56-cloud-arm64-unsigned (6.1.192-2), the image the fixtures come from. */
export const DEBIAN_6_1_CLOUD_ARM64: KernelImageFacts = {
  name: 'Debian 6.1.0-56-cloud-arm64 (6.1.192-2)',
  loadOffset: 2 * MiB,
  stextOffset: 64 * KiB,
  imageSize: 0x1ab_0000,
  fixedPageTablePages: 4,
  nodeDataBytes: 11392,
  nodeDataAlign: 64,
  numaDistanceBytes: 256,
};

/** QEMU 7.2 `-M virt` direct kernel boot facts (hw/arm/boot.c behaviour, as observed). */
export const QEMU_VIRT_BOOT = {
  ramBase: 0x4000_0000,
  /** QEMU builds the virt DT in a 1 MiB blob; Linux reserves fdt_totalsize of it. */
  dtbBytes: 1 * MiB,
  /** The DTB (and an initrd) start at min(RAM/2, 128 MiB) into RAM, after the image, 2 MiB aligned. */
  dtbAlign: 2 * MiB,
  initrdMaxOffset: 128 * MiB,
} as const;

/**
 * Bytes unflatten_device_tree allocates for QEMU 7.2's virt DT with `cpus` cortex-a57s
 * (GICv2, no extra devices). Measured for 1, 2, 4 and 8 CPUs: each CPU node adds 1216
 * bytes, and a second CPU adds 96 more (the cpu-map the board emits for SMP).
 */
export function virtUnflattenedDtBytes(cpus: number): number {
  return 39964 + (cpus > 1 ? 96 + 1216 * (cpus - 1) : 0);
}

/**
 * Page-table pages paging_init takes from memblock (4 KiB each, top-down): the linear map of
 * every memory region at page granularity (rodata=full, Debian's default: NO_BLOCK_MAPPINGS),
 * i.e. one PTE table per 2 MiB, one PMD table per 1 GiB and one PUD table per 512 GiB the
 * RAM touches, plus the kernel's own fixed tables.
 */
export function pagingInitTablePages(regions: readonly MemblockRegion[], kernel: KernelImageFacts = DEBIAN_6_1_CLOUD_ARM64): number {
  const mapped = regions.filter((r) => !r.nomap);
  const tablesFor = (span: number): number => {
    // Distinct span-sized slots touched by any region (regions may share a slot).
    const slots = new Set<number>();
    for (const r of mapped) {
      for (let s = alignDown(r.base, span); s < r.base + r.size; s += span) slots.add(s);
    }
    return slots.size;
  };
  return tablesFor(PTE_TABLE_SPAN) + tablesFor(PMD_TABLE_SPAN) + tablesFor(PUD_TABLE_SPAN) + kernel.fixedPageTablePages;
}

export interface EarlyMemblockOptions {
  /** RAM size in bytes (QEMU's -m). */
  ramSize: number;
  /** Number of CPUs (-smp): the DT grows with them. Default 1. */
  cpus?: number;
  /** Bytes of an initrd passed with -initrd, if any. */
  initrdSize?: number;
  /** /reserved-memory children with no-map: they split the memory region (§1.5). */
  noMapRegions?: readonly { base: number; size: number }[];
  kernel?: KernelImageFacts;
  /**
   * Replays a boot whose paging_init took a different number of page-table pages than the
   * model predicts (the KASLR case in KernelImageFacts.fixedPageTablePages). Tests use it
   * with the count a memblock=debug boot showed.
   */
  pagingInitTablePages?: number;
}

export interface PlacedRange {
  readonly label: string;
  readonly base: number;
  readonly size: number;
}

export interface EarlyMemblock {
  readonly memblock: Memblock;
  readonly ram: { readonly base: number; readonly size: number };
  readonly kernelImage: PlacedRange;
  readonly dtb: PlacedRange;
  readonly initrd: PlacedRange | null;
  /** The top-down allocations before kvm_hyp_reserve, in the order the kernel makes them. */
  readonly earlyAllocations: readonly PlacedRange[];
  readonly pagingInitTablePages: number;
  readonly kernel: KernelImageFacts;
}

/** Raised when the machine cannot even get as far as kvm_hyp_reserve. */
export class EarlyBootMemoryError extends Error {
  override name = 'EarlyBootMemoryError';
}

/**
 * Builds memblock as it stands when kvm_hyp_reserve runs on QEMU virt: what QEMU placed
 * (Image, DTB, initrd), what arm64_memblock_init reserved, and the early top-down
 * allocations of paging_init, unflatten_device_tree and numa_init.
 */
export function virtMemblockAtHypReserve(options: EarlyMemblockOptions): EarlyMemblock {
  const kernel = options.kernel ?? DEBIAN_6_1_CLOUD_ARM64;
  const cpus = options.cpus ?? 1;
  const { ramSize } = options;
  const ramBase = QEMU_VIRT_BOOT.ramBase;
  if (!Number.isSafeInteger(ramSize) || ramSize <= 0 || ramSize % PAGE_SIZE !== 0) {
    throw new EarlyBootMemoryError(`RAM size ${ramSize} must be a positive multiple of 4 KiB`);
  }
  if (!Number.isSafeInteger(cpus) || cpus < 1) throw new EarlyBootMemoryError(`CPU count ${cpus} must be a positive integer`);
  const initrdSize = options.initrdSize ?? 0;
  if (!Number.isSafeInteger(initrdSize) || initrdSize < 0) throw new EarlyBootMemoryError(`initrd size ${initrdSize} must be a non-negative integer`);
  const ramEnd = ramBase + ramSize;

  // QEMU's placement: Image at RAM + 2 MiB; initrd at min(RAM/2, 128 MiB) unless the image is
  // still there; the DTB after the initrd, 2 MiB aligned.
  const imageBase = ramBase + kernel.loadOffset;
  const imageEnd = imageBase + kernel.imageSize;
  const initrdStart = Math.max(ramBase + Math.min(ramSize / 2, QEMU_VIRT_BOOT.initrdMaxOffset), alignUp(imageEnd, PAGE_SIZE));
  const dtbBase = alignUp(initrdStart + initrdSize, QEMU_VIRT_BOOT.dtbAlign);
  const needed = dtbBase + QEMU_VIRT_BOOT.dtbBytes;
  if (needed > ramEnd) {
    throw new EarlyBootMemoryError(
      `${formatBytes(ramSize)} of RAM cannot hold the kernel image (${formatBytes(kernel.imageSize)} at ${hex(imageBase)})` +
        `${initrdSize ? `, the initrd (${formatBytes(initrdSize)})` : ''} and the device tree (at ${hex(dtbBase)}): ` +
        `at least ${formatBytes(alignUp(needed - ramBase, MiB))} is needed before the kernel even starts`,
    );
  }

  const memblock = new Memblock();
  // early_init_dt_scan_memory: QEMU's virt DT has one memory node (§1.5).
  memblock.addMemory(ramBase, ramSize);
  for (const r of options.noMapRegions ?? []) memblock.markNomap(r.base, r.size);
  const kernelImage: PlacedRange = { label: 'kernel image [_stext, _end)', base: imageBase + kernel.stextOffset, size: kernel.imageSize - kernel.stextOffset };
  const dtb: PlacedRange = { label: 'device tree blob', base: dtbBase, size: QEMU_VIRT_BOOT.dtbBytes };
  const initrd: PlacedRange | null = initrdSize ? { label: 'initrd', base: alignDown(initrdStart, PAGE_SIZE), size: alignUp(initrdSize, PAGE_SIZE) } : null;
  memblock.reserve(dtb.base, dtb.size, dtb.label);
  memblock.reserve(kernelImage.base, kernelImage.size, kernelImage.label);
  if (initrd) memblock.reserve(initrd.base, initrd.size, initrd.label);

  const earlyAllocations: PlacedRange[] = [];
  const alloc = (label: string, size: number, align: number): void => {
    const base = memblock.physAlloc(size, align, label);
    if (base === null) {
      throw new EarlyBootMemoryError(`${formatBytes(ramSize)} of RAM is too small for the kernel's early allocations (${label}, ${size} bytes)`);
    }
    const last = earlyAllocations.at(-1);
    // Consecutive page-table pages are reported as one range.
    if (last && last.label === label && last.base === base + size) earlyAllocations[earlyAllocations.length - 1] = { label, base, size: last.size + size };
    else earlyAllocations.push({ label, base, size });
  };
  const tables = options.pagingInitTablePages ?? pagingInitTablePages(memblock.memoryRegions(), kernel);
  if (!Number.isSafeInteger(tables) || tables < 0) throw new EarlyBootMemoryError(`page-table page count ${tables} must be a non-negative integer`);
  for (let i = 0; i < tables; i++) alloc('paging_init page tables', PAGE_SIZE, PAGE_SIZE);
  alloc('unflattened device tree', virtUnflattenedDtBytes(cpus), 8);
  alloc('numa_distance', kernel.numaDistanceBytes, PAGE_SIZE);
  alloc('NODE_DATA(0)', kernel.nodeDataBytes, kernel.nodeDataAlign);

  return { memblock, ram: { base: ramBase, size: ramSize }, kernelImage, dtb, initrd, earlyAllocations, pagingInitTablePages: tables, kernel };
}

/** "512 MiB", "1.5 GiB", "36 MiB", "4 KiB": for messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= GiB && bytes % (GiB / 2) === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % (MiB / 4) === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} bytes`;
}
