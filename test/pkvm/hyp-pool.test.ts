/**
 * The hyp allocators: the buddy allocator hyp_pool with its struct hyp_page entries in
 * the emulated vmemmap (splitting, coalescing, refcounts, reserved pages, exhaustion),
 * and the early bump allocator.
 */
import { describe, expect, it } from 'vitest';
import { createVirtMachine } from '../../src/machine/virt.js';
import {
  HYP_PAGE_LAYOUT_ANDROID, HYP_PAGE_LAYOUT_V61, HypBugError, HypMemory, HypVmemmap, get_order, physMemOf, type HypPageLayout,
} from '../../src/pkvm/hyp-memory.js';
import {
  HypPool, HypPoolExhaustedError, MAX_ORDER, hyp_alloc_pages, hyp_alloc_pages_or_throw, hyp_get_page, hyp_page_count,
  hyp_pool_init, hyp_put_page, hyp_split_page,
} from '../../src/pkvm/hyp-pool.js';
import {
  hyp_early_alloc_contig, hyp_early_alloc_init, hyp_early_alloc_nr_used_pages, hyp_early_alloc_page,
} from '../../src/pkvm/early-alloc.js';
import { host_s2_mm_ops, host_s2_zalloc_pages_exact, pkvm_pgtable_mm_ops } from '../../src/pkvm/mm-ops.js';

const RAM = 0x4000_0000n;
const VMEMMAP = 0x6000_0000_0000n; // __hyp_vmemmap for RAM below 2^46 (pkvm-facts §5.7)
const POOL = RAM + 0x0020_0000n; // 2 MiB aligned, so buddies line up
const VMEMMAP_BACKING = RAM + 0x0010_0000n;
const PAGE = 0x1000n;
const pfnOf = (pa: bigint): number => Number(pa >> 12n);

function setup(opts: { offset?: bigint; layout?: HypPageLayout } = {}) {
  const machine = createVirtMachine({ ramSize: 64 * 1024 * 1024 });
  const mem = physMemOf(machine.memory);
  const hyp = new HypMemory(mem, opts.offset ?? 0n);
  // vmemmap entries for [RAM, RAM + 64 MiB) backed linearly at VMEMMAP_BACKING.
  const vmemmap = HypVmemmap.linear(mem, VMEMMAP, pfnOf(RAM), VMEMMAP_BACKING, opts.layout);
  const pool = new HypPool(hyp, vmemmap, 'hpool');
  return { machine, mem, hyp, vmemmap, pool };
}

/** Reads struct hyp_page for pa straight from RAM (V61 layout: u16 refcount, u16 order). */
function rawEntry(s: ReturnType<typeof setup>, pa: bigint): { refcount: number; order: number } {
  const at = Number(VMEMMAP_BACKING + (pa - RAM) / PAGE * 4n);
  const m = s.machine.memory;
  return { refcount: m.read16(at), order: m.read16(at + 2) };
}

describe('hyp_pool_init', () => {
  it('puts a 16-page aligned pool on one order-4 list and writes the vmemmap entries in RAM', () => {
    const s = setup();
    expect(hyp_pool_init(s.pool, pfnOf(POOL), 16, 0)).toBe(0);
    // max_order = min(MAX_ORDER, get_order(17 pages)) = 5: lists 0..4.
    expect(s.pool.max_order).toBe(5);
    expect(s.pool.freeLists()).toEqual([[], [], [], [], [POOL]]);
    expect(s.pool.freePages()).toBe(16);
    // The head keeps the order, the others HYP_NO_ORDER (0xffff in 6.1); all refcounts 0.
    expect(rawEntry(s, POOL)).toEqual({ refcount: 0, order: 4 });
    expect(rawEntry(s, POOL + PAGE)).toEqual({ refcount: 0, order: 0xffff });
    expect(rawEntry(s, POOL + 15n * PAGE)).toEqual({ refcount: 0, order: 0xffff });
    // The entry for POOL sits at __hyp_vmemmap + pfn × 4.
    expect(s.vmemmap.entryVa(pfnOf(POOL))).toBe(VMEMMAP + (POOL >> 12n) * 4n);
  });

  it('keeps reserved pages in use and frees the rest into the largest blocks that fit', () => {
    const s = setup();
    hyp_pool_init(s.pool, pfnOf(POOL), 16, 3);
    for (let i = 0n; i < 3n; i++) expect(rawEntry(s, POOL + i * PAGE)).toEqual({ refcount: 1, order: 0 });
    // Page 3 alone, 4-7 as order 2, 8-15 as order 3.
    expect(s.pool.freeLists()).toEqual([[POOL + 3n * PAGE], [], [POOL + 4n * PAGE], [POOL + 8n * PAGE], []]);
    expect(s.pool.freePages()).toBe(13);
  });

  it('never coalesces across the pool boundary (unaligned pool)', () => {
    const s = setup();
    // 6 pages from an odd pfn: [1], [2,3]… pages never merge with buddies outside the range.
    const base = POOL + PAGE;
    hyp_pool_init(s.pool, pfnOf(base), 6, 0);
    // pfns p+1..p+6 (p 2 MiB-aligned): p+1 alone, p+2..p+3 order 1, p+4..p+6 → p+4..5 order 1 + p+6 order 0.
    expect(s.pool.freeLists()).toEqual([[POOL + PAGE, POOL + 6n * PAGE], [POOL + 2n * PAGE, POOL + 4n * PAGE], []]);
    expect(s.pool.freePages()).toBe(6);
  });

  it('caps max_order at MAX_ORDER for large pools', () => {
    const s = setup();
    hyp_pool_init(s.pool, pfnOf(POOL), 4096, 0);
    expect(s.pool.max_order).toBe(MAX_ORDER);
    // 16 MiB from a 2 MiB (not 4 MiB) aligned base: 2 MiB + 3 × 4 MiB + 2 MiB.
    expect(s.pool.free_area[10]!.size).toBe(3);
    expect(s.pool.freeLists()[9]).toEqual([POOL, POOL + 0xe0_0000n]);
  });
});

describe('hyp_alloc_pages / hyp_put_page', () => {
  it('splits a block down to the order asked for and coalesces it back when freed', () => {
    const s = setup();
    hyp_pool_init(s.pool, pfnOf(POOL), 16, 0);
    const a = hyp_alloc_pages(s.pool, 0)!;
    expect(a).toBe(POOL);
    expect(rawEntry(s, POOL)).toEqual({ refcount: 1, order: 0 });
    // The halves split off on the way down: POOL+1 (o0), +2 (o1), +4 (o2), +8 (o3).
    expect(s.pool.freeLists()).toEqual([[POOL + PAGE], [POOL + 2n * PAGE], [POOL + 4n * PAGE], [POOL + 8n * PAGE], []]);
    const b = hyp_alloc_pages(s.pool, 2)!;
    expect(b).toBe(POOL + 4n * PAGE);
    expect(rawEntry(s, b)).toEqual({ refcount: 1, order: 2 });
    hyp_put_page(s.pool, a);
    // POOL merges with POOL+1, then with POOL+2..3; its order-2 buddy (b) is still in use.
    expect(s.pool.freeLists()).toEqual([[], [], [POOL], [POOL + 8n * PAGE], []]);
    expect(rawEntry(s, POOL)).toEqual({ refcount: 0, order: 2 });
    expect(rawEntry(s, POOL + PAGE)).toEqual({ refcount: 0, order: 0xffff });
    hyp_put_page(s.pool, b);
    expect(s.pool.freeLists()).toEqual([[], [], [], [], [POOL]]);
    expect(s.pool.freePages()).toBe(16);
  });

  it('hands out zeroed pages: freed pages are zeroed in memory', () => {
    const s = setup();
    hyp_pool_init(s.pool, pfnOf(POOL), 4, 0);
    const a = hyp_alloc_pages(s.pool, 1)!;
    s.mem.write64(a + 0x10n, 0xdead_beefn);
    s.mem.write64(a + PAGE + 0xff8n, 0x1234n);
    hyp_put_page(s.pool, a);
    expect(s.mem.read64(a + 0x10n)).toBe(0n);
    expect(s.mem.read64(a + PAGE + 0xff8n)).toBe(0n);
    const again = hyp_alloc_pages(s.pool, 1)!;
    expect(again).toBe(a);
    expect(s.machine.memory.readBytes(Number(again), 8192)!.every((b) => b === 0)).toBe(true);
  });

  it('counts references: get_page raises, put_page lowers, the last put frees', () => {
    const s = setup();
    hyp_pool_init(s.pool, pfnOf(POOL), 8, 0);
    const a = hyp_alloc_pages(s.pool, 0)!;
    hyp_get_page(s.pool, a + 0x123n); // any address inside the page
    hyp_get_page(s.pool, a);
    expect(hyp_page_count(s.hyp, s.vmemmap, a)).toBe(3);
    expect(rawEntry(s, a).refcount).toBe(3);
    hyp_put_page(s.pool, a);
    hyp_put_page(s.pool, a);
    expect(s.pool.freePages()).toBe(7);
    hyp_put_page(s.pool, a);
    expect(s.pool.freePages()).toBe(8);
    expect(() => hyp_put_page(s.pool, a)).toThrow(HypBugError);
    expect(() => hyp_put_page(s.pool, a)).toThrow(/refcount already 0/);
  });

  it('reports exhaustion as null, and clearly from the throwing form', () => {
    const s = setup();
    hyp_pool_init(s.pool, pfnOf(POOL), 4, 1);
    expect(hyp_alloc_pages(s.pool, 2)).toBeNull(); // only 3 free pages, max_order 3 but no order-2 block
    const got = [hyp_alloc_pages(s.pool, 0), hyp_alloc_pages(s.pool, 0), hyp_alloc_pages(s.pool, 0)];
    expect(got).toEqual([POOL + PAGE, POOL + 2n * PAGE, POOL + 3n * PAGE]);
    expect(hyp_alloc_pages(s.pool, 0)).toBeNull();
    expect(() => hyp_alloc_pages_or_throw(s.pool, 0)).toThrow(HypPoolExhaustedError);
    expect(() => hyp_alloc_pages_or_throw(s.pool, 0)).toThrow(/hpool exhausted: no free block of order 0 \(4 KiB\); 0 of 4 pages free in 0x40200000\.\.0x40204000/);
    expect(() => hyp_alloc_pages_or_throw(s.pool, 5)).toThrow(/largest order is 2/);
  });

  it('hyp_split_page turns a block into order-0 pages with their own references', () => {
    const s = setup();
    hyp_pool_init(s.pool, pfnOf(POOL), 8, 0);
    const a = hyp_alloc_pages(s.pool, 2)!;
    hyp_split_page(s.pool, a);
    for (let i = 0n; i < 4n; i++) expect(rawEntry(s, a + i * PAGE)).toEqual({ refcount: 1, order: 0 });
    // Freed one by one they coalesce back.
    for (let i = 3n; i >= 0n; i--) hyp_put_page(s.pool, a + i * PAGE);
    expect(s.pool.freeLists()).toEqual([[], [], [], [POOL]]);
  });

  it('works through a non-identity hyp linear map (pointers are hyp VAs)', () => {
    const offset = RAM - 0x8000_0000_0000n; // hyp VA = PA − offset, in the upper half as the kernel's
    const s = setup({ offset });
    hyp_pool_init(s.pool, pfnOf(POOL), 4, 0);
    const va = hyp_alloc_pages(s.pool, 0)!;
    expect(va).toBe(POOL - offset);
    expect(s.hyp.virt_to_phys(va)).toBe(POOL);
    expect(rawEntry(s, POOL).refcount).toBe(1);
    hyp_put_page(s.pool, va);
    expect(s.pool.freePages()).toBe(4);
  });

  it('uses the Android struct hyp_page layout (u8 order, HYP_NO_ORDER 0xff)', () => {
    const s = setup({ layout: HYP_PAGE_LAYOUT_ANDROID });
    hyp_pool_init(s.pool, pfnOf(POOL), 4, 0);
    const at = Number(VMEMMAP_BACKING + (POOL - RAM) / PAGE * 4n);
    expect(s.machine.memory.read16(at)).toBe(0); // refcount
    expect(s.machine.memory.read8(at + 2)).toBe(2); // order
    expect(s.machine.memory.read8(at + 4 + 2)).toBe(0xff); // next page: HYP_NO_ORDER
    expect(s.vmemmap.hostState(pfnOf(POOL))).toBe(0);
    expect(HYP_PAGE_LAYOUT_V61.noOrder).toBe(0xffff);
  });
});

describe('pool mm_ops', () => {
  it('pkvm_pgtable_mm_ops and host_s2 ops allocate, count and free through their pools', () => {
    const s = setup();
    hyp_pool_init(s.pool, pfnOf(POOL), 16, 0);
    const ops = pkvm_pgtable_mm_ops(s.pool);
    const p = ops.zalloc_page()!;
    ops.get_page(p);
    expect(ops.page_count!(p)).toBe(2);
    ops.put_page(p);
    ops.put_page(p);
    expect(s.pool.freePages()).toBe(16);

    const s2pool = new HypPool(s.hyp, s.vmemmap, 'host_s2_pool');
    hyp_pool_init(s2pool, pfnOf(POOL + 0x10_0000n), 16, 0);
    const s2 = host_s2_mm_ops(s2pool);
    // A 2-page concatenated PGD: one order-1 block split into two counted pages.
    const pgd = s2.zalloc_pages_exact!(2n * PAGE)!;
    expect(s2.page_count!(pgd)).toBe(1);
    expect(s2.page_count!(pgd + PAGE)).toBe(1);
    expect(s2pool.freePages()).toBe(14);
    expect(s2.zalloc_page(s2pool)).not.toBeNull();
    s2.free_pages_exact!(pgd, 2n * PAGE);
    expect(s2pool.freePages()).toBe(15);
    expect(host_s2_zalloc_pages_exact(s2pool, 64n * PAGE)).toBeNull();
  });

  it('get_order rounds up to a power of two of pages', () => {
    expect([get_order(1n), get_order(4096n), get_order(4097n), get_order(8192n), get_order(17n * 4096n)]).toEqual([0, 0, 1, 1, 5]);
  });
});

describe('hyp_early_alloc', () => {
  it('bumps through its range, zeroes what it hands out, and returns null when full', () => {
    const s = setup();
    const base = RAM + 0x30_0000n;
    s.mem.write64(base + 0x8n, 0x5555n);
    s.mem.write64(base + 0x2008n, 0x6666n);
    const ea = hyp_early_alloc_init(s.hyp, base, 4n * PAGE);
    expect(hyp_early_alloc_page(ea)).toBe(base);
    expect(s.mem.read64(base + 0x8n)).toBe(0n);
    expect(hyp_early_alloc_contig(ea, 2)).toBe(base + PAGE);
    expect(s.mem.read64(base + 0x2008n)).toBe(0n);
    expect(hyp_early_alloc_nr_used_pages(ea)).toBe(3);
    expect(hyp_early_alloc_contig(ea, 2)).toBeNull(); // only one page left
    expect(hyp_early_alloc_contig(ea, 0)).toBeNull();
    expect(hyp_early_alloc_page(ea)).toBe(base + 3n * PAGE);
    expect(hyp_early_alloc_page(ea)).toBeNull();
    expect(hyp_early_alloc_nr_used_pages(ea)).toBe(4);
  });

  it('the pages it used become the reserved pages of the pool that takes over', () => {
    const s = setup();
    const ea = hyp_early_alloc_init(s.hyp, POOL, 16n * PAGE);
    hyp_early_alloc_contig(ea, 5);
    hyp_pool_init(s.pool, pfnOf(POOL), 16, hyp_early_alloc_nr_used_pages(ea));
    expect(s.pool.freePages()).toBe(11);
    for (let i = 0n; i < 5n; i++) expect(rawEntry(s, POOL + i * PAGE).refcount).toBe(1);
    // The first allocation comes after the early pages.
    expect(hyp_alloc_pages(s.pool, 0)).toBe(POOL + 5n * PAGE);
  });
});
