/**
 * The hypervisor's buddy allocator, `struct hyp_pool` (kvm/hyp/nvhe/page_alloc.c and
 * include/nvhe/gfp.h, V61; pkvm-facts §3.2): a power-of-two buddy system over a physical
 * range whose per-page metadata is the `struct hyp_page` array of the hyp vmemmap — in
 * emulated memory (HypVmemmap) — with, for each page:
 *
 * - `refcount`: 0 = free (on a free list or covered by a free block), ≥ 1 = in use;
 * - `order`: for the head of a free or allocated block, its order; HYP_NO_ORDER for the
 *   other pages of a free block.
 *
 * Free blocks sit on `free_area[order]` lists. The kernel threads those lists through the
 * free pages themselves (a list_head in the first bytes of each block); the model keeps
 * the lists here, in insertion order (list_add_tail, and allocation takes the first node),
 * and keeps the pages zero, which is what the kernel's pages are once the node is removed.
 * Freed blocks are zeroed in memory (`__hyp_attach_page` memsets them) and coalesced with
 * their buddies while the buddy is free, of the same order, and inside the pool range.
 *
 * Allocation failure is `null`, as the kernel's NULL; `hyp_alloc_pages_or_throw` gives a
 * clear error for callers that cannot go on.
 */
import {
  HypBugError, HypMemory, HypVmemmap, PAGE_SHIFT, PAGE_SIZE, get_order, hex,
} from './hyp-memory.js';

/** MAX_ORDER in 6.1 with 4 KiB pages: free_area[0..10], blocks of up to 4 MiB. */
export const MAX_ORDER = 11;

export class HypPoolExhaustedError extends Error {
  override name = 'HypPoolExhaustedError';
}

export class HypPool {
  /** free_area[order]: pfns of free block heads, oldest first. */
  readonly free_area: Set<number>[] = [];
  range_start = 0n;
  range_end = 0n;
  max_order = 0;

  constructor(
    /** The EL2 globals: memory and the linear map (hyp VA ↔ PA). */
    readonly hyp: HypMemory,
    /** hyp_vmemmap, where this pool's struct hyp_page entries live. */
    readonly vmemmap: HypVmemmap,
    /** A label for messages ("hpool", "host_s2_pool"). */
    readonly name = 'hyp_pool',
  ) {}

  /** Number of free pages (sum over the free lists). */
  freePages(): number {
    let n = 0;
    for (let order = 0; order < this.free_area.length; order++) n += this.free_area[order]!.size << order;
    return n;
  }

  /** The free lists as [order, [PAs of block heads]] (for tests and reports). */
  freeLists(): bigint[][] {
    return this.free_area.map((list) => [...list].map((pfn) => HypMemory.pfn_to_phys(pfn)));
  }

  /** Whether pfn lies inside [range_start, range_end). */
  inRange(pfn: number): boolean {
    const phys = HypMemory.pfn_to_phys(pfn);
    return phys >= this.range_start && phys < this.range_end;
  }
}

// ---- page_alloc.c -------------------------------------------------------------------------------

/** __find_buddy_nocheck: the buddy of order `order`, or null when it falls outside the pool. */
function findBuddyNocheck(pool: HypPool, pfn: number, order: number): number | null {
  const addr = HypMemory.pfn_to_phys(pfn) ^ (PAGE_SIZE << BigInt(order));
  // A page outside the pool belongs to something else and may not even have a vmemmap entry.
  if (addr < pool.range_start || addr >= pool.range_end) return null;
  return HypMemory.phys_to_pfn(addr);
}

/** __find_buddy_avail: the buddy if it is a free block of exactly `order`. */
function findBuddyAvail(pool: HypPool, pfn: number, order: number): number | null {
  const buddy = findBuddyNocheck(pool, pfn, order);
  if (buddy === null) return null;
  const vm = pool.vmemmap;
  if (vm.order(buddy) !== order || vm.refcount(buddy) !== 0) return null;
  return buddy;
}

function pageRemoveFromList(pool: HypPool, pfn: number, order: number): void {
  if (!pool.free_area[order]!.delete(pfn)) {
    throw new HypBugError(`${pool.name}: pfn ${hex(pfn)} is not on free_area[${order}]`);
  }
}

/** __hyp_attach_page: zero the freed block, coalesce with free buddies, put it on a free list. */
function hypAttachPage(pool: HypPool, pfn: number): void {
  const vm = pool.vmemmap;
  let order = vm.order(pfn);
  if (order === vm.layout.noOrder || order >= MAX_ORDER) throw new HypBugError(`${pool.name}: freeing pfn ${hex(pfn)} with order ${order}`);
  pool.hyp.mem.zero(HypMemory.pfn_to_phys(pfn), PAGE_SIZE << BigInt(order));

  // 'External' pages freed into the pool are not coalesced (their buddies may not exist).
  if (pool.inRange(pfn)) {
    // Only the head of a block carries its order; @p may stop being the head while coalescing.
    vm.setOrder(pfn, vm.layout.noOrder);
    for (; order + 1 < pool.max_order; order++) {
      const buddy = findBuddyAvail(pool, pfn, order);
      if (buddy === null) break;
      pageRemoveFromList(pool, buddy, order);
      vm.setOrder(buddy, vm.layout.noOrder);
      pfn = Math.min(pfn, buddy);
    }
  }
  vm.setOrder(pfn, order);
  if (!pool.free_area[order]) throw new HypBugError(`${pool.name}: no free_area[${order}] (max_order ${pool.max_order})`);
  pool.free_area[order]!.add(pfn);
}

/** __hyp_extract_page: take a free block off its list, splitting it down to `order`. */
function hypExtractPage(pool: HypPool, pfn: number, order: number): number {
  const vm = pool.vmemmap;
  let cur = vm.order(pfn);
  pageRemoveFromList(pool, pfn, cur);
  while (cur > order) {
    // The upper half of the block (HYP_NO_ORDER so far) becomes a free block of order n − 1.
    cur--;
    vm.setOrder(pfn, cur);
    const buddy = findBuddyNocheck(pool, pfn, cur);
    if (buddy === null) throw new HypBugError(`${pool.name}: splitting pfn ${hex(pfn)} found no buddy at order ${cur}`);
    vm.setOrder(buddy, cur);
    pool.free_area[cur]!.add(buddy);
  }
  return pfn;
}

function hypPutPageByPfn(pool: HypPool, pfn: number): void {
  if (pool.vmemmap.refDecAndTest(pfn)) hypAttachPage(pool, pfn);
}

/** The pfn behind a hyp VA (hyp_virt_to_page). */
function virtToPfn(pool: HypPool, addr: bigint): number {
  return HypMemory.phys_to_pfn(pool.hyp.virt_to_phys(addr));
}

/** hyp_put_page: drop a reference; at zero the page goes back to the buddy lists. */
export function hyp_put_page(pool: HypPool, addr: bigint): void {
  hypPutPageByPfn(pool, virtToPfn(pool, addr));
}

/** hyp_get_page: take a reference on an allocated page. */
export function hyp_get_page(pool: HypPool, addr: bigint): void {
  pool.vmemmap.refInc(virtToPfn(pool, addr));
}

/** hyp_page_count: the refcount of the page holding `addr` (a hyp VA). */
export function hyp_page_count(hyp: HypMemory, vmemmap: HypVmemmap, addr: bigint): number {
  return vmemmap.refcount(HypMemory.phys_to_pfn(hyp.virt_to_phys(addr)));
}

/**
 * hyp_split_page: turn an allocated block of order n into 2^n order-0 pages, each with
 * its own reference, so they can be freed one by one.
 */
export function hyp_split_page(pool: HypPool, addr: bigint): void {
  const vm = pool.vmemmap;
  const pfn = virtToPfn(pool, addr);
  const order = vm.order(pfn);
  vm.setOrder(pfn, 0);
  for (let i = 1; i < 1 << order; i++) {
    vm.setOrder(pfn + i, 0);
    vm.setPageRefcounted(pfn + i);
  }
}

/**
 * hyp_alloc_pages: a zeroed block of 2^order pages (its hyp VA) with refcount 1, or null
 * when no free block of at least that order exists.
 */
export function hyp_alloc_pages(pool: HypPool, order: number): bigint | null {
  let i = order;
  while (i < pool.max_order && pool.free_area[i]!.size === 0) i++;
  if (i >= pool.max_order) return null;
  const head = pool.free_area[i]!.values().next().value as number;
  const pfn = hypExtractPage(pool, head, order);
  pool.vmemmap.setPageRefcounted(pfn);
  return pool.hyp.phys_to_virt(HypMemory.pfn_to_phys(pfn));
}

/** hyp_alloc_pages, but exhaustion is an error naming the pool and what is left. */
export function hyp_alloc_pages_or_throw(pool: HypPool, order: number): bigint {
  const va = hyp_alloc_pages(pool, order);
  if (va === null) {
    throw new HypPoolExhaustedError(
      `${pool.name} exhausted: no free block of order ${order} (${(PAGE_SIZE << BigInt(order)) / 1024n} KiB); ` +
      `${pool.freePages()} of ${(pool.range_end - pool.range_start) >> PAGE_SHIFT} pages free in ${hex(pool.range_start)}..${hex(pool.range_end)}` +
      (order >= pool.max_order ? `, and the pool's largest order is ${pool.max_order - 1}` : ''),
    );
  }
  return va;
}

/**
 * hyp_pool_init: a pool over nr_pages pages from pfn. Every vmemmap entry gets order 0 and
 * refcount 1; the first `reserved_pages` keep that reference (they are in use, e.g. the
 * page tables the early allocator built) and the rest are released into the buddy lists.
 * max_order = min(MAX_ORDER, get_order((nr_pages + 1) << PAGE_SHIFT)).
 */
export function hyp_pool_init(pool: HypPool, pfn: number, nr_pages: number, reserved_pages: number): number {
  if (reserved_pages > nr_pages) throw new HypBugError(`${pool.name}: ${reserved_pages} reserved pages in a pool of ${nr_pages}`);
  const phys = HypMemory.pfn_to_phys(pfn);
  pool.max_order = Math.min(MAX_ORDER, get_order(BigInt(nr_pages + 1) << PAGE_SHIFT));
  pool.free_area.length = 0;
  for (let i = 0; i < pool.max_order; i++) pool.free_area.push(new Set());
  pool.range_start = phys;
  pool.range_end = phys + (BigInt(nr_pages) << PAGE_SHIFT);

  const vm = pool.vmemmap;
  for (let i = 0; i < nr_pages; i++) {
    vm.setOrder(pfn + i, 0);
    vm.setPageRefcounted(pfn + i);
  }
  for (let i = reserved_pages; i < nr_pages; i++) hypPutPageByPfn(pool, pfn + i);
  return 0;
}
