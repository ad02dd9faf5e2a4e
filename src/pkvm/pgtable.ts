/**
 * A model of the kernel's stand-alone page-table code, `struct kvm_pgtable`
 * (arch/arm64/kvm/hyp/pgtable.c; pkvm-facts §5.5, §5.6), as pKVM uses it for the
 * hypervisor's stage-1 (TTBR0_EL2) and the host's stage-2 (VTTBR_EL2). It writes real
 * descriptors into emulated memory — the interpreter's MMU walks the very tables built
 * here — and allocates and refcounts table pages through `kvm_pgtable_mm_ops`, so one
 * walker serves the early allocator, the hyp pool and host_s2_pool.
 *
 * Shape: V61's behaviour and arithmetic, written in the 6.2+/Android "visit context" form
 * that the documents' tree uses (a visitor gets {ptep, old, addr, end, level}; the walker
 * reloads an entry after a TABLE_PRE or LEAF visit so it can descend into a table the
 * visitor just installed). The stage-2 code takes Android's `kvm_pgtable_pte_ops`
 * (force_pte_cb, pte_is_counted_cb); passing the default ops gives V61's counting (every
 * non-zero entry is counted). Android's KVM_PGTABLE_S2_PREFAULT_BLOCK (splitting a block
 * keeps the rest of it mapped) and post-init coalescing are available behind their flag.
 *
 * Refcounting, as the kernel: a table page holds one reference for itself (from its
 * allocation) plus one per counted entry in it; an unmap that empties a table (page_count
 * back to 1) clears its parent entry and puts the page, which returns it to the pool.
 *
 * Return values are the kernel's: 0 or a negative errno (see errnoName). As from 6.2, a
 * visitor's −EAGAIN (e.g. "this exact mapping is already there") does not end a walk
 * unless the walker has KVM_PGTABLE_WALK_HANDLE_FAULT; V61 stopped the walk and returned
 * it. WARN_ONs are recorded in `pgt.warnings`; BUG_ONs throw HypBugError.
 */
import { HypBugError, PAGE_SHIFT, PAGE_SIZE, hex } from './hyp-memory.js';
import type { KvmPgtableMmOps } from './mm-ops.js';
import {
  E2BIG, EAGAIN, EINVAL, ENOMEM, ERANGE,
  KVM_HOST_S2_DEFAULT_MASK, KVM_HOST_S2_DEFAULT_MEM_PTE, KVM_HOST_S2_DEFAULT_MMIO_PTE, PKVM_HOST_MEM_PROT, PKVM_HOST_MMIO_PROT,
  KVM_INVALID_PTE_LOCKED, KVM_MAX_OWNER_ID, KVM_PGTABLE_LAST_LEVEL, KVM_PGTABLE_MAX_LEVELS, KVM_PHYS_INVALID,
  KVM_PTE_LEAF_ATTR_HI_SW, KVM_PTE_LEAF_ATTR_S2_PERMS, PTRS_PER_PTE,
  hyp_set_prot_attr, kvm_granule_shift, kvm_granule_size, kvm_init_invalid_leaf_owner, kvm_init_table_pte,
  kvm_init_valid_leaf_pte, kvm_level_supports_block_mapping, kvm_phys_is_valid, kvm_pte_table, kvm_pte_to_phys,
  kvm_pte_valid, stage2_set_prot_attr,
  KVM_PTE_LEAF_ATTR_HI, KVM_PTE_LEAF_ATTR_LO, KVM_PTE_LEAF_ATTR_LO_S1_ATTRIDX, KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR, MT_DEVICE_nGnRE,
  formatProt, kvm_invalid_pte_owner, kvm_pgtable_hyp_pte_prot, kvm_pgtable_stage2_pte_prot, kvm_s2_memattr, ownerName,
} from './pgtable-prot.js';

// ---- walker flags and stage-2 flags ---------------------------------------------------------------
export const KVM_PGTABLE_WALK_LEAF = 1 << 0;
export const KVM_PGTABLE_WALK_TABLE_PRE = 1 << 1;
export const KVM_PGTABLE_WALK_TABLE_POST = 1 << 2;
/** Android / ≥ 6.2: a -EAGAIN from a visitor ends the walk only for fault handlers. */
export const KVM_PGTABLE_WALK_HANDLE_FAULT = 1 << 4;

export const KVM_PGTABLE_S2_NOFWB = 1 << 0;
/** The table is an identity map (IPA == PA): the host stage-2. */
export const KVM_PGTABLE_S2_IDMAP = 1 << 1;
/** Android: splitting a block pre-fills the new table with the rest of the block. */
export const KVM_PGTABLE_S2_PREFAULT_BLOCK = 1 << 2;

/** KVM_HOST_S2_FLAGS: NOFWB | IDMAP in V61 (Android adds PREFAULT_BLOCK) (§5.6). */
export const KVM_HOST_S2_FLAGS_V61 = KVM_PGTABLE_S2_NOFWB | KVM_PGTABLE_S2_IDMAP;
export const KVM_HOST_S2_FLAGS_ANDROID = KVM_HOST_S2_FLAGS_V61 | KVM_PGTABLE_S2_PREFAULT_BLOCK;

// ---- structures -------------------------------------------------------------------------------------

/** struct kvm_pgtable_pte_ops (Android): which mappings must be pages, and which entries hold a reference. */
export interface KvmPgtablePteOps {
  force_pte_cb?: (addr: bigint, end: bigint, prot: bigint) => boolean;
  pte_is_counted_cb: (pte: bigint, level: number) => boolean;
}

/** stage2_pte_is_counted (V61): every non-zero entry, valid or an ownership annotation, is counted. */
export function stage2_pte_is_counted(pte: bigint, _level?: number): boolean {
  return pte !== 0n;
}

/** V61's stage-2 behaviour as pte_ops: V61 passes only force_pte_cb and counts every non-zero entry. */
export function stage2V61PteOps(force_pte_cb?: (addr: bigint, end: bigint, prot: bigint) => boolean): KvmPgtablePteOps {
  return { force_pte_cb, pte_is_counted_cb: stage2_pte_is_counted };
}

/**
 * The host stage-2's pte_ops, as mem_protect.c sets them up (§5.8):
 *
 * - force_pte_cb (`host_stage2_force_pte`): a mapping whose prot is not the default one
 *   (RWX for memory, RW for MMIO) must use pages, since its state lives only in the PTE
 *   and splitting a block would lose it;
 * - pte_is_counted_cb: V61 counts every non-zero entry; Android (`host_stage2_pte_is_counted`)
 *   does not count valid leaves that carry exactly the default attributes, so host tables
 *   full of default mappings sit at refcount 1 and can be reclaimed or coalesced.
 */
export function hostStage2PteOps(opts: {
  addrIsMemory: (pa: bigint) => boolean;
  /** range_is_memory(start, end): [start, end) lies inside one memory region. */
  rangeIsMemory?: (start: bigint, end: bigint) => boolean;
  counting: 'linux-6.1' | 'android';
}): KvmPgtablePteOps {
  const rangeIsMemory = opts.rangeIsMemory ?? ((start: bigint, end: bigint) => opts.addrIsMemory(start) && opts.addrIsMemory(end - 1n));
  const force_pte_cb = (addr: bigint, end: bigint, prot: bigint): boolean =>
    prot !== (rangeIsMemory(addr, end) ? PKVM_HOST_MEM_PROT : PKVM_HOST_MMIO_PROT);
  if (opts.counting === 'linux-6.1') return { force_pte_cb, pte_is_counted_cb: stage2_pte_is_counted };
  return {
    force_pte_cb,
    pte_is_counted_cb: (pte, level) => {
      if (!kvm_pte_valid(pte)) return pte !== 0n;
      if (kvm_pte_table(pte, level)) return true;
      const dflt = opts.addrIsMemory(kvm_pte_to_phys(pte)) ? KVM_HOST_S2_DEFAULT_MEM_PTE : KVM_HOST_S2_DEFAULT_MMIO_PTE;
      return (pte & KVM_HOST_S2_DEFAULT_MASK) !== dflt;
    },
  };
}

/** The stage-2 MMU a table belongs to: struct kvm_s2_mmu plus the VTCR of its kvm_arch. */
export interface KvmS2Mmu {
  /** kvm_arch.vtcr: what __kvm_pgtable_stage2_init derives the geometry from. */
  vtcr: bigint;
  /** PA of the PGD (VTTBR_EL2.BADDR). */
  pgd_phys: bigint;
  vmid: number;
  pgt: KvmPgtable | null;
}

export class KvmPgtable {
  ia_bits = 0;
  start_level = 0;
  /** Hyp VA of the top-level table (0n when not initialised). */
  pgd = 0n;
  mm_ops!: KvmPgtableMmOps;
  mmu: KvmS2Mmu | null = null;
  flags = 0;
  pte_ops: KvmPgtablePteOps = stage2V61PteOps();

  // ---- model settings -----------------------------------------------------------
  /** The CPU has FEAT_S2FWB (changes stage-2 MemAttr unless NOFWB); cortex-a57/a76 do not. */
  fwb = false;
  /** The kernel uses BTI (GP on executable hyp mappings). */
  bti = false;
  /** KVM_MAX_OWNER_ID: 255 (FIELD_MAX of bits [9:2]); V61 allows only 1. */
  maxOwnerId = KVM_MAX_OWNER_ID;
  /** Stand-in for the static key kvm_protected_mode_initialized (Android's post-init coalescing). */
  protectedModeInitialized = false;
  /**
   * TLB maintenance the kernel issues while changing live entries, as (operation, Xt):
   * 'vae2is'/'vale2is' for the hyp stage-1, 'ipas2e1is' + 'vmalle1is' and 'vmalls12e1is'
   * for stage 2. Wire it to the CPU's TLBI when the tables are live; absent = none.
   */
  tlbi?: (op: string, xt: bigint) => void;
  /** WARN_ON()s that fired, in order. */
  readonly warnings: string[] = [];

  /** PA of the top-level table. */
  get pgdPhys(): bigint {
    return this.mm_ops.virt_to_phys(this.pgd);
  }

  warn(msg: string): void {
    this.warnings.push(msg);
  }
}

/** The context a visitor gets (struct kvm_pgtable_visit_ctx). */
export interface KvmPgtableVisitCtx {
  /** Hyp VA of the entry (what mm_ops.get_page/put_page are given). */
  readonly ptep: bigint;
  /** The entry's value when visited (reloaded for TABLE_POST after a TABLE_PRE visit). */
  old: bigint;
  readonly arg: unknown;
  readonly mm_ops: KvmPgtableMmOps;
  readonly pte_ops: KvmPgtablePteOps;
  readonly start: bigint;
  readonly addr: bigint;
  readonly end: bigint;
  readonly level: number;
  readonly flags: number;
  /** The table being walked (model: for warnings and TLB maintenance). */
  readonly pgt: KvmPgtable;
}

export type KvmPgtableVisitorFn = (ctx: KvmPgtableVisitCtx, visit: number) => number;

export interface KvmPgtableWalker {
  cb: KvmPgtableVisitorFn;
  arg?: unknown;
  flags: number;
}

// ---- entry access -------------------------------------------------------------------------------------

/** *ptep: read the entry at a hyp VA. */
export function readPte(mm_ops: KvmPgtableMmOps, ptep: bigint): bigint {
  return mm_ops.mem.read64(mm_ops.virt_to_phys(ptep));
}

/** WRITE_ONCE(*ptep, v). */
export function writePte(mm_ops: KvmPgtableMmOps, ptep: bigint, value: bigint): void {
  mm_ops.mem.write64(mm_ops.virt_to_phys(ptep), value);
}

/** kvm_pte_follow: the hyp VA of the table a table entry points to. */
export function kvm_pte_follow(pte: bigint, mm_ops: KvmPgtableMmOps): bigint {
  return mm_ops.phys_to_virt(kvm_pte_to_phys(pte));
}

const alignDown = (v: bigint, a: bigint): bigint => v - (v % a);
const isAligned = (v: bigint, a: bigint): boolean => v % a === 0n;
const pageAlign = (v: bigint): bigint => alignDown(v + PAGE_SIZE - 1n, PAGE_SIZE);

// ---- the walker ------------------------------------------------------------------------------------------

interface WalkData {
  walker: KvmPgtableWalker;
  start: bigint;
  addr: bigint;
  end: bigint;
}

function kvm_pgtable_idx(data: WalkData, level: number): number {
  return Number((data.addr >> BigInt(kvm_granule_shift(level))) & BigInt(PTRS_PER_PTE - 1));
}

/** kvm_pgd_page_idx: which page of a concatenated PGD covers addr. */
function kvm_pgd_page_idx(ia_bits: number, start_level: number, addr: bigint): number {
  const shift = BigInt(kvm_granule_shift(start_level - 1));
  const mask = (1n << BigInt(ia_bits)) - 1n;
  return Number((addr & mask) >> shift);
}

/** kvm_pgd_pages: pages in the (possibly concatenated) PGD: 1 for 48-bit/level 0, 2 for 40-bit/level 1. */
export function kvm_pgd_pages(ia_bits: number, start_level: number): number {
  return kvm_pgd_page_idx(ia_bits, start_level, (1n << 64n) - 1n) + 1;
}

/** kvm_pgtable_walk_continue: -EAGAIN only stops fault handlers; any other error stops the walk. */
function walkContinue(walker: KvmPgtableWalker, r: number): boolean {
  if (r === -EAGAIN) return (walker.flags & KVM_PGTABLE_WALK_HANDLE_FAULT) === 0;
  return r === 0;
}

function visit(data: WalkData, pgt: KvmPgtable, mm_ops: KvmPgtableMmOps, pte_ops: KvmPgtablePteOps, ptep: bigint, level: number): number {
  const walker = data.walker;
  const flags = walker.flags;
  const ctx: KvmPgtableVisitCtx = {
    ptep, old: readPte(mm_ops, ptep), arg: walker.arg, mm_ops, pte_ops,
    start: data.start, addr: data.addr, end: data.end, level, flags, pgt,
  };
  let ret = 0;
  let reload = false;
  let table = kvm_pte_table(ctx.old, level);

  if (table && (flags & KVM_PGTABLE_WALK_TABLE_PRE)) {
    ret = walker.cb(ctx, KVM_PGTABLE_WALK_TABLE_PRE);
    reload = true;
  }
  if (!table && (flags & KVM_PGTABLE_WALK_LEAF)) {
    ret = walker.cb(ctx, KVM_PGTABLE_WALK_LEAF);
    reload = true;
  }
  // Re-read the entry: the visitor may have installed a table to descend into, or replaced one.
  if (reload) {
    ctx.old = readPte(mm_ops, ptep);
    table = kvm_pte_table(ctx.old, level);
  }
  if (walkContinue(walker, ret)) {
    if (!table) {
      const granule = kvm_granule_size(level);
      data.addr = alignDown(data.addr, granule) + granule;
    } else {
      ret = walkLevel(data, pgt, mm_ops, pte_ops, kvm_pte_follow(ctx.old, mm_ops), level + 1);
      if (walkContinue(walker, ret) && (flags & KVM_PGTABLE_WALK_TABLE_POST)) {
        ret = walker.cb(ctx, KVM_PGTABLE_WALK_TABLE_POST);
      }
    }
  }
  return walkContinue(walker, ret) ? 0 : ret;
}

/** __kvm_pgtable_walk: the entries of one table page from the current address on. */
function walkLevel(data: WalkData, pgt: KvmPgtable, mm_ops: KvmPgtableMmOps, pte_ops: KvmPgtablePteOps, table: bigint, level: number): number {
  if (level < 0 || level >= KVM_PGTABLE_MAX_LEVELS) {
    pgt.warn(`__kvm_pgtable_walk: level ${level}`);
    return -EINVAL;
  }
  for (let idx = kvm_pgtable_idx(data, level); idx < PTRS_PER_PTE; idx++) {
    if (data.addr >= data.end) break;
    const ret = visit(data, pgt, mm_ops, pte_ops, table + BigInt(idx * 8), level);
    if (ret) return ret;
  }
  return 0;
}

/**
 * kvm_pgtable_walk: visit the entries covering [addr, addr + size) (page-aligned
 * outward), calling walker.cb for table entries before (TABLE_PRE) and after
 * (TABLE_POST) their children and for every leaf or invalid entry (LEAF), as the
 * walker's flags ask. −ERANGE beyond the table's input size.
 */
export function kvm_pgtable_walk(pgt: KvmPgtable, addr: bigint, size: bigint, walker: KvmPgtableWalker): number {
  const start = alignDown(addr, PAGE_SIZE);
  const data: WalkData = { walker, start, addr: start, end: pageAlign(start + size) };
  const limit = 1n << BigInt(pgt.ia_bits);
  if (data.addr > limit || data.end > limit) return -ERANGE;
  if (pgt.pgd === 0n) return -EINVAL;
  for (let idx = kvm_pgd_page_idx(pgt.ia_bits, pgt.start_level, data.addr); data.addr < data.end; idx++) {
    const ret = walkLevel(data, pgt, pgt.mm_ops, pgt.pte_ops, pgt.pgd + BigInt(idx * PTRS_PER_PTE * 8), pgt.start_level);
    if (ret) return ret;
  }
  return 0;
}

/** kvm_pgtable_get_leaf: the leaf (or invalid) entry mapping addr, and its level. */
export function kvm_pgtable_get_leaf(pgt: KvmPgtable, addr: bigint): { ret: number; pte: bigint; level: number } {
  const out = { pte: 0n, level: 0 };
  const ret = kvm_pgtable_walk(pgt, alignDown(addr, PAGE_SIZE), PAGE_SIZE, {
    flags: KVM_PGTABLE_WALK_LEAF,
    cb: (ctx) => { out.pte = ctx.old; out.level = ctx.level; return 0; },
  });
  return { ret, ...out };
}

/** kvm_block_mapping_supported: a leaf at this level fits [addr, end) and is aligned (an invalid PA only needs addr aligned). */
function kvm_block_mapping_supported(ctx: KvmPgtableVisitCtx, phys: bigint): boolean {
  const granule = kvm_granule_size(ctx.level);
  if (!kvm_level_supports_block_mapping(ctx.level)) return false;
  if (granule > ctx.end - ctx.addr) return false;
  if (kvm_phys_is_valid(phys) && !isAligned(phys, granule)) return false;
  return isAligned(ctx.addr, granule);
}

// ---- hyp stage 1 ------------------------------------------------------------------------------------------

/**
 * kvm_pgtable_hyp_init: an empty hyp stage-1 (one zeroed PGD page from mm_ops) for a
 * va_bits input size: 48 bits → 4 levels from level 0 (pkvm-facts §2.3, §5.7).
 */
export function kvm_pgtable_hyp_init(pgt: KvmPgtable, va_bits: number, mm_ops: KvmPgtableMmOps): number {
  const levels = Math.floor((va_bits - 4) / (12 - 3)); // ARM64_HW_PGTABLE_LEVELS
  const start_level = KVM_PGTABLE_MAX_LEVELS - levels;
  if (start_level < 0 || start_level > KVM_PGTABLE_LAST_LEVEL) return -EINVAL;
  const pgd = mm_ops.zalloc_page(null);
  if (pgd === null) return -ENOMEM;
  pgt.pgd = pgd;
  pgt.ia_bits = va_bits;
  pgt.start_level = start_level;
  pgt.mm_ops = mm_ops;
  pgt.mmu = null;
  pgt.flags = 0;
  return 0;
}

interface HypMapData {
  phys: bigint;
  attr: bigint;
}

function hypMapWalkerTryLeaf(ctx: KvmPgtableVisitCtx, data: HypMapData): boolean {
  const phys = data.phys + (ctx.addr - ctx.start);
  if (!kvm_block_mapping_supported(ctx, phys)) return false;
  const pte = kvm_init_valid_leaf_pte(phys, data.attr, ctx.level);
  if (ctx.old === pte) return true;
  if (!kvm_pte_valid(ctx.old)) {
    ctx.mm_ops.get_page(ctx.ptep);
  } else if ((ctx.old ^ pte) & ~KVM_PTE_LEAF_ATTR_HI_SW) {
    // Only the software bits of a live hyp mapping may change.
    ctx.pgt.warn(`kvm_pgtable_hyp_map: ${hex(ctx.addr)} is already mapped by ${hex(ctx.old)} (level ${ctx.level}), not ${hex(pte)}`);
    return false;
  }
  writePte(ctx.mm_ops, ctx.ptep, pte);
  return true;
}

function hypMapWalker(ctx: KvmPgtableVisitCtx): number {
  const data = ctx.arg as HypMapData;
  if (hypMapWalkerTryLeaf(ctx, data)) return 0;
  if (ctx.level === KVM_PGTABLE_LAST_LEVEL) {
    ctx.pgt.warn(`kvm_pgtable_hyp_map: cannot map ${hex(ctx.addr)} at the last level`);
    return -EINVAL;
  }
  const childp = ctx.mm_ops.zalloc_page(null);
  if (childp === null) return -ENOMEM;
  const pte = kvm_init_table_pte(ctx.mm_ops.virt_to_phys(childp));
  ctx.mm_ops.get_page(ctx.ptep);
  writePte(ctx.mm_ops, ctx.ptep, pte);
  return 0;
}

/**
 * kvm_pgtable_hyp_map: map [addr, addr + size) to phys with a hyp prot (PAGE_HYP,
 * PAGE_HYP_EXEC, PAGE_HYP_RO, PAGE_HYP_DEVICE, plus software bits), using 1 GiB / 2 MiB
 * blocks wherever size and the alignment of both addresses allow.
 */
export function kvm_pgtable_hyp_map(pgt: KvmPgtable, addr: bigint, size: bigint, phys: bigint, prot: bigint): number {
  const { ret, attr } = hyp_set_prot_attr(prot, { bti: pgt.bti });
  if (ret) return ret;
  const data: HypMapData = { phys: alignDown(phys, PAGE_SIZE), attr };
  return kvm_pgtable_walk(pgt, addr, size, { cb: hypMapWalker, flags: KVM_PGTABLE_WALK_LEAF, arg: data });
}

function hypUnmapWalker(ctx: KvmPgtableVisitCtx): number {
  const granule = kvm_granule_size(ctx.level);
  const unmapped = ctx.arg as { bytes: bigint };
  const mm_ops = ctx.mm_ops;
  let childp: bigint | null = null;
  if (!kvm_pte_valid(ctx.old)) return -EINVAL;
  if (kvm_pte_table(ctx.old, ctx.level)) {
    childp = kvm_pte_follow(ctx.old, mm_ops);
    // Only a table left with nothing but its own reference goes away.
    if (mm_ops.page_count!(childp) !== 1) return 0;
    writePte(mm_ops, ctx.ptep, 0n);
    ctx.pgt.tlbi?.('vae2is', ctx.addr >> PAGE_SHIFT);
  } else {
    // A block is never split: unmapping part of one fails.
    if (ctx.end - ctx.addr < granule) return -EINVAL;
    writePte(mm_ops, ctx.ptep, 0n);
    ctx.pgt.tlbi?.('vale2is', ctx.addr >> PAGE_SHIFT);
    unmapped.bytes += granule;
  }
  mm_ops.put_page(ctx.ptep);
  if (childp !== null) mm_ops.put_page(childp);
  return 0;
}

/**
 * kvm_pgtable_hyp_unmap: unmap [addr, addr + size) and free the tables it empties;
 * returns the bytes unmapped. The walk stops at the first hole or partially covered
 * block. Needs a refcounting mm_ops (it returns 0 with the early allocator's).
 */
export function kvm_pgtable_hyp_unmap(pgt: KvmPgtable, addr: bigint, size: bigint): bigint {
  if (!pgt.mm_ops.page_count) return 0n;
  const unmapped = { bytes: 0n };
  kvm_pgtable_walk(pgt, addr, size, { cb: hypUnmapWalker, arg: unmapped, flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST });
  return unmapped.bytes;
}

/** kvm_pgtable_hyp_destroy: drop every reference the table holds and free it. */
export function kvm_pgtable_hyp_destroy(pgt: KvmPgtable): void {
  const ret = kvm_pgtable_walk(pgt, 0n, 1n << BigInt(pgt.ia_bits), {
    flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST,
    cb: (ctx) => {
      if (!kvm_pte_valid(ctx.old)) return 0;
      ctx.mm_ops.put_page(ctx.ptep);
      if (kvm_pte_table(ctx.old, ctx.level)) ctx.mm_ops.put_page(kvm_pte_follow(ctx.old, ctx.mm_ops));
      return 0;
    },
  });
  if (ret) pgt.warn(`kvm_pgtable_hyp_destroy: walk returned ${ret}`);
  pgt.mm_ops.put_page(pgt.pgd);
  pgt.pgd = 0n;
}

/**
 * fix_hyp_pgtable_refcnt (setup.c, Android; V61 does the same inside finalize_host_mappings):
 * the early allocator could not count references, and hyp_pool_init gave every reserved
 * page refcount 1, so take one reference per valid entry on the page that holds it.
 * Run after the pgtable's mm_ops became the pool's (pkvm_pgtable_mm_ops).
 */
export function fix_hyp_pgtable_refcnt(pgt: KvmPgtable): number {
  return kvm_pgtable_walk(pgt, 0n, 1n << BigInt(pgt.ia_bits), {
    flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST,
    arg: pgt.mm_ops,
    cb: (ctx) => {
      if (kvm_pte_valid(ctx.old)) ctx.mm_ops.get_page(ctx.ptep);
      return 0;
    },
  });
}

/**
 * pin_host_tables (setup.c, Android, pkvm-facts §3.2): one extra reference on every table
 * page of the host stage-2 built during init, so that neither coalescing nor
 * reclaim_leaves ever takes them away; only tables made later (by splitting blocks) can go.
 */
export function pin_host_tables(pgt: KvmPgtable): number {
  return kvm_pgtable_walk(pgt, 0n, 1n << BigInt(pgt.ia_bits), {
    flags: KVM_PGTABLE_WALK_TABLE_POST,
    arg: pgt.mm_ops,
    cb: (ctx) => {
      const pte = readPte(ctx.mm_ops, ctx.ptep);
      if (kvm_pte_valid(pte)) ctx.mm_ops.get_page(kvm_pte_follow(pte, ctx.mm_ops));
      return 0;
    },
  });
}

/**
 * A resolver for HypVmemmap that does what the MMU does for the kernel: translate a
 * vmemmap hyp VA through the hyp stage-1 (where hyp_back_vmemmap mapped it).
 */
export function vmemmapResolverFromPgtable(pgt: KvmPgtable): (va: bigint) => bigint {
  return (va) => {
    const { ret, pte, level } = kvm_pgtable_get_leaf(pgt, va);
    if (ret || !kvm_pte_valid(pte)) throw new HypBugError(`hyp vmemmap VA ${hex(va)} is not mapped in the hyp stage-1 (${ret ? `walk ${ret}` : `pte ${hex(pte)}`})`);
    return kvm_pte_to_phys(pte) + (va & (kvm_granule_size(level) - 1n));
  };
}

// ---- stage 2 ------------------------------------------------------------------------------------------------

/** VTCR_EL2 fields (4 KiB granule). */
export const VTCR_EL2_T0SZ_MASK = 0x3fn;
export const VTCR_EL2_SL0_SHIFT = 6n;
export const VTCR_EL2_SL0_MASK = 3n << VTCR_EL2_SL0_SHIFT;
export const VTCR_EL2_IRGN0_WBWA = 1n << 8n;
export const VTCR_EL2_ORGN0_WBWA = 1n << 10n;
export const VTCR_EL2_SH0_INNER = 3n << 12n;
export const VTCR_EL2_TG0_4K = 0n;
export const VTCR_EL2_PS_SHIFT = 16n;
export const VTCR_EL2_VS_16BIT = 1n << 19n;
export const VTCR_EL2_HA = 1n << 21n;
export const VTCR_EL2_RES1 = 1n << 31n;
/** VTCR_EL2_TGRAN_SL0_BASE for 4 KiB pages: start level = 2 − SL0. */
export const VTCR_EL2_TGRAN_SL0_BASE = 2;
export const VTCR_EL2_FLAGS = VTCR_EL2_RES1 | VTCR_EL2_SH0_INNER | VTCR_EL2_ORGN0_WBWA | VTCR_EL2_IRGN0_WBWA | VTCR_EL2_TG0_4K;
/** ID_AA64MMFR0_EL1.PARange capped at 48 bits (PARANGE_MAX with 4 KiB pages, no LPA). */
export const ID_AA64MMFR0_PARANGE_MAX = 5;
const PARANGE_BITS = [32, 36, 40, 42, 44, 48, 52];

/** VTCR_EL2_IPA: the stage-2 input size, 64 − T0SZ. */
export function vtcr_el2_ipa(vtcr: bigint): number {
  return 64 - Number(vtcr & VTCR_EL2_T0SZ_MASK);
}

/** kvm_get_parange: ID_AA64MMFR0_EL1.PARange, capped at PARANGE_MAX. */
export function kvm_get_parange(mmfr0: bigint): number {
  const parange = Number(mmfr0 & 0xfn);
  return Math.min(parange, ID_AA64MMFR0_PARANGE_MAX);
}

/** id_aa64mmfr0_parange_to_phys_shift. */
export function parange_to_phys_shift(parange: number): number {
  const bits = PARANGE_BITS[parange];
  if (bits === undefined) throw new RangeError(`PARange ${parange} is reserved`);
  return bits;
}

/**
 * kvm_get_vtcr (V61, pkvm-facts §5.6): VTCR_EL2 for a stage-2 of phys_shift input bits:
 * RES1, inner-shareable write-back walks, 4 KiB granule, PS from PARange (capped), T0SZ,
 * SL0 for max(2, stage2_pgtable_levels) levels, HA (CONFIG_ARM64_HW_AFDBM) and VS for
 * 16-bit VMIDs (ID_AA64MMFR1_EL1.VMIDBits = 2).
 */
export function kvm_get_vtcr(mmfr0: bigint, mmfr1: bigint, phys_shift: number, opts: { ha?: boolean } = {}): bigint {
  let vtcr = VTCR_EL2_FLAGS;
  vtcr |= BigInt(kvm_get_parange(mmfr0)) << VTCR_EL2_PS_SHIFT;
  vtcr |= BigInt(64 - phys_shift);
  // stage2_pgtable_levels = ARM64_HW_PGTABLE_LEVELS(ipa − 4); at least 2 levels.
  const lvls = Math.max(2, Math.floor((phys_shift - 8) / 9));
  vtcr |= BigInt(VTCR_EL2_TGRAN_SL0_BASE - (4 - lvls)) << VTCR_EL2_SL0_SHIFT;
  if (opts.ha ?? true) vtcr |= VTCR_EL2_HA;
  if (((mmfr1 >> 4n) & 0xfn) === 2n) vtcr |= VTCR_EL2_VS_16BIT;
  return vtcr;
}

/** kvm_pgtable_stage2_pgd_size: bytes of PGD a VTCR needs. */
export function kvm_pgtable_stage2_pgd_size(vtcr: bigint): bigint {
  const ia_bits = vtcr_el2_ipa(vtcr);
  const start_level = VTCR_EL2_TGRAN_SL0_BASE - Number((vtcr & VTCR_EL2_SL0_MASK) >> VTCR_EL2_SL0_SHIFT);
  return BigInt(kvm_pgd_pages(ia_bits, start_level)) * PAGE_SIZE;
}

/**
 * __kvm_pgtable_stage2_init: an empty stage-2 for mmu's VTCR — ia_bits = 64 − T0SZ,
 * start level = 2 − SL0, and a PGD of kvm_pgd_pages pages (concatenated tables when the
 * start level covers more than 9 bits) from mm_ops.zalloc_pages_exact.
 */
export function __kvm_pgtable_stage2_init(
  pgt: KvmPgtable, mmu: KvmS2Mmu, mm_ops: KvmPgtableMmOps, flags: number, pte_ops: KvmPgtablePteOps = stage2V61PteOps(),
): number {
  const vtcr = mmu.vtcr;
  const ia_bits = vtcr_el2_ipa(vtcr);
  const sl0 = Number((vtcr & VTCR_EL2_SL0_MASK) >> VTCR_EL2_SL0_SHIFT);
  const start_level = VTCR_EL2_TGRAN_SL0_BASE - sl0;
  if (start_level < 0 || start_level > KVM_PGTABLE_LAST_LEVEL) return -EINVAL;
  if (!mm_ops.zalloc_pages_exact) throw new HypBugError(`${mm_ops.name}: stage-2 init needs zalloc_pages_exact`);
  const pgd = mm_ops.zalloc_pages_exact(BigInt(kvm_pgd_pages(ia_bits, start_level)) * PAGE_SIZE);
  if (pgd === null) return -ENOMEM;
  pgt.pgd = pgd;
  pgt.ia_bits = ia_bits;
  pgt.start_level = start_level;
  pgt.mm_ops = mm_ops;
  pgt.mmu = mmu;
  pgt.flags = flags;
  pgt.pte_ops = pte_ops;
  return 0;
}

/** kvm_pgtable_stage2_init: the flag-less form. */
export function kvm_pgtable_stage2_init(pgt: KvmPgtable, mmu: KvmS2Mmu, mm_ops: KvmPgtableMmOps, pte_ops?: KvmPgtablePteOps): number {
  return __kvm_pgtable_stage2_init(pgt, mmu, mm_ops, 0, pte_ops);
}

function stage2HasFwb(pgt: KvmPgtable): boolean {
  return pgt.fwb && (pgt.flags & KVM_PGTABLE_S2_NOFWB) === 0;
}

// TLB maintenance as __kvm_tlb_flush_vmid_ipa / __kvm_tlb_flush_vmid do it (for the loaded VMID).
function tlbFlushVmidIpa(pgt: KvmPgtable, ipa: bigint): void {
  if (!pgt.tlbi) return;
  pgt.tlbi('ipas2e1is', ipa >> PAGE_SHIFT);
  pgt.tlbi('vmalle1is', 0n);
}

function tlbFlushVmid(pgt: KvmPgtable): void {
  pgt.tlbi?.('vmalls12e1is', 0n);
}

interface Stage2MapData {
  phys: bigint;
  attr: bigint;
  annotation: bigint;
  memcache: unknown;
  force_pte: boolean;
}

function stage2MapWalkerPhysAddr(ctx: KvmPgtableVisitCtx, data: Stage2MapData): bigint {
  // Ownership walks carry an invalid PA; never offset it back into validity.
  if (!kvm_phys_is_valid(data.phys)) return data.phys;
  return data.phys + (ctx.addr - ctx.start);
}

function stage2LeafMappingAllowed(ctx: KvmPgtableVisitCtx, data: Stage2MapData): boolean {
  if (data.force_pte && ctx.level < KVM_PGTABLE_LAST_LEVEL) return false;
  return kvm_block_mapping_supported(ctx, stage2MapWalkerPhysAddr(ctx, data));
}

function stage2PteNeedsUpdate(pgt: KvmPgtable, old: bigint, pte: bigint): boolean {
  // The permission-only filter is for guests: the host's entries are always rewritten.
  if (pgt.flags & KVM_PGTABLE_S2_IDMAP) return true;
  if (!kvm_pte_valid(old) || !kvm_pte_valid(pte)) return true;
  return ((old ^ pte) & ~KVM_PTE_LEAF_ATTR_S2_PERMS) !== 0n;
}

/** stage2_try_break_pte: invalidate an entry (break-before-make), flush the TLB, drop its reference. */
function stage2TryBreakPte(ctx: KvmPgtableVisitCtx): boolean {
  const pgt = ctx.pgt;
  if (!kvm_pte_valid(ctx.old) && (ctx.old & KVM_INVALID_PTE_LOCKED) !== 0n) {
    pgt.warn(`stage2_try_break_pte: ${hex(ctx.addr)} is locked`);
    return false;
  }
  writePte(ctx.mm_ops, ctx.ptep, KVM_INVALID_PTE_LOCKED);
  if (kvm_pte_table(ctx.old, ctx.level)) tlbFlushVmid(pgt);
  else if (kvm_pte_valid(ctx.old)) tlbFlushVmidIpa(pgt, ctx.addr);
  if (ctx.pte_ops.pte_is_counted_cb(ctx.old, ctx.level)) ctx.mm_ops.put_page(ctx.ptep);
  return true;
}

/** stage2_make_pte: install the new entry, taking a reference if it is counted. */
function stage2MakePte(ctx: KvmPgtableVisitCtx, pte: bigint): void {
  if (ctx.pte_ops.pte_is_counted_cb(pte, ctx.level)) ctx.mm_ops.get_page(ctx.ptep);
  writePte(ctx.mm_ops, ctx.ptep, pte);
}

function stage2MapWalkerTryLeaf(ctx: KvmPgtableVisitCtx, data: Stage2MapData): number {
  const phys = stage2MapWalkerPhysAddr(ctx, data);
  const pgt = ctx.pgt;
  if (!stage2LeafMappingAllowed(ctx, data)) return -E2BIG;
  const pte = kvm_phys_is_valid(phys) ? kvm_init_valid_leaf_pte(phys, data.attr, ctx.level) : data.annotation;
  const oldIsCounted = ctx.pte_ops.pte_is_counted_cb(ctx.old, ctx.level);
  if (oldIsCounted && !stage2PteNeedsUpdate(pgt, ctx.old, pte)) return -EAGAIN;
  // Only software bits change (or nothing): rewrite in place, fixing the count.
  if (((ctx.old ^ pte) & ~KVM_PTE_LEAF_ATTR_HI_SW) === 0n) {
    const newIsCounted = ctx.pte_ops.pte_is_counted_cb(pte, ctx.level);
    if (oldIsCounted !== newIsCounted) {
      if (oldIsCounted) ctx.mm_ops.put_page(ctx.ptep);
      else ctx.mm_ops.get_page(ctx.ptep);
    }
    writePte(ctx.mm_ops, ctx.ptep, pte);
    return 0;
  }
  if (!stage2TryBreakPte(ctx)) return -EAGAIN;
  // (Cache maintenance for guest mappings is not modelled: the host's mm_ops has none.)
  stage2MakePte(ctx, pte);
  return 0;
}

function stage2FreeUnlinkedTable(ctx: KvmPgtableVisitCtx, childp: bigint): void {
  if (ctx.mm_ops.free_unlinked_table) ctx.mm_ops.free_unlinked_table(childp, ctx.level);
  else kvm_pgtable_stage2_free_unlinked(ctx.pgt, ctx.mm_ops, ctx.pte_ops, childp, ctx.level);
}

function stage2MapWalkTablePre(ctx: KvmPgtableVisitCtx, data: Stage2MapData): number {
  const childp = kvm_pte_follow(ctx.old, ctx.mm_ops);
  // A table that a single leaf could replace: replace it, then free what hung below.
  if (!stage2LeafMappingAllowed(ctx, data)) return 0;
  const ret = stage2MapWalkerTryLeaf(ctx, data);
  if (ret) return ret;
  stage2FreeUnlinkedTable(ctx, childp);
  return 0;
}

/** stage2_map_prefault_block (Android): fill a new table with the parts of the block being split. */
function stage2MapPrefaultBlock(ctx: KvmPgtableVisitCtx, childp: bigint): void {
  const block = ctx.old;
  if (!kvm_pte_valid(block)) return;
  const granule = kvm_granule_size(ctx.level + 1);
  const counted = ctx.pte_ops.pte_is_counted_cb(block, ctx.level + 1);
  let pa = kvm_pte_to_phys(block);
  for (let i = 0; i < PTRS_PER_PTE; i++, pa += granule) {
    const ptep = childp + BigInt(i * 8);
    const pte = kvm_init_valid_leaf_pte(pa, block, ctx.level + 1);
    // Pages the caller is about to map are left for the walk; blocks are refilled and re-broken.
    if (ctx.level < KVM_PGTABLE_MAX_LEVELS - 2 || pa < ctx.addr || pa >= ctx.end) {
      writePte(ctx.mm_ops, ptep, pte);
      if (counted) ctx.mm_ops.get_page(ptep);
    }
  }
}

function stage2MapWalkLeaf(ctx: KvmPgtableVisitCtx, data: Stage2MapData): number {
  const ret = stage2MapWalkerTryLeaf(ctx, data);
  if (ret !== -E2BIG) return ret;
  if (ctx.level === KVM_PGTABLE_LAST_LEVEL) {
    ctx.pgt.warn(`stage2 map: no leaf possible at ${hex(ctx.addr)} level ${ctx.level}`);
    return -EINVAL;
  }
  if (data.memcache === null || data.memcache === undefined) return -ENOMEM;
  const childp = ctx.mm_ops.zalloc_page(data.memcache);
  if (childp === null) return -ENOMEM;
  if (ctx.pgt.flags & KVM_PGTABLE_S2_PREFAULT_BLOCK) stage2MapPrefaultBlock(ctx, childp);
  if (!stage2TryBreakPte(ctx)) {
    ctx.mm_ops.put_page(childp);
    return -EAGAIN;
  }
  // An existing block becomes a table; without PREFAULT_BLOCK the rest of it is faulted back lazily.
  stage2MakePte(ctx, kvm_init_table_pte(ctx.mm_ops.virt_to_phys(childp)));
  return 0;
}

/** stage2_coalesce_walk_table_post (Android, after init): a table holding nothing counted becomes one block again. */
function stage2CoalesceWalkTablePost(ctx: KvmPgtableVisitCtx, data: Stage2MapData): number {
  const pgt = ctx.pgt;
  if (!pgt.protectedModeInitialized) return 0;
  const childp = kvm_pte_follow(ctx.old, ctx.mm_ops);
  if (!kvm_phys_is_valid(data.phys) || !kvm_level_supports_block_mapping(ctx.level) || ctx.mm_ops.page_count!(childp) !== 1) return 0;
  if (!(pgt.flags & KVM_PGTABLE_S2_IDMAP)) pgt.warn('stage2 coalescing outside the host stage-2');
  const size = kvm_granule_size(ctx.level);
  const addr = alignDown(ctx.addr, size);
  const pte = kvm_init_valid_leaf_pte(addr, data.attr, ctx.level);
  if (!stage2TryBreakPte(ctx)) pgt.warn(`stage2 coalescing: could not break ${hex(addr)}`);
  stage2MakePte(ctx, pte);
  ctx.mm_ops.put_page(childp);
  return 0;
}

function stage2MapWalker(ctx: KvmPgtableVisitCtx, visitKind: number): number {
  const data = ctx.arg as Stage2MapData;
  switch (visitKind) {
    case KVM_PGTABLE_WALK_TABLE_PRE: return stage2MapWalkTablePre(ctx, data);
    case KVM_PGTABLE_WALK_LEAF: return stage2MapWalkLeaf(ctx, data);
    case KVM_PGTABLE_WALK_TABLE_POST: return stage2CoalesceWalkTablePost(ctx, data);
    default: return -EINVAL;
  }
}

/**
 * kvm_pgtable_stage2_map: map [addr, addr + size) to phys with a stage-2 prot
 * (KVM_PGTABLE_PROT_R/W/X/DEVICE plus software bits), with blocks where allowed unless
 * pte_ops.force_pte_cb asks for pages. New tables come from mm_ops.zalloc_page(mc); no
 * memcache is −ENOMEM. An IDMAP table refuses addr ≠ phys.
 */
export function kvm_pgtable_stage2_map(pgt: KvmPgtable, addr: bigint, size: bigint, phys: bigint, prot: bigint, mc: unknown, flags = 0): number {
  const force_pte = pgt.pte_ops.force_pte_cb?.(addr, addr + size, prot) ?? false;
  if ((pgt.flags & KVM_PGTABLE_S2_IDMAP) && addr !== phys) {
    pgt.warn(`kvm_pgtable_stage2_map: identity-mapped table asked to map ${hex(addr)} to ${hex(phys)}`);
    return -EINVAL;
  }
  const { ret, attr } = stage2_set_prot_attr(prot, stage2HasFwb(pgt));
  if (ret) return ret;
  const data: Stage2MapData = { phys: alignDown(phys, PAGE_SIZE), attr, annotation: 0n, memcache: mc, force_pte };
  return kvm_pgtable_walk(pgt, addr, size, {
    cb: stage2MapWalker, arg: data,
    flags: flags | KVM_PGTABLE_WALK_TABLE_PRE | KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST,
  });
}

/**
 * kvm_pgtable_stage2_annotate (Android): make [addr, addr + size) invalid entries holding
 * `annotation`, page by page (blocks in the way are split).
 */
export function kvm_pgtable_stage2_annotate(pgt: KvmPgtable, addr: bigint, size: bigint, mc: unknown, annotation: bigint): number {
  if (kvm_pte_valid(annotation)) return -EINVAL;
  const data: Stage2MapData = { phys: KVM_PHYS_INVALID, attr: 0n, annotation, memcache: mc, force_pte: true };
  return kvm_pgtable_walk(pgt, addr, size, { cb: stage2MapWalker, arg: data, flags: KVM_PGTABLE_WALK_TABLE_PRE | KVM_PGTABLE_WALK_LEAF });
}

/**
 * kvm_pgtable_stage2_set_owner (V61): annotate [addr, addr + size) as owned by owner_id
 * (bits [9:2] of invalid entries; the hyp's pages read 0x4 in the host stage-2).
 * Owner 0 (the table's owner) clears the entries.
 */
export function kvm_pgtable_stage2_set_owner(pgt: KvmPgtable, addr: bigint, size: bigint, mc: unknown, owner_id: number): number {
  if (owner_id < 0 || owner_id > pgt.maxOwnerId) return -EINVAL;
  return kvm_pgtable_stage2_annotate(pgt, addr, size, mc, kvm_init_invalid_leaf_owner(owner_id));
}

function stage2FreeWalker(ctx: KvmPgtableVisitCtx): number {
  if (!ctx.pte_ops.pte_is_counted_cb(ctx.old, ctx.level)) return 0;
  ctx.mm_ops.put_page(ctx.ptep);
  if (kvm_pte_table(ctx.old, ctx.level)) ctx.mm_ops.put_page(kvm_pte_follow(ctx.old, ctx.mm_ops));
  return 0;
}

/** kvm_pgtable_stage2_free_unlinked: drop the references of a detached table tree and free it. */
export function kvm_pgtable_stage2_free_unlinked(
  pgt: KvmPgtable, mm_ops: KvmPgtableMmOps, pte_ops: KvmPgtablePteOps, pgtable: bigint, level: number,
): void {
  const data: WalkData = {
    walker: { cb: stage2FreeWalker, flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST },
    start: 0n, addr: 0n, end: kvm_granule_size(level),
  };
  const ret = walkLevel(data, pgt, mm_ops, pte_ops, pgtable, level + 1);
  if (ret) pgt.warn(`kvm_pgtable_stage2_free_unlinked: walk returned ${ret}`);
  if (mm_ops.page_count && mm_ops.page_count(pgtable) !== 1) pgt.warn(`kvm_pgtable_stage2_free_unlinked: table ${hex(pgtable)} still has ${mm_ops.page_count(pgtable)} references`);
  mm_ops.put_page(pgtable);
}

function stage2UnmapWalker(ctx: KvmPgtableVisitCtx): number {
  const mm_ops = ctx.mm_ops;
  const counted = ctx.pte_ops.pte_is_counted_cb(ctx.old, ctx.level);
  let childp: bigint | null = null;
  if (!kvm_pte_valid(ctx.old)) {
    // An ownership annotation goes away too.
    if (counted) {
      writePte(mm_ops, ctx.ptep, 0n);
      mm_ops.put_page(ctx.ptep);
    }
    return 0;
  }
  if (kvm_pte_table(ctx.old, ctx.level)) {
    childp = kvm_pte_follow(ctx.old, mm_ops);
    if (mm_ops.page_count!(childp) !== 1) return 0;
  }
  // A block is removed whole, even when the range covers part of it: the rest faults back lazily.
  writePte(mm_ops, ctx.ptep, 0n);
  tlbFlushVmidIpa(ctx.pgt, ctx.addr);
  if (counted) mm_ops.put_page(ctx.ptep);
  if (childp !== null) mm_ops.put_page(childp);
  return 0;
}

/**
 * kvm_pgtable_stage2_unmap: remove the mappings and annotations in [addr, addr + size)
 * (whole blocks), and the tables that end up empty. V61's host uses it to recycle MMIO
 * mappings; Android refuses it on the host stage-2 when default mappings are not counted
 * (a table at refcount 1 may still map something there), and so does the model.
 */
export function kvm_pgtable_stage2_unmap(pgt: KvmPgtable, addr: bigint, size: bigint): number {
  if ((pgt.flags & KVM_PGTABLE_S2_IDMAP) && pgt.pte_ops.pte_is_counted_cb !== stage2_pte_is_counted) {
    pgt.warn('kvm_pgtable_stage2_unmap on a host stage-2 whose default mappings are not counted');
    return -EINVAL;
  }
  return kvm_pgtable_walk(pgt, addr, size, { cb: stage2UnmapWalker, arg: pgt, flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST });
}

/**
 * kvm_pgtable_stage2_reclaim_leaves (Android): drop last-level-ish tables that hold no
 * counted entry (their mappings can be rebuilt on demand), to give pages back.
 */
export function kvm_pgtable_stage2_reclaim_leaves(pgt: KvmPgtable, addr: bigint, size: bigint): number {
  return kvm_pgtable_walk(pgt, addr, size, {
    flags: KVM_PGTABLE_WALK_TABLE_POST,
    cb: (ctx) => {
      const childp = kvm_pte_follow(ctx.old, ctx.mm_ops);
      if (!kvm_level_supports_block_mapping(ctx.level) || ctx.mm_ops.page_count!(childp) !== 1) return 0;
      writePte(ctx.mm_ops, ctx.ptep, 0n);
      tlbFlushVmid(ctx.pgt);
      ctx.mm_ops.put_page(ctx.ptep);
      ctx.mm_ops.put_page(childp);
      return 0;
    },
  });
}

/** kvm_pgtable_stage2_destroy: drop every reference, free the tables and the PGD. */
export function kvm_pgtable_stage2_destroy(pgt: KvmPgtable): void {
  const ret = kvm_pgtable_walk(pgt, 0n, 1n << BigInt(pgt.ia_bits), { cb: stage2FreeWalker, flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST });
  if (ret) pgt.warn(`kvm_pgtable_stage2_destroy: walk returned ${ret}`);
  const size = BigInt(kvm_pgd_pages(pgt.ia_bits, pgt.start_level)) * PAGE_SIZE;
  if (pgt.mm_ops.free_pages_exact) pgt.mm_ops.free_pages_exact(pgt.pgd, size);
  pgt.pgd = 0n;
}

// ---- summaries (for reports) ----------------------------------------------------------------------------------

/** A run of leaf entries with the same level and attributes, mapping contiguously (or carrying the same annotation). */
export interface PgtableRange {
  /** Input range [start, end): hyp VA for the hyp stage-1, IPA for a stage-2. */
  start: bigint;
  end: bigint;
  level: number;
  /** Number of leaf entries merged. */
  entries: number;
  /** The first entry. */
  pte: bigint;
  /** Output PA of `start`, for valid entries. */
  pa: bigint | null;
  /** The prot the leaf grants (kvm_pgtable_{hyp,stage2}_pte_prot), for valid entries. */
  prot: bigint | null;
  /** Device memory (MAIR index 4 at stage 1, MemAttr Device at stage 2), for valid entries. */
  device: boolean;
  /** Owner id of an annotated invalid entry, else null. */
  owner: number | null;
}

/**
 * The leaves of a table as merged ranges: valid mappings (with PA, prot, device) and
 * ownership annotations; empty entries are left out.
 */
export function describeKvmPgtable(pgt: KvmPgtable): PgtableRange[] {
  const stage2 = pgt.mmu !== null;
  const out: PgtableRange[] = [];
  kvm_pgtable_walk(pgt, 0n, 1n << BigInt(pgt.ia_bits), {
    flags: KVM_PGTABLE_WALK_LEAF,
    cb: (ctx) => {
      const pte = ctx.old;
      if (pte === 0n) return 0;
      const granule = kvm_granule_size(ctx.level);
      const start = alignDown(ctx.addr, granule);
      const valid = kvm_pte_valid(pte);
      const pa = valid ? kvm_pte_to_phys(pte) : null;
      const last = out[out.length - 1];
      const attrs = pte & (KVM_PTE_LEAF_ATTR_LO | KVM_PTE_LEAF_ATTR_HI);
      if (last && last.end === start && last.level === ctx.level && (last.pa === null) === !valid
        && (valid ? (last.pte & (KVM_PTE_LEAF_ATTR_LO | KVM_PTE_LEAF_ATTR_HI)) === attrs && last.pa! + (start - last.start) === pa : last.pte === pte)) {
        last.end = start + granule;
        last.entries++;
        return 0;
      }
      const device = valid && (stage2
        ? (pte & KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR) === kvm_s2_memattr(true, stage2HasFwb(pgt))
        : ((pte & KVM_PTE_LEAF_ATTR_LO_S1_ATTRIDX) >> 2n) === BigInt(MT_DEVICE_nGnRE));
      out.push({
        start, end: start + granule, level: ctx.level, entries: 1, pte, pa,
        prot: valid ? (stage2 ? kvm_pgtable_stage2_pte_prot(pte) : kvm_pgtable_hyp_pte_prot(pte)) : null,
        device, owner: valid ? null : kvm_invalid_pte_owner(pte),
      });
      return 0;
    },
  });
  return out;
}

/** One line per range: "0x40000000..0x50000000 L2 ×128 → 0x40000000 RWX" or "… owner hyp". */
export function formatPgtableRanges(ranges: readonly PgtableRange[]): string[] {
  return ranges.map((r) => {
    const head = `${hex(r.start)}..${hex(r.end)} L${r.level}${r.entries > 1 ? ` ×${r.entries}` : ''}`;
    if (r.pa === null) return `${head} invalid, ${r.owner === null ? hex(r.pte) : `owner ${ownerName(r.owner)} (${hex(r.pte)})`}`;
    return `${head} → ${hex(r.pa)} ${formatProt(r.prot!)}${r.device ? ' device' : ''}`;
  });
}
