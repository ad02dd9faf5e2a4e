/**
 * Stage 2 (HCR_EL2.VM = 1) under the EL1&0 regime: VTCR_EL2 start levels and
 * concatenated tables for each granule, invalid configurations, stage-2
 * faults taken to EL2 with HPFAR_EL2, faults on the stage-1 walk (S1PTW),
 * ISV, combined attributes and HCR_EL2.PTW.
 */
import { describe, expect, it } from 'vitest';
import { CORTEX_A76 } from '../../src/cpu/cpu-model.js';
import type { Cpu } from '../../src/cpu/cpu.js';
import {
  Access, access, AF, AP_RW_ALL, FSC, getReg, HCR_VM, makeCpu, MAIR, RAM, S1_DEFAULT, S2_DEFAULT, S2_DEVICE, S2_NORMAL_WB, S2_R,
  S2_RW, setReg, SH_INNER, Tables, tcrEl1, vtcr, XN,
} from './support.js';

const S1_TABLES = RAM + 0x0100_0000n;
const S2_TABLES = RAM + 0x0200_0000n;
const MiB2 = 0x20_0000n;

function enableStage2(cpu: Cpu, s2: Tables, sl0: number, tg0 = 0, ps = 4, vmid = 0n): void {
  setReg(cpu, 'vtcr_el2', vtcr(64 - s2.inputBits, sl0, tg0, ps));
  setReg(cpu, 'vttbr_el2', s2.root | (vmid << 48n));
  setReg(cpu, 'hcr_el2', getReg(cpu, 'hcr_el2') | HCR_VM | (1n << 31n));
}

function enableStage1(cpu: Cpu, s1: Tables): void {
  setReg(cpu, 'mair_el1', BigInt(MAIR));
  setReg(cpu, 'tcr_el1', tcrEl1({ t0sz: 64 - s1.inputBits }));
  setReg(cpu, 'ttbr0_el1', s1.root);
  setReg(cpu, 'sctlr_el1', getReg(cpu, 'sctlr_el1') | 1n);
}

/** Stage 2 identity-mapping the first 64 MiB of RAM (where the tables live) with 2 MiB blocks, plus extra mappings. */
function identityRam(s2: Tables): void {
  s2.identity(RAM, 0x0400_0000n, 2, S2_DEFAULT);
}

describe('stage 2 start levels (4 KiB granule)', () => {
  const cases: [string, number, number, number][] = [
    // [what, IPA bits, SL0, start level]
    ['level 0 (SL0 = 2), 44-bit IPA', 44, 2, 0],
    ['level 0 (SL0 = 2), 40-bit IPA', 40, 2, 0],
    ['level 1 (SL0 = 1), 39-bit IPA', 39, 1, 1],
    ['level 1 with 2 concatenated tables, 40-bit IPA', 40, 1, 1],
    ['level 1 with 16 concatenated tables, 43-bit IPA', 43, 1, 1],
    ['level 2 (SL0 = 0), 30-bit IPA', 30, 0, 2],
    ['level 2 with 16 concatenated tables, 34-bit IPA', 34, 0, 2],
  ];
  for (const [what, ipaBits, sl0, level] of cases) {
    it(what, () => {
      const { cpu, mem } = makeCpu();
      const s2 = new Tables(mem, 12, ipaBits, S2_TABLES, level);
      expect(s2.startBits).toBe(ipaBits - (12 + 9 * (3 - level)));
      // Stage 1 off: IPA = VA. Map the top of the IPA space and RAM.
      const highIpa = (1n << BigInt(ipaBits)) - 0x1000n;
      s2.map(highIpa, RAM + 0x5000n, 3, S2_DEFAULT);
      s2.map(0x1000n, RAM + 0x6000n, 3, S2_DEFAULT);
      enableStage2(cpu, s2, sl0);
      expect(access(cpu, highIpa + 8n, Access.Read, 1).pa).toBe(RAM + 0x5008n);
      expect(access(cpu, 0x1010n, Access.Read, 1).pa).toBe(RAM + 0x6010n);
      // An IPA beyond the stage-2 input size: stage-2 translation fault, level 0.
      if (ipaBits < 44) {
        const r = access(cpu, 1n << BigInt(ipaBits), Access.Read, 1);
        expect(r.fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.translation(0) });
      }
    });
  }

  it('rejects inconsistent SL0/T0SZ combinations with a level-0 translation fault', () => {
    const { cpu, mem } = makeCpu();
    const s2 = new Tables(mem, 12, 48, S2_TABLES, 0);
    s2.map(0x1000n, RAM, 3, S2_DEFAULT);
    // 48-bit IPA from level 2 would need 2^18 concatenated tables.
    setReg(cpu, 'vtcr_el2', vtcr(16, 0));
    setReg(cpu, 'vttbr_el2', s2.root);
    setReg(cpu, 'hcr_el2', HCR_VM);
    expect(access(cpu, 0x1000n, Access.Read, 1).fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.translation(0), hpfar: 0x10n });
    // An IPA size above the PA size (44 bits): out of range, a level-0 translation fault (as QEMU).
    const s2c = new Tables(mem, 12, 48, RAM + 0x0300_0000n, 0);
    s2c.map(0x1000n, RAM, 3, S2_DEFAULT);
    setReg(cpu, 'vtcr_el2', vtcr(16, 2));
    setReg(cpu, 'vttbr_el2', s2c.root);
    expect(access(cpu, 0x1000n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
    // SL0 = 3 is reserved without FEAT_TTST.
    setReg(cpu, 'vtcr_el2', vtcr(34, 3));
    expect(access(cpu, 0x1000n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
    // SL0 = 2 (level 0) needs a PA size of at least 44 bits: invalid on cortex-a76 (40 bits).
    const a76 = makeCpu(CORTEX_A76);
    const s2b = new Tables(a76.mem, 12, 40, S2_TABLES, 0);
    setReg(a76.cpu, 'vtcr_el2', vtcr(24, 2, 0, 2));
    setReg(a76.cpu, 'vttbr_el2', s2b.root);
    setReg(a76.cpu, 'hcr_el2', HCR_VM);
    expect(access(a76.cpu, 0x1000n, Access.Read, 1).fault?.fsc).toBe(FSC.translation(0));
  });
});

describe('stage 2 with 64 KiB and 16 KiB granules', () => {
  it('64 KiB: level-2 start with concatenation (42-bit IPA), 512 MiB blocks', () => {
    const { cpu, mem } = makeCpu();
    const s2 = new Tables(mem, 16, 42, S2_TABLES, 2);
    expect(s2.startBits).toBe(13);
    s2.map(0x3ff_0001_0000n, RAM + 0x30000n, 3, S2_DEFAULT);
    s2.map(0x2000_0000n, 0x4000_0000n, 2, S2_DEFAULT);
    enableStage2(cpu, s2, 1, 1);
    expect(access(cpu, 0x3ff_0001_2340n, Access.Read, 1).pa).toBe(RAM + 0x32340n);
    expect(access(cpu, 0x2345_6780n, Access.Read, 1).pa).toBe(0x4345_6780n);
  });

  it('16 KiB (cortex-a76): level-1 start (SL0 = 2 needs 42-bit PAs; level 2 here), 32 MiB blocks', () => {
    const { cpu, mem } = makeCpu(CORTEX_A76);
    const s2 = new Tables(mem, 14, 36, S2_TABLES, 2);
    s2.map(0x8_0000_4000n, RAM + 0x8000n, 3, S2_DEFAULT);
    s2.map(0x200_0000n, RAM + 0x0200_0000n, 2, S2_DEFAULT);
    enableStage2(cpu, s2, 1, 2, 2);
    expect(access(cpu, 0x8_0000_4010n, Access.Read, 1).pa).toBe(RAM + 0x8010n);
    expect(access(cpu, 0x3ff_fff8n, Access.Read, 1).pa).toBe(RAM + 0x03ff_fff8n);
  });
});

describe('stage-2 faults', () => {
  function setup() {
    const { cpu, mem } = makeCpu();
    const s2 = new Tables(mem, 12, 40, S2_TABLES, 1);
    identityRam(s2);
    const s1 = new Tables(mem, 12, 48, S1_TABLES);
    return { cpu, mem, s1, s2 };
  }

  it('go to EL2 with EC 0x24/0x20, FAR_EL2 = VA, HPFAR_EL2 = IPA[47:12] << 4', () => {
    const { cpu, s1, s2 } = setup();
    s1.map(0x1000n, 0x8000_0000n, 3, S1_DEFAULT | AP_RW_ALL); // IPA outside what stage 2 maps
    s1.map(0x2000n, RAM + 0x0500_0000n, 3);
    s2.map(RAM + 0x0500_0000n, RAM + 0x0600_0000n, 3, AF | SH_INNER | S2_R | S2_NORMAL_WB | XN);
    enableStage1(cpu, s1);
    enableStage2(cpu, s2, 1);
    let r = access(cpu, 0x1234n, Access.Read, 1);
    expect(r.fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.translation(1), far: 0x1234n, hpfar: (0x8000_0000n >> 12n) << 4n });
    expect(r.fault!.iss & 0x80).toBe(0); // not S1PTW
    // From EL0 too.
    r = access(cpu, 0x1234n, Access.Read, 0);
    expect(r.fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.translation(1) });
    // Read-only at stage 2: writes fault with WnR, reads work.
    expect(access(cpu, 0x2008n, Access.Read, 1).pa).toBe(RAM + 0x0600_0008n);
    r = access(cpu, 0x2008n, Access.Write, 1);
    expect(r.fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.permission(3), hpfar: ((RAM + 0x0500_0000n) >> 12n) << 4n });
    expect(r.fault!.iss & 0x40).toBe(0x40);
    // Stage-2 XN: instruction abort to EL2.
    r = access(cpu, 0x2000n, Access.Fetch, 1, 4);
    expect(r.fault).toMatchObject({ target: 2, ec: 0x20, fsc: FSC.permission(3), far: 0x2000n });
  });

  it('report ISV and the instruction syndrome only for stage-2 data aborts on the access itself', () => {
    const { cpu, s1, s2 } = setup();
    s1.map(0x1000n, 0x8000_0000n, 3);
    enableStage1(cpu, s1);
    enableStage2(cpu, s2, 1);
    // LDR X3, [X1]: ISV, SAS = 3, SRT = 3, SF = 1.
    const syndrome = (1 << 24) | (3 << 22) | (3 << 16) | (1 << 15);
    cpu.port.accessSyndrome = syndrome;
    const r = access(cpu, 0x1000n, Access.Read, 1);
    cpu.port.accessSyndrome = 0;
    expect(r.fault!.iss & 0x1ffc000).toBe(syndrome);
  });

  it('a stage-1 table the stage 2 does not map is a stage-2 fault on the walk (S1PTW), HPFAR = the table IPA', () => {
    const { cpu, mem, s2 } = setup();
    // Stage-1 tables at an IPA that stage 2 leaves unmapped (above the 64 MiB identity map).
    const s1 = new Tables(mem, 12, 48, RAM + 0x0800_0000n);
    s1.map(0x1000n, RAM + 0x1000n, 3);
    enableStage1(cpu, s1);
    enableStage2(cpu, s2, 1);
    let r = access(cpu, 0x1000n, Access.Read, 1);
    expect(r.fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.translation(2), far: 0x1000n, hpfar: (s1.root >> 12n) << 4n });
    expect(r.fault!.iss & 0x80).toBe(0x80);
    // Instruction fetch: EC 0x20 with S1PTW.
    r = access(cpu, 0x1000n, Access.Fetch, 1, 4);
    expect(r.fault).toMatchObject({ target: 2, ec: 0x20, fsc: FSC.translation(2) });
    expect(r.fault!.iss & 0x80).toBe(0x80);
    // Map the root but not the next table: the fault names that table's IPA.
    s2.map(s1.root, s1.root, 3, S2_DEFAULT);
    r = access(cpu, 0x1000n, Access.Read, 1);
    expect(r.fault!.hpfar).toBe(((s1.root + 0x1000n) >> 12n) << 4n);
    // Stage-2 read-only tables are fine for walks; no access flag is a fault on the walk.
    s2.identity(RAM + 0x0800_0000n, MiB2, 2, AF | SH_INNER | S2_R | S2_NORMAL_WB);
    cpu.port.tlbi('vmalls12e1', 0, 0);
    expect(access(cpu, 0x1008n, Access.Read, 1).pa).toBe(RAM + 0x1008n);
    s2.identity(RAM + 0x0800_0000n, MiB2, 2, SH_INNER | S2_RW | S2_NORMAL_WB);
    cpu.port.tlbi('vmalls12e1', 0, 0);
    r = access(cpu, 0x1008n, Access.Read, 1);
    expect(r.fault).toMatchObject({ target: 2, fsc: FSC.accessFlag(2) });
    expect(r.fault!.iss & 0x80).toBe(0x80);
    // No ISV for S1PTW faults.
    expect(r.fault!.iss >> 24).toBe(0);
  });

  it('HCR_EL2.PTW: a stage-1 walk to stage-2 Device memory is a stage-2 permission fault', () => {
    const { cpu, mem, s2 } = setup();
    const s1 = new Tables(mem, 12, 48, RAM + 0x0800_0000n);
    s1.map(0x1000n, RAM + 0x1000n, 3);
    s2.identity(RAM + 0x0800_0000n, MiB2, 2, AF | SH_INNER | S2_RW | S2_DEVICE);
    enableStage1(cpu, s1);
    enableStage2(cpu, s2, 1);
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x1000n);
    setReg(cpu, 'hcr_el2', getReg(cpu, 'hcr_el2') | (1n << 2n));
    cpu.port.tlbi('vmalls12e1', 0, 0);
    const r = access(cpu, 0x1000n, Access.Read, 1);
    expect(r.fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.permission(2) });
    expect(r.fault!.iss & 0x80).toBe(0x80);
  });

  it('checks stage-2 output addresses against VTCR_EL2.PS, stage-1 outputs against TCR_EL1.IPS', () => {
    const { cpu, s1, s2 } = setup();
    s2.map(0x3000_0000n, 0x1_0000_0000n, 3, S2_DEFAULT);
    s1.map(0x1000n, 0x3000_0000n, 3);
    s1.map(0x2000n, 0x100_0000_0000n, 3); // 40-bit IPA: beyond IPS = 32 bits
    enableStage1(cpu, s1);
    enableStage2(cpu, s2, 1, 0, 0); // PS = 32 bits
    expect(access(cpu, 0x1000n, Access.Read, 1).fault).toMatchObject({ target: 2, fsc: FSC.addressSize(3) });
    setReg(cpu, 'tcr_el1', tcrEl1({ t0sz: 16, ips: 0 }));
    expect(access(cpu, 0x2000n, Access.Read, 1).fault).toMatchObject({ target: 1, fsc: FSC.addressSize(3) });
  });

  it('combines attributes: stage-2 Device makes unaligned accesses fault (taken to EL2)', () => {
    const { cpu, s1, s2 } = setup();
    s2.map(0x3000_0000n, RAM + 0x0500_0000n, 3, AF | SH_INNER | S2_RW | S2_DEVICE);
    s1.map(0x1000n, 0x3000_0000n, 3);
    enableStage1(cpu, s1);
    enableStage2(cpu, s2, 1);
    expect(access(cpu, 0x1004n, Access.Read, 1, 4).pa).toBe(RAM + 0x0500_0004n);
    expect(access(cpu, 0x1002n, Access.Read, 1, 4).fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.alignment });
  });

  it('stage 1 off under stage 2: IPA = VA, Device data (unaligned faults at stage 1, to EL1)', () => {
    const { cpu, s2 } = setup();
    s2.map(0x1000n, RAM + 0x7000n, 3, S2_DEFAULT);
    enableStage2(cpu, s2, 1);
    expect(access(cpu, 0x1010n, Access.Write, 1).pa).toBe(RAM + 0x7010n);
    expect(access(cpu, 0x1011n, Access.Write, 1, 2).fault).toMatchObject({ target: 1, ec: 0x25, fsc: FSC.alignment });
    expect(access(cpu, 0x2000n, Access.Write, 1).fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.translation(3) });
  });

  it('caches the combined translation in the TLB (a stage-2 change without TLBI is not seen)', () => {
    const { cpu, s1, s2 } = setup();
    s1.map(0x1000n, 0x3000_0000n, 3, S1_DEFAULT);
    const d = s2.map(0x3000_0000n, RAM + 0x0500_0000n, 3, S2_DEFAULT);
    enableStage1(cpu, s1);
    enableStage2(cpu, s2, 1);
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x0500_0000n);
    s2.write64(d, 0n);
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(RAM + 0x0500_0000n);
    const mmu = cpu.port.mmu as unknown as { tlb: { live: number } };
    expect(mmu.tlb.live).toBeGreaterThan(0);
  });
});

describe('stage-2 walks: hardware updates and external aborts', () => {
  it('VTCR_EL2.HA sets the stage-2 access flag, HD with DBM makes a page writable (cortex-a76)', () => {
    const { cpu, mem } = makeCpu(CORTEX_A76);
    const s2 = new Tables(mem, 12, 40, S2_TABLES, 1);
    const d1 = s2.map(0x1000n, RAM + 0x7000n, 3, SH_INNER | S2_RW | S2_NORMAL_WB);
    const d2 = s2.map(0x2000n, RAM + 0x8000n, 3, AF | SH_INNER | S2_R | S2_NORMAL_WB | (1n << 51n));
    setReg(cpu, 'vtcr_el2', vtcr(24, 1, 0, 2) | (1n << 21n) | (1n << 22n));
    setReg(cpu, 'vttbr_el2', s2.root);
    setReg(cpu, 'hcr_el2', HCR_VM);
    expect(access(cpu, 0x1008n, Access.Read, 1).pa).toBe(RAM + 0x7008n);
    expect(s2.read64(d1) & AF).toBe(AF);
    expect(access(cpu, 0x2008n, Access.Write, 1).pa).toBe(RAM + 0x8008n);
    expect(s2.read64(d2) & S2_RW).toBe(S2_RW);
  });

  it('an unreadable stage-2 table is a synchronous external abort on the walk, taken to EL2', () => {
    const { cpu } = makeCpu();
    setReg(cpu, 'vtcr_el2', vtcr(24, 1));
    setReg(cpu, 'vttbr_el2', 0x3000_0000n); // not RAM, not a device
    setReg(cpu, 'hcr_el2', HCR_VM);
    expect(access(cpu, 0x1000n, Access.Read, 1).fault).toMatchObject({ target: 2, ec: 0x24, fsc: FSC.externalWalk(1) });
  });
});
