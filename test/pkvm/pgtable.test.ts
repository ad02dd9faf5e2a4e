/**
 * The kvm_pgtable model: the hyp stage-1 (descriptor bits per prot, block and page
 * mappings at every level, unmap freeing empty tables, refcounts, the early allocator and
 * fix_hyp_pgtable_refcnt) and the walker's visit order.
 */
import { describe, expect, it } from 'vitest';
import { HypMemory } from '../../src/pkvm/hyp-memory.js';
import { HypPool, hyp_pool_init } from '../../src/pkvm/hyp-pool.js';
import { hyp_early_alloc_init, hyp_early_alloc_nr_used_pages } from '../../src/pkvm/early-alloc.js';
import { hyp_early_alloc_mm_ops, pkvm_pgtable_mm_ops } from '../../src/pkvm/mm-ops.js';
import {
  KVM_PGTABLE_WALK_LEAF, KVM_PGTABLE_WALK_TABLE_POST, KVM_PGTABLE_WALK_TABLE_PRE, KvmPgtable, fix_hyp_pgtable_refcnt,
  kvm_pgtable_get_leaf, kvm_pgtable_hyp_destroy, kvm_pgtable_hyp_init, kvm_pgtable_hyp_map, kvm_pgtable_hyp_unmap,
  kvm_pgtable_walk, vmemmapResolverFromPgtable,
} from '../../src/pkvm/pgtable.js';
import {
  EINVAL, ENOMEM, ERANGE, KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W, KVM_PGTABLE_PROT_X,
  PAGE_HYP, PAGE_HYP_DEVICE, PAGE_HYP_EXEC, PAGE_HYP_RO, PKVM_PAGE_SHARED_BORROWED, errnoName, hyp_set_prot_attr,
  kvm_pgtable_hyp_pte_prot, pkvm_getstate, pkvm_mkstate,
} from '../../src/pkvm/pgtable-prot.js';
import { HPOOL, PAGE, RAM, SZ_1G, SZ_2M, descAt, entriesIn, hypPgtable, pfnOf, refcountOf, rig } from './pgtable-support.js';

const XN = 1n << 54n;
const VA = 0x8000_4000_1000n; // a linear-map-like hyp VA (bit 47 set)
const TABLE = 3n;

describe('hyp stage-1 prot → descriptor bits (pkvm-facts §5.5)', () => {
  it('encodes PAGE_HYP, PAGE_HYP_EXEC, PAGE_HYP_RO, PAGE_HYP_DEVICE as the kernel', () => {
    expect(hyp_set_prot_attr(PAGE_HYP)).toEqual({ ret: 0, attr: 0x740n | XN });
    expect(hyp_set_prot_attr(PAGE_HYP_EXEC)).toEqual({ ret: 0, attr: 0x7c0n });
    expect(hyp_set_prot_attr(PAGE_HYP_RO)).toEqual({ ret: 0, attr: 0x7c0n | XN });
    expect(hyp_set_prot_attr(PAGE_HYP_DEVICE)).toEqual({ ret: 0, attr: 0x750n | XN });
    expect(hyp_set_prot_attr(PAGE_HYP_EXEC, { bti: true }).attr).toBe(0x7c0n | (1n << 50n));
    // W+X, device+X and a mapping without R are refused.
    expect(hyp_set_prot_attr(KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W | KVM_PGTABLE_PROT_X).ret).toBe(-EINVAL);
    expect(hyp_set_prot_attr(PAGE_HYP_DEVICE | KVM_PGTABLE_PROT_X).ret).toBe(-EINVAL);
    expect(hyp_set_prot_attr(KVM_PGTABLE_PROT_W).ret).toBe(-EINVAL);
    expect(errnoName(-EINVAL)).toBe('-EINVAL');
  });

  it('round-trips prots through kvm_pgtable_hyp_pte_prot, software bits included', () => {
    for (const prot of [PAGE_HYP, PAGE_HYP_EXEC, PAGE_HYP_RO]) {
      const pte = hyp_set_prot_attr(prot).attr | 3n;
      expect(kvm_pgtable_hyp_pte_prot(pte)).toBe(prot);
    }
    const shared = pkvm_mkstate(PAGE_HYP, PKVM_PAGE_SHARED_BORROWED);
    expect(pkvm_getstate(kvm_pgtable_hyp_pte_prot(hyp_set_prot_attr(shared).attr | 3n))).toBe(PKVM_PAGE_SHARED_BORROWED);
  });
});

describe('kvm_pgtable_hyp_init / kvm_pgtable_hyp_map', () => {
  it('starts a 48-bit table at level 0 with one zeroed PGD page from the pool', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    expect([pgt.ia_bits, pgt.start_level]).toEqual([48, 0]);
    expect(pgt.pgdPhys).toBe(HPOOL);
    expect(refcountOf(r, pgt.pgdPhys)).toBe(1);
    expect(entriesIn(r, pgt.pgdPhys).nonzero).toBe(0);
    const small = new KvmPgtable();
    expect(kvm_pgtable_hyp_init(small, 39, pkvm_pgtable_mm_ops(r.hpool))).toBe(0);
    expect(small.start_level).toBe(1);
  });

  it('maps one page through three new tables, with one reference per valid entry', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    const pa = RAM + 0x0123_4000n;
    expect(kvm_pgtable_hyp_map(pgt, VA, PAGE, pa, PAGE_HYP)).toBe(0);
    const l0 = descAt(r, pgt, VA, 0), l1 = descAt(r, pgt, VA, 1), l2 = descAt(r, pgt, VA, 2), l3 = descAt(r, pgt, VA, 3);
    for (const t of [l0, l1, l2]) expect(t.desc & 0xfffn).toBe(TABLE);
    expect(l3.desc).toBe(pa | 0x743n | XN);
    // Each table page: 1 for itself + 1 for its one valid entry.
    for (const t of [l0, l1, l2, l3]) expect(refcountOf(r, t.pa)).toBe(2);
    expect(r.hpool.freePages()).toBe(256 - 4);
    expect(kvm_pgtable_get_leaf(pgt, VA + 0x10n)).toEqual({ ret: 0, pte: l3.desc, level: 3 });
    // Mapping the same again changes nothing.
    expect(kvm_pgtable_hyp_map(pgt, VA, PAGE, pa, PAGE_HYP)).toBe(0);
    expect(refcountOf(r, l3.pa)).toBe(2);
    // Changing only software bits is allowed in place; anything else is a WARN and −EINVAL.
    expect(kvm_pgtable_hyp_map(pgt, VA, PAGE, pa, pkvm_mkstate(PAGE_HYP, PKVM_PAGE_SHARED_BORROWED))).toBe(0);
    expect(r.mem.read64(l3.pa)).toBe(pa | 0x743n | XN | PKVM_PAGE_SHARED_BORROWED);
    expect(kvm_pgtable_hyp_map(pgt, VA, PAGE, pa, PAGE_HYP_RO)).toBe(-EINVAL);
    expect(pgt.warnings.length).toBe(2);
  });

  it('writes each prot into the leaf (EXEC 0x7c3, RO 0x7c3|XN, DEVICE 0x753|XN)', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    const cases: [bigint, bigint][] = [[PAGE_HYP_EXEC, 0x7c3n], [PAGE_HYP_RO, 0x7c3n | XN], [PAGE_HYP_DEVICE, 0x753n | XN]];
    cases.forEach(([prot, bits], i) => {
      const va = VA + BigInt(i) * PAGE;
      const pa = 0x0900_0000n + BigInt(i) * PAGE;
      expect(kvm_pgtable_hyp_map(pgt, va, PAGE, pa, prot)).toBe(0);
      expect(descAt(r, pgt, va, 3).desc).toBe(pa | bits);
    });
    expect(kvm_pgtable_hyp_map(pgt, VA, PAGE, RAM, KVM_PGTABLE_PROT_DEVICE | KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_X)).toBe(-EINVAL);
  });

  it('uses 2 MiB and 1 GiB blocks when size and both addresses are aligned', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    // 2 MiB + 4 KiB: a level-2 block then one page.
    const va2 = 0x8000_4020_0000n;
    expect(kvm_pgtable_hyp_map(pgt, va2, SZ_2M + PAGE, RAM + SZ_2M, PAGE_HYP)).toBe(0);
    expect(descAt(r, pgt, va2, 2).desc).toBe((RAM + SZ_2M) | 0x741n | XN);
    expect(descAt(r, pgt, va2 + SZ_2M, 3).desc).toBe((RAM + 2n * SZ_2M) | 0x743n | XN);
    expect(kvm_pgtable_get_leaf(pgt, va2 + 0x1_2345n)).toMatchObject({ level: 2 });
    // 1 GiB at a 1 GiB-aligned VA and PA: a level-1 block.
    const va1 = 0x8001_0000_0000n;
    expect(kvm_pgtable_hyp_map(pgt, va1, SZ_1G, 0x4000_0000n, PAGE_HYP)).toBe(0);
    expect(descAt(r, pgt, va1, 1).desc).toBe(0x4000_0000n | 0x741n | XN);
    // The same 2 MiB but a PA off by a page: 512 pages in a new level-3 table.
    const va3 = 0x8000_4060_0000n;
    expect(kvm_pgtable_hyp_map(pgt, va3, SZ_2M, RAM + PAGE, PAGE_HYP)).toBe(0);
    const l3 = descAt(r, pgt, va3, 3);
    expect(l3.desc).toBe((RAM + PAGE) | 0x743n | XN);
    expect(entriesIn(r, l3.pa - (l3.pa & 0xfffn)).valid).toBe(512);
    expect(refcountOf(r, l3.pa)).toBe(513);
    // Level 0 never holds a block: 512 GiB aligned becomes level-1 blocks.
    expect(kvm_pgtable_hyp_map(pgt, 0x8080_0000_0000n, 2n * SZ_1G, 0n, PAGE_HYP_DEVICE)).toBe(0);
    expect(kvm_pgtable_get_leaf(pgt, 0x8080_4000_0000n)).toMatchObject({ level: 1 });
  });

  it('reports −ENOMEM when the pool runs dry, −ERANGE beyond 48 bits', () => {
    const r = rig({ hpoolPages: 3 });
    const pgt = hypPgtable(r); // uses 1 of 3 pages
    expect(kvm_pgtable_hyp_map(pgt, VA, PAGE, RAM, PAGE_HYP)).toBe(-ENOMEM);
    expect(r.hpool.freePages()).toBe(0);
    expect(kvm_pgtable_hyp_map(pgt, 1n << 48n, PAGE, RAM, PAGE_HYP)).toBe(-ERANGE);
  });
});

describe('kvm_pgtable_hyp_unmap', () => {
  it('unmaps pages, drops references and frees tables that become empty', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    kvm_pgtable_hyp_map(pgt, VA, 3n * PAGE, RAM, PAGE_HYP);
    const l3 = descAt(r, pgt, VA, 3);
    expect(refcountOf(r, l3.pa)).toBe(4);
    expect(kvm_pgtable_hyp_unmap(pgt, VA + PAGE, PAGE)).toBe(PAGE);
    expect(r.mem.read64(l3.pa + 8n)).toBe(0n);
    expect(refcountOf(r, l3.pa)).toBe(3);
    // A range with a hole stops at the hole.
    expect(kvm_pgtable_hyp_unmap(pgt, VA, 3n * PAGE)).toBe(PAGE);
    expect(kvm_pgtable_hyp_unmap(pgt, VA + 2n * PAGE, PAGE)).toBe(PAGE);
    // The last entry gone: the level-3, level-2 and level-1 tables are freed in TABLE_POST.
    expect(r.hpool.freePages()).toBe(255);
    expect(entriesIn(r, pgt.pgdPhys).nonzero).toBe(0);
    expect(refcountOf(r, pgt.pgdPhys)).toBe(1);
  });

  it('never splits a block: a partial unmap does nothing', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    const va = 0x8000_4020_0000n;
    kvm_pgtable_hyp_map(pgt, va, SZ_2M, RAM + SZ_2M, PAGE_HYP);
    expect(kvm_pgtable_hyp_unmap(pgt, va, PAGE)).toBe(0n);
    expect(kvm_pgtable_get_leaf(pgt, va)).toMatchObject({ level: 2 });
    expect(kvm_pgtable_hyp_unmap(pgt, va, SZ_2M)).toBe(SZ_2M);
    expect(r.hpool.freePages()).toBe(255);
  });

  it('does nothing with the early allocator (no page_count)', () => {
    const r = rig();
    const ea = hyp_early_alloc_init(r.hyp, RAM + 0x0200_0000n, 16n * PAGE);
    const pgt = new KvmPgtable();
    kvm_pgtable_hyp_init(pgt, 48, hyp_early_alloc_mm_ops(ea));
    kvm_pgtable_hyp_map(pgt, VA, PAGE, RAM, PAGE_HYP);
    expect(hyp_early_alloc_nr_used_pages(ea)).toBe(4);
    expect(kvm_pgtable_hyp_unmap(pgt, VA, PAGE)).toBe(0n);
    expect(kvm_pgtable_get_leaf(pgt, VA).pte & 1n).toBe(1n);
  });

  it('kvm_pgtable_hyp_destroy gives every page back', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    kvm_pgtable_hyp_map(pgt, VA, 5n * PAGE, RAM, PAGE_HYP);
    kvm_pgtable_hyp_map(pgt, 0x8000_4020_0000n, SZ_2M, RAM + SZ_2M, PAGE_HYP);
    kvm_pgtable_hyp_destroy(pgt);
    expect(r.hpool.freePages()).toBe(256);
  });
});

describe('the early allocator, then hyp_pool_init and fix_hyp_pgtable_refcnt (pkvm-facts §3.2)', () => {
  it('recounts the table pages built before the vmemmap existed, so unmap can free them', () => {
    const r = rig();
    // The hyp stage-1 pages of the pool: the early allocator builds the table there first.
    const base = RAM + 0x0200_0000n;
    const nr = 32;
    const ea = hyp_early_alloc_init(r.hyp, base, BigInt(nr) * PAGE);
    const pgt = new KvmPgtable();
    expect(kvm_pgtable_hyp_init(pgt, 48, hyp_early_alloc_mm_ops(ea))).toBe(0);
    expect(kvm_pgtable_hyp_map(pgt, VA, 4n * PAGE, RAM, PAGE_HYP)).toBe(0);
    expect(kvm_pgtable_hyp_map(pgt, 0x4000_0000_0000n, PAGE, RAM + 0x10_0000n, PAGE_HYP)).toBe(0); // another subtree
    expect(kvm_pgtable_hyp_map(pgt, RAM, PAGE, RAM, PAGE_HYP_EXEC)).toBe(0); // an idmap page
    const used = hyp_early_alloc_nr_used_pages(ea);
    expect(used).toBe(1 + 3 + 3 + 3);

    // __pkvm_init_finalise: the pool takes over with the early pages reserved (refcount 1 each).
    const hpool = new HypPool(r.hyp, r.vmemmap, 'hpool');
    hyp_pool_init(hpool, pfnOf(base), nr, used);
    for (let i = 0; i < used; i++) expect(r.vmemmap.refcount(pfnOf(base) + i)).toBe(1);
    pgt.mm_ops = pkvm_pgtable_mm_ops(hpool);
    expect(fix_hyp_pgtable_refcnt(pgt)).toBe(0);
    // Every table page now holds 1 + its valid entries.
    let checked = 0;
    for (let i = 0; i < used; i++) {
      const page = HypMemory.pfn_to_phys(pfnOf(base) + i);
      expect(refcountOf(r, page)).toBe(1 + entriesIn(r, page).valid);
      checked++;
    }
    expect(checked).toBe(10);
    expect(refcountOf(r, pgt.pgdPhys)).toBe(1 + 3);
    // Unmapping everything frees every table page but the PGD back into the pool.
    expect(kvm_pgtable_hyp_unmap(pgt, VA, 4n * PAGE)).toBe(4n * PAGE);
    expect(kvm_pgtable_hyp_unmap(pgt, 0x4000_0000_0000n, PAGE)).toBe(PAGE);
    expect(kvm_pgtable_hyp_unmap(pgt, RAM, PAGE)).toBe(PAGE);
    expect(hpool.freePages()).toBe(nr - 1);
    expect(refcountOf(r, pgt.pgdPhys)).toBe(1);
  });

  it('translates vmemmap VAs through the hyp stage-1 as the MMU would (hyp_back_vmemmap)', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    const vmemmapVa = 0x6000_0010_0000n; // the entries of PA 0x4000_0000 (pkvm-facts §5.7)
    kvm_pgtable_hyp_map(pgt, vmemmapVa, 2n * PAGE, RAM + 0x0300_0000n, PAGE_HYP);
    const resolve = vmemmapResolverFromPgtable(pgt);
    expect(resolve(vmemmapVa + 0x1234n)).toBe(RAM + 0x0300_1234n);
    expect(() => resolve(vmemmapVa + 2n * PAGE)).toThrow(/not mapped in the hyp stage-1/);
  });
});

describe('kvm_pgtable_walk', () => {
  it('visits tables before (TABLE_PRE) and after (TABLE_POST) their children, and every leaf or invalid entry', () => {
    const r = rig();
    const pgt = hypPgtable(r);
    kvm_pgtable_hyp_map(pgt, VA, PAGE, RAM, PAGE_HYP);
    const seen: string[] = [];
    const names: Record<number, string> = { [KVM_PGTABLE_WALK_LEAF]: 'leaf', [KVM_PGTABLE_WALK_TABLE_PRE]: 'pre', [KVM_PGTABLE_WALK_TABLE_POST]: 'post' };
    const ret = kvm_pgtable_walk(pgt, VA, 2n * PAGE, {
      flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_PRE | KVM_PGTABLE_WALK_TABLE_POST,
      cb: (ctx, visit) => { seen.push(`${names[visit]} L${ctx.level} ${ctx.addr.toString(16)} ${ctx.old & 1n ? 'valid' : 'invalid'}`); return 0; },
    });
    expect(ret).toBe(0);
    expect(seen).toEqual([
      'pre L0 800040001000 valid', 'pre L1 800040001000 valid', 'pre L2 800040001000 valid',
      'leaf L3 800040001000 valid', 'leaf L3 800040002000 invalid',
      'post L2 800040001000 valid', 'post L1 800040001000 valid', 'post L0 800040001000 valid',
    ]);
    // An invalid entry at a high level is one LEAF visit covering its whole granule.
    const big: string[] = [];
    kvm_pgtable_walk(pgt, 0n, 1n << 40n, { flags: KVM_PGTABLE_WALK_LEAF, cb: (ctx) => { big.push(`L${ctx.level} ${ctx.addr.toString(16)}`); return 0; } });
    expect(big).toEqual(['L0 0', 'L0 8000000000']);
    // An error from the visitor stops the walk and is returned.
    let n = 0;
    expect(kvm_pgtable_walk(pgt, VA, 4n * PAGE, { flags: KVM_PGTABLE_WALK_LEAF, cb: () => (++n === 2 ? -EINVAL : 0) })).toBe(-EINVAL);
    expect(n).toBe(2);
    expect(kvm_pgtable_walk(pgt, (1n << 48n) - PAGE, 2n * PAGE, { flags: KVM_PGTABLE_WALK_LEAF, cb: () => 0 })).toBe(-ERANGE);
  });
});
