/**
 * Stage-1 translation with hand-built tables in emulated memory: every
 * granule, start level and block size, output-address size checks,
 * descriptor faults at the right level, and the MMU-off behaviour.
 */
import { describe, expect, it } from 'vitest';
import { CORTEX_A57, CORTEX_A76 } from '../../src/cpu/cpu-model.js';
import {
  Access, access, AF, enableEl2, FSC, getReg, makeCpu, RAM, S1_DEFAULT, setReg, Tables, tcrEl2, attrIndx, SH_INNER,
} from './support.js';

const TABLES = RAM + 0x0100_0000n;

describe('stage 1, 4 KiB granule, EL2 regime', () => {
  it('translates pages, 2 MiB and 1 GiB blocks from a level-0 start (48-bit VA)', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    expect(t.startLevel).toBe(0);
    t.map(0x1234_5678_9000n, RAM + 0x5000n, 3);
    t.map(0x0000_8020_0000n, RAM + 0x0060_0000n, 2);
    t.map(0x0000_c000_0000n, 0x8000_0000n, 1);
    enableEl2(cpu, t);
    expect(access(cpu, 0x1234_5678_9abcn).pa).toBe(RAM + 0x5abcn);
    expect(access(cpu, 0x0000_8021_2344n).pa).toBe(RAM + 0x0061_2344n);
    expect(access(cpu, 0x0000_c123_4568n).pa).toBe(0x8123_4568n);
    // A second access hits the fast array (same answer).
    expect(access(cpu, 0x1234_5678_9ff8n).pa).toBe(RAM + 0x5ff8n);
  });

  it('reports translation faults at the level of the invalid descriptor', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x0000_4000_0000n, RAM, 3);
    enableEl2(cpu, t);
    // Level 0 entry missing.
    let r = access(cpu, 0x0100_0000_0000n);
    expect(r.fault).toMatchObject({ target: 2, ec: 0x25, fsc: FSC.translation(0), far: 0x0100_0000_0000n });
    // Level 1 entry missing (same L0 entry).
    r = access(cpu, 0x0000_8000_0000n);
    expect(r.fault?.fsc).toBe(FSC.translation(1));
    // Level 2 entry missing.
    r = access(cpu, 0x0000_4020_0000n);
    expect(r.fault?.fsc).toBe(FSC.translation(2));
    // Level 3 entry missing.
    r = access(cpu, 0x0000_4000_1000n, Access.Write);
    expect(r.fault?.fsc).toBe(FSC.translation(3));
    expect(r.fault!.iss & (1 << 6)).toBe(1 << 6); // WnR
    // Level 3 with bit 1 clear is reserved: translation fault.
    t.setRaw(0x0000_4000_2000n, 3, RAM | S1_DEFAULT | 1n);
    expect(access(cpu, 0x0000_4000_2000n).fault?.fsc).toBe(FSC.translation(3));
    // A block descriptor at level 0 does not exist with 4 KiB granules (QEMU 7.2 accepts it).
    const t0 = new Tables(mem, 12, 48, RAM + 0x0200_0000n);
    t0.setRaw(0x0080_0000_0000n, 0, 0n | S1_DEFAULT | 1n);
    setReg(cpu, 'ttbr0_el2', t0.root);
    expect(access(cpu, 0x0080_0000_0000n).fault?.fsc).toBe(FSC.translation(0));
  });

  it('instruction fetches report instruction aborts with IFSC', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x4000_0000n, RAM, 3);
    enableEl2(cpu, t);
    const r = access(cpu, 0x5000_0000n, Access.Fetch, 2, 4);
    expect(r.fault).toMatchObject({ ec: 0x21, fsc: FSC.translation(2), far: 0x5000_0000n });
    expect(r.fault!.esr >> 25n & 1n).toBe(1n); // IL
  });

  it('starts at level 1 and level 2 for smaller input sizes', () => {
    for (const [inputBits, level] of [[39, 1], [36, 1], [30, 2], [25, 2]] as const) {
      const { cpu, mem } = makeCpu();
      const t = new Tables(mem, 12, inputBits, TABLES);
      expect(t.startLevel).toBe(level);
      const va = (1n << BigInt(inputBits - 1)) + 0x3000n;
      t.map(va, RAM + 0x7000n, 3);
      enableEl2(cpu, t);
      expect(access(cpu, va + 0x10n).pa).toBe(RAM + 0x7010n);
      // Beyond the input range: translation fault at level 0.
      expect(access(cpu, 1n << BigInt(inputBits)).fault?.fsc).toBe(FSC.translation(0));
    }
  });

  it('checks output addresses against TCR_EL2.PS and the PA size', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, 0x1_0000_0000n, 3); // beyond 32 bits
    t.map(0x20_0000n, 0x2_0000_0000n, 2);
    t.map(0x4000_0000n, RAM, 3);
    enableEl2(cpu, t, 0, 0); // PS = 32 bits
    expect(access(cpu, 0x1000n).fault?.fsc).toBe(FSC.addressSize(3));
    expect(access(cpu, 0x20_0000n).fault?.fsc).toBe(FSC.addressSize(2));
    expect(access(cpu, 0x4000_0000n).pa).toBe(RAM);
    // PS = 44 bits: fine.
    setReg(cpu, 'tcr_el2', tcrEl2(16, 0, 4));
    expect(access(cpu, 0x1008n).pa).toBe(0x1_0000_0008n);
    // PS above the PE's 44-bit PARange is bounded by it.
    t.map(0x2000n, 1n << 45n, 3);
    setReg(cpu, 'tcr_el2', tcrEl2(16, 0, 5));
    expect(access(cpu, 0x2000n).fault?.fsc).toBe(FSC.addressSize(3));
    // A table address beyond the OA size faults at the level of the table descriptor.
    const d = t.slot(0x4000_0000n, 2);
    t.write64(d, (1n << 40n) | 3n);
    setReg(cpu, 'tcr_el2', tcrEl2(16, 0, 2)); // 40 bits
    cpu.port.tlbi('alle2', 0, 0); // the earlier translation of this page is cached
    expect(access(cpu, 0x4000_0000n).fault?.fsc).toBe(FSC.addressSize(2));
    // A TTBR beyond the OA size: address size fault at level 0.
    setReg(cpu, 'ttbr0_el2', 1n << 42n);
    expect(access(cpu, 0x5000n).fault?.fsc).toBe(FSC.addressSize(0));
  });

  it('reports a synchronous external abort on the walk at its level', () => {
    const { cpu } = makeCpu();
    setReg(cpu, 'mair_el2', 0xffn);
    setReg(cpu, 'tcr_el2', tcrEl2(16));
    setReg(cpu, 'ttbr0_el2', 0x3000_0000n); // not RAM, not a device
    setReg(cpu, 'sctlr_el2', getReg(cpu, 'sctlr_el2') | 1n);
    expect(access(cpu, 0x1000n).fault?.fsc).toBe(FSC.externalWalk(0));
  });

  it('faults on access-flag clear (no hardware update on cortex-a57)', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, RAM, 3, SH_INNER);
    t.map(0x20_0000n, RAM, 2, SH_INNER);
    enableEl2(cpu, t);
    expect(access(cpu, 0x1000n).fault?.fsc).toBe(FSC.accessFlag(3));
    expect(access(cpu, 0x20_0000n, Access.Fetch, 2, 4).fault).toMatchObject({ ec: 0x21, fsc: FSC.accessFlag(2) });
  });

  it('tolerates the contiguous hint', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    for (let i = 0n; i < 16n; i++) t.map(0x10000n + i * 0x1000n, RAM + 0x10000n + i * 0x1000n, 3, S1_DEFAULT | (1n << 52n));
    enableEl2(cpu, t);
    expect(access(cpu, 0x1f008n).pa).toBe(RAM + 0x1f008n);
  });

  it('with TBI ignores the top byte, without it the tagged address faults', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x3000n, RAM + 0x9000n, 3);
    enableEl2(cpu, t);
    expect(access(cpu, 0x5a00_0000_0000_3010n).fault?.fsc).toBe(FSC.translation(0));
    setReg(cpu, 'tcr_el2', tcrEl2(16) | (1n << 20n));
    expect(access(cpu, 0x5a00_0000_0000_3010n).pa).toBe(RAM + 0x9010n);
  });
});

describe('stage 1, 64 KiB granule', () => {
  it('translates 64 KiB pages from level 1 and 512 MiB blocks at level 2', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 16, 48, TABLES);
    expect(t.startLevel).toBe(1);
    t.map(0x7654_3210_0000n, RAM + 0x0030_0000n, 3);
    t.map(0x0000_6000_0000n, 0x6000_0000n, 2); // 512 MiB block
    enableEl2(cpu, t, 1);
    expect(access(cpu, 0x7654_3210_2345n).pa).toBe(RAM + 0x0030_2345n);
    expect(access(cpu, 0x0000_7fff_fff8n).pa).toBe(0x7fff_fff8n);
    // Level-1 blocks do not exist for 64 KiB without 52-bit addresses.
    t.setRaw(0x0400_0000_0000n, 1, 0n | S1_DEFAULT | 1n);
    expect(access(cpu, 0x0400_0000_0000n).fault?.fsc).toBe(FSC.translation(1));
  });

  it('starts at level 2 and level 3 for smaller input sizes', () => {
    for (const [inputBits, level] of [[42, 2], [30, 2], [29, 3], [25, 3]] as const) {
      const { cpu, mem } = makeCpu();
      const t = new Tables(mem, 16, inputBits, TABLES);
      expect(t.startLevel).toBe(level);
      const va = (1n << BigInt(inputBits - 1)) + 0x30000n;
      t.map(va, RAM + 0x70000n, 3);
      enableEl2(cpu, t, 1);
      expect(access(cpu, va + 0x1230n).pa).toBe(RAM + 0x71230n);
    }
  });
});

describe('stage 1, 16 KiB granule', () => {
  it('translates 16 KiB pages and 32 MiB blocks on cortex-a76 (level-0 start has two entries)', () => {
    const { cpu, mem } = makeCpu(CORTEX_A76);
    const t = new Tables(mem, 14, 48, TABLES);
    expect(t.startLevel).toBe(0);
    expect(t.startBits).toBe(1);
    t.map(0x8765_4321_c000n, RAM + 0x0004_0000n, 3);
    t.map(0x0000_4200_0000n, RAM + 0x0200_0000n, 2); // 32 MiB block
    enableEl2(cpu, t, 2, 2);
    expect(access(cpu, 0x8765_4321_e468n).pa).toBe(RAM + 0x0004_2468n);
    expect(access(cpu, 0x0000_43ff_fff0n).pa).toBe(RAM + 0x03ff_fff0n);
    // 47-bit input starts at level 1.
    const t47 = new Tables(mem, 14, 47, RAM + 0x0300_0000n);
    expect(t47.startLevel).toBe(1);
    t47.map(0x4000_0000_4000n, RAM + 0x8000n, 3);
    setReg(cpu, 'tcr_el2', tcrEl2(17, 2, 2));
    setReg(cpu, 'ttbr0_el2', t47.root);
    expect(access(cpu, 0x4000_0000_4008n).pa).toBe(RAM + 0x8008n);
  });

  it('on cortex-a57 (no 16 KiB granule) TG0 = 16 KiB behaves as an implemented granule (4 KiB)', () => {
    const { cpu, mem } = makeCpu(CORTEX_A57);
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, RAM + 0x2000n, 3);
    enableEl2(cpu, t, 2);
    expect(access(cpu, 0x1004n).pa).toBe(RAM + 0x2004n);
  });
});

describe('MMU off', () => {
  it('maps flat, faults on addresses beyond the PA size, and treats data as Device (unaligned faults)', () => {
    const { cpu } = makeCpu();
    expect(access(cpu, RAM + 0x10n).pa).toBe(RAM + 0x10n);
    expect(access(cpu, 1n << 44n).fault?.fsc).toBe(FSC.addressSize(0));
    expect(access(cpu, RAM + 0x11n, Access.Read, 2, 4).fault?.fsc).toBe(FSC.alignment);
    // Instruction fetches are Normal memory.
    expect(access(cpu, RAM + 0x14n, Access.Fetch, 2, 4).pa).toBe(RAM + 0x14n);
    // EL1 with SCTLR_EL1.M = 0 and no stage 2: the same.
    expect(access(cpu, RAM + 0x20n, Access.Write, 1).pa).toBe(RAM + 0x20n);
    expect(access(cpu, RAM + 0x21n, Access.Write, 1, 2).fault).toMatchObject({ target: 1, ec: 0x25, fsc: FSC.alignment });
  });

  it('faults unaligned data accesses to Device pages but not to Normal ones', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, RAM, 3, S1_DEFAULT | attrIndx(0));
    t.map(0x2000n, RAM, 3, AF | attrIndx(1));
    enableEl2(cpu, t);
    expect(access(cpu, 0x1003n, Access.Read, 2, 4).pa).toBe(RAM + 3n);
    expect(access(cpu, 0x2003n, Access.Read, 2, 4).fault?.fsc).toBe(FSC.alignment);
    expect(access(cpu, 0x2004n, Access.Read, 2, 4).pa).toBe(RAM + 4n);
    // SCTLR_EL2.A checks every data access.
    setReg(cpu, 'sctlr_el2', getReg(cpu, 'sctlr_el2') | 2n);
    expect(access(cpu, 0x1003n, Access.Read, 2, 4).fault?.fsc).toBe(FSC.alignment);
  });

  it('CORTEX_A57 model has no 16 KiB granule', () => {
    expect(CORTEX_A57.granules.g16k).toBe(false);
  });
});
