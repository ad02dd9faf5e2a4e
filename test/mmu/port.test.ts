/**
 * The memory port around the MMU: accesses that cross a page boundary into a
 * differently mapped (or unmapped) page, the fast arrays' invalidation on
 * register writes, PSTATE.EL and PAN, and the translation description tools
 * and traces read.
 */
import { describe, expect, it } from 'vitest';
import { Access, access, AF, attrIndx, enableEl2, getReg, makeCpu, RAM, S1_DEFAULT, setReg, SH_INNER, Tables } from './support.js';
import type { Mmu } from '../../src/mmu/mmu.js';

const TABLES = RAM + 0x0100_0000n;

describe('page-crossing accesses', () => {
  it('read and write the two pages through their own translations', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    // VA 0x1000 -> PA +0x5000, VA 0x2000 -> PA +0x9000 (not contiguous).
    t.map(0x1000n, RAM + 0x5000n, 3);
    t.map(0x2000n, RAM + 0x9000n, 3);
    enableEl2(cpu, t);
    mem.writeBytes(Number(RAM + 0x5ffc0n), new Uint8Array(0)); // no-op: keep the chunk allocated
    mem.write32(Number(RAM) + 0x5ffc, 0x44332211);
    mem.write32(Number(RAM) + 0x9000, 0x88776655);
    cpu.el = 2;
    const out = new Int32Array(2);
    expect(cpu.port.read(0x1ffc, 0, 8, out, 0)).toBe(true);
    expect(out[0]! >>> 0).toBe(0x44332211);
    expect(out[1]! >>> 0).toBe(0x88776655);
    expect(cpu.port.write(0x1ffe, 0, 4, 0xdeadbeef | 0, 0)).toBe(true);
    expect(mem.read16(Number(RAM) + 0x5ffe)).toBe(0xbeef);
    expect(mem.read16(Number(RAM) + 0x9000)).toBe(0xdead);
  });

  it('fault on the second page with FAR = the access address', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, RAM + 0x5000n, 3);
    enableEl2(cpu, t);
    cpu.el = 2;
    cpu.setPc(0x4008_0000n);
    const out = new Int32Array(2);
    expect(cpu.port.read(0x1ffc, 0, 8, out, 0)).toBe(false);
    expect(getReg(cpu, 'esr_el2') & 0x3fn).toBe(0b000111n); // translation fault, level 3
    expect(getReg(cpu, 'far_el2')).toBe(0x2000n);
  });
});

describe('fast arrays', () => {
  it('are per EL and PAN, and flushed by translation-register writes', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, RAM + 0x5000n, 3);
    enableEl2(cpu, t);
    expect(access(cpu, 0x1000n).pa).toBe(RAM + 0x5000n);
    // EL1 with its MMU off sees the flat mapping for the same VA.
    expect(access(cpu, 0x1000n, Access.Read, 1).pa).toBe(0x1000n);
    // Turning the EL2 MMU off is seen at once.
    setReg(cpu, 'sctlr_el2', getReg(cpu, 'sctlr_el2') & ~1n);
    expect(access(cpu, 0x1000n).pa).toBe(0x1000n);
    expect(cpu.port.translationOn()).toBe(false);
    setReg(cpu, 'sctlr_el2', getReg(cpu, 'sctlr_el2') | 1n);
    expect(cpu.port.translationOn()).toBe(true);
    expect(access(cpu, 0x1000n).pa).toBe(RAM + 0x5000n);
  });

  it('survive many flushes (epoch wrap-around)', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, RAM + 0x5000n, 3);
    t.map(0x2000n, RAM + 0x6000n, 3);
    enableEl2(cpu, t);
    for (let i = 0; i < 10_000; i++) {
      const va = i % 2 === 0 ? 0x1000n : 0x2000n;
      expect(access(cpu, va).pa).toBe(i % 2 === 0 ? RAM + 0x5000n : RAM + 0x6000n);
      cpu.port.tlbi('vae2is', Number(va >> 12n), 0);
    }
  });
});

describe('translation description (tools, traces)', () => {
  it('reports PA, IPA, levels, memory type and shareability, or the fault', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, RAM + 0x5000n, 3, S1_DEFAULT);
    t.map(0x20_0000n, RAM + 0x20_0000n, 2, AF | attrIndx(1));
    enableEl2(cpu, t);
    const mmu = cpu.port.mmu as unknown as Mmu;
    expect(mmu.describe(0x1234n, { el: 2 })).toMatchObject({
      pa: RAM + 0x5234n, attr: 0xff, memoryType: 'Normal(outer WB-RWA, inner WB-RWA)', sh: 3, shareability: 'ISH', level: 3,
    });
    expect(mmu.describe(0x20_0010n, { el: 2 })).toMatchObject({ pa: RAM + 0x20_0010n, memoryType: 'Device-nGnRnE', shareability: 'OSH', level: 2 });
    expect(mmu.describe(0x3000n, { el: 2 })).toEqual({ fault: 'translation', level: 3, stage2: false, s1ptw: false });
    // port.probe (traces, gdb): the current EL's translation, without faults or TLB fills.
    cpu.el = 2;
    const live = mmu.tlb.live;
    expect(cpu.port.probe(0x1234, 0, Access.Fetch)).toBe(Number(RAM + 0x5234n));
    expect(cpu.port.probe(0x3000, 0, Access.Read)).toBe(-1);
    expect(mmu.tlb.live).toBe(live);
    // The last slow-path translation's attributes are kept for traces.
    access(cpu, 0x20_0020n);
    expect(mmu.lastAttr).toBe(0x00);
    void SH_INNER;
  });
});

describe('unmodelled configurations', () => {
  it('stops the CPU on translation in the VHE EL2&0 regime (HCR_EL2.E2H on cortex-a76)', async () => {
    const { CORTEX_A76 } = await import('../../src/cpu/cpu-model.js');
    const { cpu, mem } = makeCpu(CORTEX_A76);
    const t = new Tables(mem, 12, 48, TABLES);
    t.map(0x1000n, RAM + 0x5000n, 3);
    setReg(cpu, 'hcr_el2', (1n << 34n) | (1n << 31n));
    enableEl2(cpu, t, 0, 2);
    cpu.el = 2;
    expect(cpu.port.translate(0x1000, 0, Access.Read, 8)).toBe(-1);
    expect(cpu.stopRequest).toMatchObject({ kind: 'fatal' });
  });
});
