/**
 * The kvm_pgtable stage-2 model: VTCR-derived geometry (start level, concatenated PGDs),
 * stage-2 leaf bits, ownership annotations in invalid entries, block splitting (lazy as
 * V61, pre-faulted as Android), unmap freeing empty tables, refcounts with the V61 and
 * Android counting rules, and the host's force_pte / pte_is_counted hooks.
 */
import { describe, expect, it } from 'vitest';
import {
  KVM_HOST_S2_FLAGS_ANDROID, KVM_HOST_S2_FLAGS_V61, KVM_PGTABLE_S2_IDMAP, hostStage2PteOps, kvm_get_vtcr, kvm_pgd_pages,
  kvm_pgtable_get_leaf, kvm_pgtable_stage2_destroy, kvm_pgtable_stage2_map, kvm_pgtable_stage2_pgd_size,
  kvm_pgtable_stage2_reclaim_leaves, kvm_pgtable_stage2_set_owner, kvm_pgtable_stage2_unmap, kvm_pgtable_walk,
  KVM_PGTABLE_WALK_LEAF, pin_host_tables, describeKvmPgtable, formatPgtableRanges,
} from '../../src/pkvm/pgtable.js';
import {
  EINVAL, ENOMEM, KVM_MAX_OWNER_ID_V61, KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_RW,
  KVM_PGTABLE_PROT_RWX, PKVM_HOST_MEM_PROT, PKVM_HOST_MMIO_PROT, PKVM_ID_HYP, PKVM_PAGE_SHARED_OWNED,
  kvm_invalid_pte_owner, kvm_pgtable_stage2_pte_prot, pkvm_mkstate, stage2_set_prot_attr,
} from '../../src/pkvm/pgtable-prot.js';
import { PAGE, RAM, S2POOL, SZ_1G, SZ_2M, descAt, entriesIn, refcountOf, rig, stage2Pgtable } from './pgtable-support.js';

const XN = 1n << 54n;
const MMFR1_VMID16 = 2n << 4n;
/** VTCR for a 44-bit PA (cortex-a57: PARange 4), 4 levels from 0; and 40-bit (cortex-a76), 3 levels from 1 with 2 PGD pages. */
const VTCR44 = kvm_get_vtcr(4n, MMFR1_VMID16, 44);
const VTCR40 = kvm_get_vtcr(2n, MMFR1_VMID16, 40);
const RAM_SIZE = 0x1000_0000n;
const isMemory = (pa: bigint): boolean => pa >= RAM && pa < RAM + RAM_SIZE;

describe('kvm_get_vtcr and the stage-2 geometry (pkvm-facts §5.6)', () => {
  it('gives the worked VTCR_EL2 values', () => {
    // 48-bit: PARange 6 (52 bits) is capped to 5.
    expect(kvm_get_vtcr(6n, MMFR1_VMID16, 48)).toBe(0x802d_3590n);
    expect(VTCR44).toBe(0x802c_3594n);
    expect(VTCR40).toBe(0x802a_3558n);
    expect(kvm_get_vtcr(6n, MMFR1_VMID16, 48, { ha: false })).toBe(0x800d_3590n);
    expect(kvm_get_vtcr(6n, 0n, 48)).toBe(0x8025_3590n);
  });

  it('derives ia_bits, start level and concatenated PGD pages from VTCR_EL2', () => {
    expect(kvm_pgd_pages(48, 0)).toBe(1);
    expect(kvm_pgd_pages(40, 1)).toBe(2);
    expect(kvm_pgd_pages(43, 1)).toBe(16);
    expect(kvm_pgtable_stage2_pgd_size(VTCR40)).toBe(2n * PAGE);
    const r = rig();
    const a = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_V61).pgt;
    expect([a.ia_bits, a.start_level]).toEqual([44, 0]);
    expect(a.pgdPhys).toBe(S2POOL);
    const b = stage2Pgtable(r, VTCR40, KVM_HOST_S2_FLAGS_V61).pgt;
    expect([b.ia_bits, b.start_level]).toEqual([40, 1]);
    // Two pages from one order-1 block, split so each is refcounted on its own.
    expect(b.pgdPhys).toBe(S2POOL + 2n * PAGE);
    expect([refcountOf(r, b.pgdPhys), refcountOf(r, b.pgdPhys + PAGE)]).toEqual([1, 1]);
    // An IPA in the second 512 GiB lands in the second PGD page.
    expect(kvm_pgtable_stage2_map(b, 0x80_4000_0000n, SZ_1G, 0x80_4000_0000n, PKVM_HOST_MMIO_PROT, r.s2pool)).toBe(0);
    expect(descAt(r, b, 0x80_4000_0000n, 1).pa).toBe(b.pgdPhys + PAGE + 8n);
  });
});

describe('stage-2 leaf bits', () => {
  it('encodes memory RWX as 0x7ff / 0x7fd, MMIO RW with XN, and device memory with MemAttr 1', () => {
    expect(stage2_set_prot_attr(PKVM_HOST_MEM_PROT)).toEqual({ ret: 0, attr: 0x7fcn });
    // PKVM_HOST_MMIO_PROT is plain RW (no DEVICE flag): Normal MemAttr, XN.
    expect(stage2_set_prot_attr(PKVM_HOST_MMIO_PROT)).toEqual({ ret: 0, attr: 0x7fcn | XN });
    expect(stage2_set_prot_attr(KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE)).toEqual({ ret: 0, attr: 0x7c4n | XN });
    expect(stage2_set_prot_attr(KVM_PGTABLE_PROT_RWX | KVM_PGTABLE_PROT_DEVICE).ret).toBe(-EINVAL);
    expect(stage2_set_prot_attr(KVM_PGTABLE_PROT_RWX, true).attr).toBe(0x7d8n); // FWB: MemAttr 6

    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_V61);
    expect(kvm_pgtable_stage2_map(pgt, RAM, SZ_2M, RAM, PKVM_HOST_MEM_PROT, r.s2pool)).toBe(0);
    expect(descAt(r, pgt, RAM, 2).desc).toBe(RAM | 0x7fdn);
    expect(kvm_pgtable_stage2_map(pgt, RAM + SZ_2M, PAGE, RAM + SZ_2M, PKVM_HOST_MEM_PROT, r.s2pool)).toBe(0);
    expect(descAt(r, pgt, RAM + SZ_2M, 3).desc).toBe((RAM + SZ_2M) | 0x7ffn);
    expect(kvm_pgtable_stage2_map(pgt, 0x0900_0000n, PAGE, 0x0900_0000n, PKVM_HOST_MMIO_PROT, r.s2pool)).toBe(0);
    expect(descAt(r, pgt, 0x0900_0000n, 3).desc).toBe(0x0900_0000n | 0x7ffn | XN);
    expect(kvm_pgtable_stage2_pte_prot(descAt(r, pgt, RAM, 2).desc)).toBe(KVM_PGTABLE_PROT_RWX);
    // An identity-mapped table refuses IPA ≠ PA.
    expect(kvm_pgtable_stage2_map(pgt, RAM, PAGE, RAM + PAGE, PKVM_HOST_MEM_PROT, r.s2pool)).toBe(-EINVAL);
    expect(pgt.warnings[0]).toMatch(/identity-mapped/);
    // No memcache, no new tables.
    expect(kvm_pgtable_stage2_map(pgt, 0x1_0000_0000n, PAGE, 0x1_0000_0000n, PKVM_HOST_MMIO_PROT, null)).toBe(-ENOMEM);
  });
});

describe('kvm_pgtable_stage2_set_owner', () => {
  it('annotates invalid entries with the owner id in bits [9:2] (hyp = 0x4), counted in the table', () => {
    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_V61);
    const page = RAM + 0x0050_0000n;
    expect(kvm_pgtable_stage2_set_owner(pgt, page, 2n * PAGE, r.s2pool, PKVM_ID_HYP)).toBe(0);
    const d = descAt(r, pgt, page, 3);
    expect(d.desc).toBe(0x4n);
    expect(descAt(r, pgt, page + PAGE, 3).desc).toBe(0x4n);
    expect(kvm_invalid_pte_owner(d.desc)).toBe(PKVM_ID_HYP);
    expect(refcountOf(r, d.pa)).toBe(3);
    expect(kvm_pgtable_get_leaf(pgt, page)).toEqual({ ret: 0, pte: 0x4n, level: 3 });
    // Owner ids beyond KVM_MAX_OWNER_ID are refused (V61 allows only host and hyp).
    pgt.maxOwnerId = KVM_MAX_OWNER_ID_V61;
    expect(kvm_pgtable_stage2_set_owner(pgt, page, PAGE, r.s2pool, 2)).toBe(-EINVAL);
    // Giving the page back to owner 0 (the host) clears the entry and its reference.
    expect(kvm_pgtable_stage2_set_owner(pgt, page, PAGE, r.s2pool, 0)).toBe(0);
    expect(r.mem.read64(d.pa)).toBe(0n);
    expect(refcountOf(r, d.pa)).toBe(2);
  });

  it('V61: annotating a page inside a block replaces the block by a table; the rest is faulted back lazily', () => {
    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_V61);
    kvm_pgtable_stage2_map(pgt, RAM, SZ_2M, RAM, PKVM_HOST_MEM_PROT, r.s2pool);
    const l2 = descAt(r, pgt, RAM, 2);
    expect(refcountOf(r, l2.pa)).toBe(2);
    expect(kvm_pgtable_stage2_set_owner(pgt, RAM + 5n * PAGE, PAGE, r.s2pool, PKVM_ID_HYP)).toBe(0);
    const table = r.mem.read64(l2.pa);
    expect(table & 3n).toBe(3n);
    const l3 = table & 0xffff_ffff_f000n;
    expect(entriesIn(r, l3)).toEqual({ nonzero: 1, valid: 0 });
    expect(r.mem.read64(l3 + 5n * 8n)).toBe(0x4n);
    expect(refcountOf(r, l3)).toBe(2);
    expect(refcountOf(r, l2.pa)).toBe(2); // the block's reference became the table's
  });

  it('Android PREFAULT_BLOCK: splitting keeps the rest of the block mapped, as pages', () => {
    const r = rig();
    const ops = hostStage2PteOps({ addrIsMemory: isMemory, counting: 'android' });
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_ANDROID, ops);
    kvm_pgtable_stage2_map(pgt, RAM, SZ_2M, RAM, PKVM_HOST_MEM_PROT, r.s2pool);
    const l2 = descAt(r, pgt, RAM, 2);
    // A default (RWX memory) block is not counted under Android's rule.
    expect(refcountOf(r, l2.pa)).toBe(1);
    expect(kvm_pgtable_stage2_set_owner(pgt, RAM + 5n * PAGE, PAGE, r.s2pool, PKVM_ID_HYP)).toBe(0);
    const l3 = r.mem.read64(l2.pa) & 0xffff_ffff_f000n;
    expect(entriesIn(r, l3)).toEqual({ nonzero: 512, valid: 511 });
    expect(r.mem.read64(l3 + 4n * 8n)).toBe((RAM + 4n * PAGE) | 0x7ffn);
    expect(r.mem.read64(l3 + 5n * 8n)).toBe(0x4n);
    // Only the annotation is counted in the new table; the table entry is counted in the parent.
    expect(refcountOf(r, l3)).toBe(2);
    expect(refcountOf(r, l2.pa)).toBe(2);
  });
});

describe('host stage-2 hooks (mem_protect.c): force_pte_cb and pte_is_counted_cb', () => {
  it('a shared page must be a page; unsharing it lets the table coalesce back after init (Android)', () => {
    const r = rig();
    const ops = hostStage2PteOps({ addrIsMemory: isMemory, counting: 'android' });
    expect(ops.force_pte_cb!(RAM, RAM + SZ_2M, PKVM_HOST_MEM_PROT)).toBe(false);
    expect(ops.force_pte_cb!(RAM, RAM + PAGE, pkvm_mkstate(PKVM_HOST_MEM_PROT, PKVM_PAGE_SHARED_OWNED))).toBe(true);
    expect(ops.force_pte_cb!(0x0900_0000n, 0x0900_1000n, PKVM_HOST_MMIO_PROT)).toBe(false);
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_ANDROID, ops);
    kvm_pgtable_stage2_map(pgt, RAM, SZ_2M, RAM, PKVM_HOST_MEM_PROT, r.s2pool);
    // The tables made during init are pinned (pin_host_tables), so they stay.
    expect(pin_host_tables(pgt)).toBe(0);
    expect(refcountOf(r, descAt(r, pgt, RAM, 2).pa)).toBe(2);
    const free0 = r.s2pool.freePages();
    const shared = pkvm_mkstate(PKVM_HOST_MEM_PROT, PKVM_PAGE_SHARED_OWNED);
    expect(kvm_pgtable_stage2_map(pgt, RAM + PAGE, PAGE, RAM + PAGE, shared, r.s2pool)).toBe(0);
    const l3 = descAt(r, pgt, RAM + PAGE, 3);
    expect(l3.desc).toBe((RAM + PAGE) | 0x7ffn | PKVM_PAGE_SHARED_OWNED);
    expect(refcountOf(r, l3.pa)).toBe(2);
    expect(r.s2pool.freePages()).toBe(free0 - 1);
    // Back to the default: only the software bits change, so the entry is rewritten in place and uncounted.
    pgt.protectedModeInitialized = true;
    expect(kvm_pgtable_stage2_map(pgt, RAM + PAGE, PAGE, RAM + PAGE, PKVM_HOST_MEM_PROT, r.s2pool)).toBe(0);
    // Nothing counted is left in the level-3 table: TABLE_POST coalesces it into a 2 MiB block and frees it.
    expect(descAt(r, pgt, RAM, 2).desc).toBe(RAM | 0x7fdn);
    expect(refcountOf(r, descAt(r, pgt, RAM, 2).pa)).toBe(2);
    expect(r.s2pool.freePages()).toBe(free0);
  });

  it('V61 counts every non-zero entry', () => {
    const ops = hostStage2PteOps({ addrIsMemory: isMemory, counting: 'linux-6.1' });
    expect(ops.pte_is_counted_cb(RAM | 0x7ffn, 3)).toBe(true);
    expect(ops.pte_is_counted_cb(0x4n, 3)).toBe(true);
    expect(ops.pte_is_counted_cb(0n, 3)).toBe(false);
    const android = hostStage2PteOps({ addrIsMemory: isMemory, counting: 'android' });
    expect(android.pte_is_counted_cb(RAM | 0x7ffn, 3)).toBe(false);
    expect(android.pte_is_counted_cb(0x0900_0000n | 0x7ffn | XN, 3)).toBe(false);
    expect(android.pte_is_counted_cb(0x0900_0000n | 0x7ffn, 3)).toBe(true); // MMIO without XN is not the default
    expect(android.pte_is_counted_cb(0x4n, 3)).toBe(true);
  });
});

describe('kvm_pgtable_stage2_unmap', () => {
  it('clears mappings and annotations, drops references and frees the tables left empty', () => {
    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_V61);
    const free0 = r.s2pool.freePages();
    kvm_pgtable_stage2_map(pgt, RAM, 2n * PAGE, RAM, PKVM_HOST_MEM_PROT, r.s2pool);
    kvm_pgtable_stage2_set_owner(pgt, RAM + 2n * PAGE, PAGE, r.s2pool, PKVM_ID_HYP);
    const l3 = descAt(r, pgt, RAM, 3);
    expect(refcountOf(r, l3.pa)).toBe(4);
    expect(r.s2pool.freePages()).toBe(free0 - 3);
    expect(kvm_pgtable_stage2_unmap(pgt, RAM + PAGE, PAGE)).toBe(0);
    expect(refcountOf(r, l3.pa)).toBe(3);
    expect(kvm_pgtable_stage2_unmap(pgt, RAM, 4n * PAGE)).toBe(0);
    expect(r.s2pool.freePages()).toBe(free0);
    expect(entriesIn(r, pgt.pgdPhys).nonzero).toBe(0);
    expect(refcountOf(r, pgt.pgdPhys)).toBe(1);
  });

  it('removes a whole block even when the range covers part of it', () => {
    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_V61);
    kvm_pgtable_stage2_map(pgt, RAM, 2n * SZ_2M, RAM, PKVM_HOST_MEM_PROT, r.s2pool);
    expect(kvm_pgtable_stage2_unmap(pgt, RAM + PAGE, PAGE)).toBe(0);
    expect(kvm_pgtable_get_leaf(pgt, RAM + 0x10_0000n)).toMatchObject({ pte: 0n, level: 2 });
    expect(kvm_pgtable_get_leaf(pgt, RAM + SZ_2M)).toMatchObject({ pte: (RAM + SZ_2M) | 0x7fdn, level: 2 });
  });

  it('is refused on an Android host stage-2, whose default mappings are not counted', () => {
    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_ANDROID, hostStage2PteOps({ addrIsMemory: isMemory, counting: 'android' }));
    expect(kvm_pgtable_stage2_unmap(pgt, RAM, PAGE)).toBe(-EINVAL);
    // Android recycles such tables with reclaim_leaves instead.
    kvm_pgtable_stage2_map(pgt, RAM, PAGE, RAM, PKVM_HOST_MEM_PROT, r.s2pool);
    const free = r.s2pool.freePages();
    expect(kvm_pgtable_stage2_reclaim_leaves(pgt, RAM, SZ_2M)).toBe(0);
    // Bottom-up: the level-3 table goes, which leaves the level-2 table empty too; level 0 holds no blocks.
    expect(r.s2pool.freePages()).toBe(free + 2);
    expect(kvm_pgtable_get_leaf(pgt, RAM)).toMatchObject({ pte: 0n, level: 1 });
  });
});

describe('allocation and teardown', () => {
  it('fails with −ENOMEM when host_s2_pool is exhausted, keeping what was mapped', () => {
    const r = rig({ s2Pages: 3 });
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_V61);
    expect(kvm_pgtable_stage2_map(pgt, RAM, PAGE, RAM, PKVM_HOST_MEM_PROT, r.s2pool)).toBe(-ENOMEM);
    expect(r.s2pool.freePages()).toBe(0);
    // The two tables it did get are linked in (and counted), ready for a retry after recycling.
    expect(descAt(r, pgt, RAM, 1).desc & 3n).toBe(3n);
  });

  it('kvm_pgtable_stage2_destroy returns every page, PGD included', () => {
    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR40, KVM_PGTABLE_S2_IDMAP);
    kvm_pgtable_stage2_map(pgt, RAM, 3n * PAGE, RAM, PKVM_HOST_MEM_PROT, r.s2pool);
    kvm_pgtable_stage2_set_owner(pgt, RAM + SZ_2M, PAGE, r.s2pool, PKVM_ID_HYP);
    kvm_pgtable_stage2_map(pgt, 0x0900_0000n, PAGE, 0x0900_0000n, KVM_PGTABLE_PROT_R, r.s2pool);
    kvm_pgtable_stage2_destroy(pgt);
    expect(r.s2pool.freePages()).toBe(256);
    expect(pgt.warnings).toEqual([]);
  });

  it('walks leaves of a concatenated PGD across its pages', () => {
    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR40, KVM_PGTABLE_S2_IDMAP);
    kvm_pgtable_stage2_map(pgt, 0x7f_c000_0000n, 2n * SZ_1G, 0x7f_c000_0000n, PKVM_HOST_MMIO_PROT, r.s2pool);
    const leaves: bigint[] = [];
    kvm_pgtable_walk(pgt, 0x7f_c000_0000n, 2n * SZ_1G, { flags: KVM_PGTABLE_WALK_LEAF, cb: (ctx) => { leaves.push(ctx.old & 0xffff_ffff_f000n); return 0; } });
    expect(leaves).toEqual([0x7f_c000_0000n, 0x80_0000_0000n]);
  });
});

describe('describeKvmPgtable', () => {
  it('summarises a host stage-2: merged blocks and pages, device and shared state, owner annotations', () => {
    const r = rig();
    const { pgt } = stage2Pgtable(r, VTCR44, KVM_HOST_S2_FLAGS_V61, hostStage2PteOps({ addrIsMemory: isMemory, counting: 'linux-6.1' }));
    kvm_pgtable_stage2_map(pgt, RAM, 4n * SZ_2M, RAM, PKVM_HOST_MEM_PROT, r.s2pool);
    kvm_pgtable_stage2_set_owner(pgt, RAM + SZ_2M, 3n * PAGE, r.s2pool, PKVM_ID_HYP);
    kvm_pgtable_stage2_map(pgt, RAM + SZ_2M + 3n * PAGE, PAGE, RAM + SZ_2M + 3n * PAGE, pkvm_mkstate(PKVM_HOST_MEM_PROT, PKVM_PAGE_SHARED_OWNED), r.s2pool);
    kvm_pgtable_stage2_map(pgt, 0x0900_0000n, PAGE, 0x0900_0000n, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE, r.s2pool);
    expect(formatPgtableRanges(describeKvmPgtable(pgt))).toEqual([
      '0x9000000..0x9001000 L3 → 0x9000000 RW- device',
      '0x40000000..0x40200000 L2 → 0x40000000 RWX',
      '0x40200000..0x40203000 L3 ×3 invalid, owner hyp (0x4)',
      '0x40203000..0x40204000 L3 → 0x40203000 RWX SHARED_OWNED',
      '0x40400000..0x40800000 L2 ×2 → 0x40400000 RWX',
    ]);
  });
});
