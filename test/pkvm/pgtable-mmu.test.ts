/**
 * MMU cross-check: the kvm_pgtable model builds a hyp stage-1 and a host stage-2 in a
 * machine's RAM, the test programs the translation registers through the Emulator, and
 * the interpreter's own MMU — AT instructions (PAR_EL1) and small load/store programs at
 * EL2 and EL1 — must walk those tables to the PAs, attributes and permissions the model
 * meant, including an owner-annotated (hyp-owned) page faulting at stage 2.
 */
import { describe, expect, it } from 'vitest';
import { Emulator } from '../../src/machine/emulator.js';
import { HypMemory, HypVmemmap, physMemOf } from '../../src/pkvm/hyp-memory.js';
import { HypPool, hyp_pool_init } from '../../src/pkvm/hyp-pool.js';
import { hyp_early_alloc_contig, hyp_early_alloc_init, hyp_early_alloc_nr_used_pages } from '../../src/pkvm/early-alloc.js';
import { host_s2_mm_ops, hyp_early_alloc_mm_ops, pkvm_pgtable_mm_ops } from '../../src/pkvm/mm-ops.js';
import {
  KVM_HOST_S2_FLAGS_V61, KvmPgtable, __kvm_pgtable_stage2_init, hostStage2PteOps, kvm_get_parange, kvm_get_vtcr,
  kvm_pgtable_get_leaf, kvm_pgtable_hyp_init, kvm_pgtable_hyp_map, kvm_pgtable_stage2_map, kvm_pgtable_stage2_set_owner,
  parange_to_phys_shift, type KvmS2Mmu, describeKvmPgtable, fix_hyp_pgtable_refcnt, formatPgtableRanges,
  vmemmapResolverFromPgtable,
} from '../../src/pkvm/pgtable.js';
import {
  MAIR_EL2_VALUE, PAGE_HYP, PAGE_HYP_DEVICE, PAGE_HYP_EXEC, PAGE_HYP_RO, PKVM_HOST_MEM_PROT, PKVM_HOST_MMIO_PROT, PKVM_ID_HOST,
  PKVM_ID_HYP, PKVM_PAGE_SHARED_OWNED, pkvm_mkstate,
} from '../../src/pkvm/pgtable-prot.js';

const RAM = 0x4000_0000n;
const RAM_SIZE = 0x1000_0000n; // 256 MiB
const PAGE = 0x1000n;
const SZ_2M = 0x20_0000n;
const UART = 0x0900_0000n;
const CODE = RAM + 0x8_0000n;
/** Hyp linear map: hyp VA = PA + 2^47 (the upper half, as kvm_compute_layout puts it; pkvm-facts §5.7). */
const LINEAR = 1n << 47n;
const hypVa = (pa: bigint): bigint => pa + LINEAR;

const INIT_SCTLR_EL2_MMU_ON = 0x30ed_183dn; // pkvm-facts §5.2
const HCR_RW = 1n << 31n;
const HCR_VM = 1n;

const enc = {
  ldr_x1_x0: 0xf940_0001, ldr_x2_x3: 0xf940_0062, str_x1_x2: 0xf900_0041, str_x1_x4: 0xf900_0081, str_x1_x5: 0xf900_00a1,
  br_x6: 0xd61f_00c0, b_self: 0x1400_0000, ldrh_w1_x0: 0x7940_0001,
};

function writeCode(emu: Emulator, pa: bigint, words: number[]): void {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  emu.writeMemory(pa, bytes);
}

function at(emu: Emulator, op: string, va: bigint): bigint {
  emu.cpu.port.addressTranslate(op, Number(va & 0xffff_ffffn) | 0, Number(va >> 32n) | 0);
  return emu.reg('par_el1');
}

/** PAR_EL1 success and fault formats (bit 9 NS as QEMU reports it, bit 11 RES1). */
const parOk = (pa: bigint, attr: number, sh: number): bigint => (pa & 0xffff_ffff_f000n) | (BigInt(attr) << 56n) | (BigInt(sh) << 7n) | (1n << 9n) | (1n << 11n);
const parFault = (fst: number, stage2 = false): bigint => 1n | (BigInt(fst) << 1n) | (stage2 ? 1n << 9n : 0n) | (1n << 11n);
const FSC_TRANSLATION = (l: number): number => 0b000100 | l;
const FSC_PERMISSION = (l: number): number => 0b001100 | l;

/** Runs until the first exception (then stops) or the budget; returns the exception event, if any. */
function runToException(emu: Emulator, maxInsns = 100): { ec: number; fromEl: number; toEl: number } | null {
  let event: { ec: number; fromEl: number; toEl: number } | null = null;
  const off = emu.onException((e) => {
    if (e.kind === 'exception' && event === null) { event = { ec: e.ec, fromEl: e.fromEl, toEl: e.toEl }; emu.stop(); }
  });
  emu.run({ maxInsns });
  off();
  return event;
}

describe('hyp stage-1 built by kvm_pgtable_hyp_map, walked by the interpreter at EL2', () => {
  function build() {
    const emu = new Emulator({ cpu: 'cortex-a57', ramSize: Number(RAM_SIZE) });
    const mem = physMemOf(emu.board.memory);
    const hyp = new HypMemory(mem, -LINEAR);
    // As __pkvm_init's recreate_hyp_mappings: the early allocator over the hyp stage-1 pages.
    const ea = hyp_early_alloc_init(hyp, hypVa(RAM + 0x0800_0000n), 64n * PAGE);
    const pgt = new KvmPgtable();
    expect(kvm_pgtable_hyp_init(pgt, 48, hyp_early_alloc_mm_ops(ea))).toBe(0);
    const data = RAM + 0x0020_0000n;
    const ro = RAM + 0x0040_0000n;
    const map = (va: bigint, size: bigint, pa: bigint, prot: bigint): void => { expect(kvm_pgtable_hyp_map(pgt, va, size, pa, prot)).toBe(0); };
    map(CODE, PAGE, CODE, PAGE_HYP_EXEC); // idmap of the "hyp text"
    map(hypVa(data), SZ_2M, data, PAGE_HYP); // a 2 MiB block of the linear map
    map(hypVa(ro), PAGE, ro, PAGE_HYP_RO);
    map(0x4000_0000_0000n, PAGE, UART, PAGE_HYP_DEVICE); // a private (io) mapping
    map(0x6000_0010_0000n, PAGE, RAM + 0x0050_0000n, PAGE_HYP); // a vmemmap page
    map(0x8080_4000_0000n, 0x4000_0000n, RAM, PAGE_HYP); // a 1 GiB block
    expect(kvm_pgtable_get_leaf(pgt, hypVa(data))).toMatchObject({ level: 2 });
    expect(kvm_pgtable_get_leaf(pgt, 0x8080_4000_0000n)).toMatchObject({ level: 1 });

    // ___kvm_hyp_init's register values (pkvm-facts §4.3, §5.2, §5.5).
    const parange = kvm_get_parange(emu.reg('id_aa64mmfr0_el1'));
    const tcr = 16n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (BigInt(parange) << 16n) | (1n << 23n) | (1n << 31n);
    emu.setReg('el', 2n);
    emu.setReg('mair_el2', MAIR_EL2_VALUE);
    emu.setReg('tcr_el2', tcr);
    emu.setReg('ttbr0_el2', pgt.pgdPhys);
    emu.setReg('sctlr_el2', INIT_SCTLR_EL2_MMU_ON);
    return { emu, mem, pgt, data, ro };
  }

  it('AT S1E2R/W: PAs, memory attributes and permissions as intended', () => {
    const { emu, data, ro } = build();
    expect(emu.reg('ttbr0_el2')).toBe(RAM + 0x0800_0000n);
    expect(at(emu, 's1e2r', CODE + 0x10n)).toBe(parOk(CODE, 0xff, 3));
    expect(at(emu, 's1e2w', hypVa(data) + 0x1_2345n)).toBe(parOk(data + 0x1_2000n, 0xff, 3));
    expect(at(emu, 's1e2r', hypVa(ro))).toBe(parOk(ro, 0xff, 3));
    expect(at(emu, 's1e2w', hypVa(ro))).toBe(parFault(FSC_PERMISSION(3)));
    expect(at(emu, 's1e2w', CODE)).toBe(parFault(FSC_PERMISSION(3))); // EXEC is read-only
    // Device-nGnRE through MAIR index 4 (reported Outer Shareable, as for any Device memory).
    expect(at(emu, 's1e2r', 0x4000_0000_0008n)).toBe(parOk(UART, 0x04, 2));
    expect(at(emu, 's1e2r', 0x6000_0010_0abcn)).toBe(parOk(RAM + 0x0050_0000n, 0xff, 3));
    expect(at(emu, 's1e2r', 0x8080_4123_4567n)).toBe(parOk(RAM + 0x0123_4000n, 0xff, 3));
    // Holes fault at the level where the walk found nothing.
    expect(at(emu, 's1e2r', hypVa(data) + 2n * SZ_2M)).toBe(parFault(FSC_TRANSLATION(2)));
    expect(at(emu, 's1e2r', hypVa(ro) + PAGE)).toBe(parFault(FSC_TRANSLATION(3)));
    expect(at(emu, 's1e2r', 0x0000_1000_0000_0000n)).toBe(parFault(FSC_TRANSLATION(0)));
  });

  it('EL2 code runs from the EXEC idmap, loads and stores through the linear map, and faults on RO and XN', () => {
    const { emu, mem, data, ro } = build();
    mem.write64(data + 0x100n, 0x1122_3344_5566_7788n);
    writeCode(emu, CODE, [enc.ldr_x1_x0, enc.str_x1_x2, enc.str_x1_x5, enc.b_self]);
    writeCode(emu, CODE + 0xa00n, [enc.b_self]); // VBAR_EL2 + 0x200: current EL, SP_ELx, synchronous
    emu.setReg('vbar_el2', CODE + 0x800n);
    emu.setReg('x0', hypVa(data) + 0x100n);
    emu.setReg('x2', hypVa(data) + 0x108n);
    emu.setReg('x5', hypVa(ro) + 0x8n);
    emu.setReg('pc', CODE);
    const e = runToException(emu);
    expect(emu.reg('x1')).toBe(0x1122_3344_5566_7788n);
    expect(mem.read64(data + 0x108n)).toBe(0x1122_3344_5566_7788n);
    // The store to the PAGE_HYP_RO page: a data abort taken to EL2, permission fault at level 3, WnR.
    expect(e).toEqual({ ec: 0x25, fromEl: 2, toEl: 2 });
    const esr = emu.reg('esr_el2');
    expect(Number(esr & 0x3fn)).toBe(FSC_PERMISSION(3));
    expect((esr >> 6n) & 1n).toBe(1n);
    expect(emu.reg('far_el2')).toBe(hypVa(ro) + 0x8n);
    expect(emu.reg('elr_el2')).toBe(CODE + 8n);
    expect(mem.read64(ro + 8n)).toBe(0n);

    // Branching into PAGE_HYP (XN) memory: an instruction abort, permission fault at the block's level 2.
    writeCode(emu, CODE, [enc.br_x6]);
    emu.setReg('x6', hypVa(data));
    emu.setReg('pc', CODE);
    expect(runToException(emu)).toEqual({ ec: 0x21, fromEl: 2, toEl: 2 });
    expect(Number(emu.reg('esr_el2') & 0x3fn)).toBe(FSC_PERMISSION(2));
    expect(emu.reg('far_el2')).toBe(hypVa(data));
  });
});

describe.each([
  ['cortex-a57', 44, 0, 1],
  ['cortex-a76', 40, 1, 2],
])('host stage-2 built by kvm_pgtable_stage2_map, walked by the interpreter (%s)', (cpu, ipaBits, startLevel, pgdPages) => {
  function build() {
    const emu = new Emulator({ cpu, ramSize: Number(RAM_SIZE) });
    const mem = physMemOf(emu.board.memory);
    const hyp = new HypMemory(mem, -LINEAR);
    // host_s2_pool over 64 pages, its struct hyp_page entries in a linearly backed vmemmap.
    const poolBase = RAM + 0x0900_0000n;
    const vmemmap = HypVmemmap.linear(mem, 0x6000_0000_0000n, Number(poolBase >> 12n), RAM + 0x08f0_0000n);
    const pool = new HypPool(hyp, vmemmap, 'host_s2_pool');
    hyp_pool_init(pool, Number(poolBase >> 12n), 64, 0);

    // prepare_host_vtcr: the PA size from ID_AA64MMFR0_EL1, capped at 48 bits.
    const mmfr0 = emu.reg('id_aa64mmfr0_el1');
    const vtcr = kvm_get_vtcr(mmfr0, emu.reg('id_aa64mmfr1_el1'), parange_to_phys_shift(kvm_get_parange(mmfr0)));
    const mmu: KvmS2Mmu = { vtcr, pgd_phys: 0n, vmid: 0, pgt: null };
    const pgt = new KvmPgtable();
    const isMemory = (pa: bigint): boolean => pa >= RAM && pa < RAM + RAM_SIZE;
    const ops = hostStage2PteOps({ addrIsMemory: isMemory, counting: 'linux-6.1' });
    expect(__kvm_pgtable_stage2_init(pgt, mmu, host_s2_mm_ops(pool), KVM_HOST_S2_FLAGS_V61, ops)).toBe(0);
    expect([pgt.ia_bits, pgt.start_level, 64 - pool.freePages()]).toEqual([ipaBits, startLevel, pgdPages]);
    mmu.pgd_phys = pgt.pgdPhys;
    // Live tables: the model's TLB maintenance goes to the CPU.
    pgt.tlbi = (op, xt) => emu.cpu.port.tlbi(op, Number(xt & 0xffff_ffffn) | 0, Number(xt >> 32n) | 0);

    // Host memory RWX in blocks, the UART RW, one hyp-owned page, one page shared with the hyp.
    const hypPage = RAM + 0x0300_0000n;
    const sharedPage = RAM + 0x0300_1000n;
    expect(kvm_pgtable_stage2_map(pgt, RAM, RAM_SIZE, RAM, PKVM_HOST_MEM_PROT, pool)).toBe(0);
    expect(kvm_pgtable_stage2_map(pgt, UART, PAGE, UART, PKVM_HOST_MMIO_PROT, pool)).toBe(0);
    expect(kvm_pgtable_stage2_set_owner(pgt, hypPage, PAGE, pool, PKVM_ID_HYP)).toBe(0);
    expect(kvm_pgtable_stage2_map(pgt, sharedPage, PAGE, sharedPage, pkvm_mkstate(PKVM_HOST_MEM_PROT, PKVM_PAGE_SHARED_OWNED), pool)).toBe(0);
    expect(kvm_pgtable_get_leaf(pgt, RAM)).toMatchObject({ level: 2 });
    expect(kvm_pgtable_get_leaf(pgt, hypPage)).toMatchObject({ pte: 0x4n, level: 3 });

    // __pkvm_prot_finalize: VTCR, VTTBR (VMID 0), HCR_EL2.VM; the host's stage 1 stays off.
    emu.setReg('vtcr_el2', vtcr);
    emu.setReg('vttbr_el2', mmu.pgd_phys);
    emu.setReg('hcr_el2', HCR_RW | HCR_VM);
    emu.setReg('el', 2n);
    return { emu, mem, pgt, pool, hypPage, sharedPage };
  }

  it('AT S12E1R/W: IPA = PA through blocks and pages; the hyp-owned page is a stage-2 translation fault', () => {
    const { emu, hypPage, sharedPage } = build();
    expect(emu.reg('vttbr_el2')).toBe(RAM + 0x0900_0000n);
    // With the EL1 MMU off, accesses are Device-nGnRnE whatever stage 2 says: attr 0x00, SH 2.
    expect(at(emu, 's12e1r', RAM + 0x0123_4567n)).toBe(parOk(RAM + 0x0123_4000n, 0x00, 2));
    expect(at(emu, 's12e1w', sharedPage + 0x18n)).toBe(parOk(sharedPage, 0x00, 2));
    expect(at(emu, 's12e1r', hypPage + 0x10n)).toBe(parFault(FSC_TRANSLATION(3), true));
    expect(at(emu, 's12e1w', UART)).toBe(parOk(UART, 0x00, 2));
    // Outside what was mapped: unmapped IPA, a stage-2 translation fault.
    expect(at(emu, 's12e1r', UART + PAGE) & 1n).toBe(1n);
  });

  it('a host load program at EL1: ordinary memory works, the hyp-owned page aborts to EL2 with HPFAR_EL2', () => {
    const { emu, mem, pgt, pool, hypPage, sharedPage } = build();
    mem.write64(RAM + 0x0200_0000n, 0xfeed_face_cafe_beefn);
    mem.write64(hypPage, 0x5ec2_e7n);
    writeCode(emu, CODE, [enc.ldr_x1_x0, enc.str_x1_x4, enc.ldr_x2_x3, enc.b_self]);
    writeCode(emu, RAM + 0x400n, [enc.b_self]); // VBAR_EL2 + 0x400: lower EL, AArch64, synchronous (EL2 MMU off)
    emu.setReg('vbar_el2', RAM);
    emu.setReg('x0', RAM + 0x0200_0000n);
    emu.setReg('x4', sharedPage + 0x20n);
    emu.setReg('x3', hypPage + 0x38n);
    emu.setReg('x2', 0n);
    emu.setReg('el', 1n);
    emu.setReg('pc', CODE);
    const e = runToException(emu);
    expect(emu.reg('x1')).toBe(0xfeed_face_cafe_beefn);
    expect(mem.read64(sharedPage + 0x20n)).toBe(0xfeed_face_cafe_beefn);
    expect(e).toEqual({ ec: 0x24, fromEl: 1, toEl: 2 });
    const esr = emu.reg('esr_el2');
    expect(Number(esr & 0x3fn)).toBe(FSC_TRANSLATION(3));
    expect(emu.reg('hpfar_el2')).toBe((hypPage >> 12n) << 4n);
    expect(emu.reg('far_el2')).toBe(hypPage + 0x38n);
    expect(emu.reg('elr_el2')).toBe(CODE + 8n);
    expect(emu.reg('x2')).toBe(0n);

    // Donating a page the host just used: set_owner breaks the entry and invalidates the TLB, so the
    // next access faults; giving it back (owner 0, then the idmap on fault) makes it work again.
    const page = RAM + 0x0200_0000n;
    writeCode(emu, CODE, [enc.ldr_x1_x0, enc.b_self]);
    emu.setReg('el', 1n);
    emu.setReg('pc', CODE);
    emu.setReg('x1', 0n);
    expect(runToException(emu, 3)).toBeNull();
    expect(emu.reg('x1')).toBe(0xfeed_face_cafe_beefn);
    expect(kvm_pgtable_stage2_set_owner(pgt, page, PAGE, pool, PKVM_ID_HYP)).toBe(0);
    emu.setReg('el', 1n);
    emu.setReg('pc', CODE);
    expect(runToException(emu)).toEqual({ ec: 0x24, fromEl: 1, toEl: 2 });
    expect(emu.reg('hpfar_el2')).toBe((page >> 12n) << 4n);
    expect(kvm_pgtable_stage2_set_owner(pgt, page, PAGE, pool, PKVM_ID_HOST)).toBe(0);
    expect(kvm_pgtable_get_leaf(pgt, page)).toMatchObject({ pte: 0n, level: 3 });
    emu.setReg('el', 1n);
    emu.setReg('pc', CODE);
    expect(runToException(emu)).toEqual({ ec: 0x24, fromEl: 1, toEl: 2 }); // lazily unmapped: a fault
    expect(kvm_pgtable_stage2_map(pgt, page, PAGE, page, PKVM_HOST_MEM_PROT, pool)).toBe(0); // host_stage2_idmap
    emu.setReg('el', 1n);
    emu.setReg('pc', CODE);
    emu.setReg('x1', 0n);
    expect(runToException(emu, 3)).toBeNull();
    expect(emu.reg('x1')).toBe(0xfeed_face_cafe_beefn);
  });
});

describe('the __pkvm_init flow in miniature: early allocator, hyp_back_vmemmap, hyp_pool_init through the hyp stage-1', () => {
  it('builds the hyp stage-1 from the pool, backs the vmemmap, and EL2 code reads struct hyp_page through its VA', () => {
    const emu = new Emulator({ cpu: 'cortex-a57', ramSize: Number(RAM_SIZE) });
    const mem = physMemOf(emu.board.memory);
    const hyp = new HypMemory(mem, -LINEAR);
    const VMEMMAP = 0x6000_0000_0000n;
    // The reserved pool: 2 MiB at RAM + 128 MiB; 64 pages each for the hyp stage-1 and host stage-2 tables.
    const poolPa = RAM + 0x0800_0000n, poolSize = SZ_2M, s1Pages = 64, s2Pages = 64;
    // divide_memory_pool (V61): the vmemmap of the pool range first, then the s1 and s2 pages.
    const vmStart = (VMEMMAP + (poolPa >> 12n) * 4n) & ~0xfffn;
    const vmEnd = (VMEMMAP + ((poolPa + poolSize) >> 12n) * 4n + 0xfffn) & ~0xfffn;
    const ea = hyp_early_alloc_init(hyp, hypVa(poolPa), poolSize);
    const vmemmapBase = hyp_early_alloc_contig(ea, Number((vmEnd - vmStart) >> 12n))!;
    const hypPgtBase = hyp_early_alloc_contig(ea, s1Pages)!;
    const hostS2PgtBase = hyp_early_alloc_contig(ea, s2Pages)!;
    expect(hyp.virt_to_phys(vmemmapBase)).toBe(poolPa);

    // recreate_hyp_mappings: the early allocator re-inited over the s1 pages builds the new table.
    const ea1 = hyp_early_alloc_init(hyp, hypPgtBase, BigInt(s1Pages) * PAGE);
    const pgt = new KvmPgtable();
    expect(kvm_pgtable_hyp_init(pgt, 48, hyp_early_alloc_mm_ops(ea1))).toBe(0);
    expect(kvm_pgtable_hyp_map(pgt, CODE, PAGE, CODE, PAGE_HYP_EXEC)).toBe(0);
    expect(kvm_pgtable_hyp_map(pgt, vmStart, vmEnd - vmStart, hyp.virt_to_phys(vmemmapBase), PAGE_HYP)).toBe(0); // hyp_back_vmemmap
    expect(kvm_pgtable_hyp_map(pgt, hypVa(poolPa), poolSize, poolPa, PAGE_HYP)).toBe(0); // the whole pool, RW
    const used = hyp_early_alloc_nr_used_pages(ea1);

    // __pkvm_init_finalise: hpool over the s1 pages, the early pages reserved; the vmemmap is reached
    // through the hyp stage-1, as the MMU reaches it for the kernel.
    const vmemmap = new HypVmemmap(mem, VMEMMAP, vmemmapResolverFromPgtable(pgt));
    const hpool = new HypPool(hyp, vmemmap, 'hpool');
    expect(hyp_pool_init(hpool, Number(hyp.virt_to_phys(hypPgtBase) >> 12n), s1Pages, used)).toBe(0);
    pgt.mm_ops = pkvm_pgtable_mm_ops(hpool);
    expect(fix_hyp_pgtable_refcnt(pgt)).toBe(0);
    const host_s2_pool = new HypPool(hyp, vmemmap, 'host_s2_pool');
    expect(hyp_pool_init(host_s2_pool, Number(hyp.virt_to_phys(hostS2PgtBase) >> 12n), s2Pages, 0)).toBe(0);
    expect([hpool.freePages(), host_s2_pool.freePages()]).toEqual([s1Pages - used, s2Pages]);

    // EL2 with this table: ldrh of the PGD page's struct hyp_page, by its vmemmap VA.
    const parange = kvm_get_parange(emu.reg('id_aa64mmfr0_el1'));
    emu.setReg('el', 2n);
    emu.setReg('mair_el2', MAIR_EL2_VALUE);
    emu.setReg('tcr_el2', 16n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (BigInt(parange) << 16n) | (1n << 23n) | (1n << 31n));
    emu.setReg('ttbr0_el2', pgt.pgdPhys);
    emu.setReg('sctlr_el2', INIT_SCTLR_EL2_MMU_ON);
    const pgdPfn = Number(pgt.pgdPhys >> 12n);
    writeCode(emu, CODE, [enc.ldrh_w1_x0, enc.b_self]);
    emu.setReg('x0', vmemmap.entryVa(pgdPfn));
    emu.setReg('pc', CODE);
    expect(runToException(emu, 2)).toBeNull();
    // The PGD holds 3 valid entries (idmap, vmemmap and linear-map subtrees): refcount 1 + 3.
    expect(emu.reg('x1')).toBe(4n);
    expect(at(emu, 's1e2r', vmemmap.entryVa(pgdPfn)) & 0xffff_ffff_f000n).toBe(poolPa);

    // A report-style summary of the table.
    expect(formatPgtableRanges(describeKvmPgtable(pgt))).toEqual([
      '0x40080000..0x40081000 L3 → 0x40080000 R-X',
      '0x600000120000..0x600000121000 L3 → 0x48000000 RW-', // __hyp_vmemmap + pfn(0x48000000) × 4
      '0x800048000000..0x800048200000 L2 → 0x48000000 RW-',
    ]);
  });
});
