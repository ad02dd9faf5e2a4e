import { describe, expect, it } from 'vitest';
import { Cpu } from '../../src/cpu/cpu.js';
import { CORTEX_A57, CORTEX_A76, type CpuModel } from '../../src/cpu/cpu-model.js';
import { EC, exceptionReturn, illegalExceptionReturn, takeException, VectorKind } from '../../src/cpu/exceptions.js';
import { createVirtMachine } from '../../src/machine/virt.js';

const newCpu = (model: CpuModel = CORTEX_A57): Cpu => new Cpu(createVirtMachine({}).memory, model);
const big = (cpu: Cpu, name: string): bigint => cpu.sys.getBig(name);

describe('AArch64.TakeException', () => {
  it('saves PSTATE in SPSR, the return address in ELR, the syndrome in ESR, and vectors by source', () => {
    const cpu = newCpu();
    cpu.sys.setBig('vbar_el2', 0x40001000n);
    cpu.sys.setBig('hcr_el2', 1n << 31n);
    cpu.el = 1; cpu.spsel = 0; cpu.daif = 0b0101; cpu.nzcv = 0b1010; cpu.ss = 1; cpu.il = 1; cpu.btype = 2;
    cpu.syncStackPointer();
    cpu.setSp(0x1234n); // SP_EL0
    takeException(cpu, { targetEl: 2, ec: EC.HVC64, iss: 0x12, il: 1, returnLo: 0x800, returnHi: 1, vector: VectorKind.Synchronous });
    expect(big(cpu, 'spsr_el2')).toBe(0xa0000000n | (1n << 21n) | (1n << 20n) | (2n << 10n) | (0b0101n << 6n) | 4n);
    expect(big(cpu, 'elr_el2')).toBe(0x1_0000_0800n);
    expect(big(cpu, 'esr_el2')).toBe(0x5a000012n);
    expect(cpu.getPc()).toBe(0x40001400n); // lower EL, AArch64
    expect([cpu.el, cpu.spsel, cpu.daif, cpu.ss, cpu.il, cpu.btype, cpu.nzcv]).toEqual([2, 1, 0xf, 0, 0, 0, 0b1010]);
    expect(cpu.sys.getBig('sp_el0')).toBe(0x1234n);
    // Same EL: SP_EL0 → 0x000, SP_ELx → 0x200; IRQ adds 0x80 and leaves ESR alone.
    cpu.spsel = 0; cpu.syncStackPointer();
    takeException(cpu, { targetEl: 2, ec: 0, iss: 0, il: 1, returnLo: 0, returnHi: 0, vector: VectorKind.Synchronous });
    expect(cpu.getPc()).toBe(0x40001000n);
    takeException(cpu, { targetEl: 2, ec: 0x3f, iss: 0, il: 1, returnLo: 0, returnHi: 0, vector: VectorKind.Irq });
    expect(cpu.getPc()).toBe(0x40001280n);
    expect(big(cpu, 'esr_el2')).toBe(0x02000000n);
  });

  it('writes FAR only when given; carries the vector address into the upper half', () => {
    const cpu = newCpu();
    cpu.sys.setBig('vbar_el2', 0xfffff800n);
    cpu.sys.setBig('far_el2', 0x55n);
    takeException(cpu, { targetEl: 2, ec: EC.BRK64, iss: 1, il: 1, returnLo: 0, returnHi: 0, vector: VectorKind.Synchronous });
    expect(big(cpu, 'far_el2')).toBe(0x55n);
    expect(cpu.getPc()).toBe(0x1_0000_0000n + 0x200n - 0x800n);
    takeException(cpu, { targetEl: 2, ec: EC.DATA_ABORT_SAME, iss: 0x10, il: 1, returnLo: 0, returnHi: 0, vector: VectorKind.Synchronous, far: { lo: 0x1000, hi: 2 } });
    expect(big(cpu, 'far_el2')).toBe(0x2_0000_1000n);
  });

  it('PAN on entry to EL1 follows SCTLR_EL1.SPAN and SSBS follows SCTLR_ELx.DSSBS (cortex-a76 only)', () => {
    const a76 = newCpu(CORTEX_A76);
    a76.sys.setBig('sctlr_el1', 0x30450838n | (1n << 44n)); // SPAN = 0, DSSBS = 1
    a76.el = 1; a76.uao = 1;
    takeException(a76, { targetEl: 1, ec: EC.SVC64, iss: 0, il: 1, returnLo: 0, returnHi: 0, vector: VectorKind.Synchronous });
    expect([a76.pan, a76.ssbs, a76.uao]).toEqual([1, 1, 0]);
    const a57 = newCpu(CORTEX_A57);
    a57.sys.setBig('sctlr_el1', 0x30450838n | (1n << 44n));
    a57.el = 1;
    takeException(a57, { targetEl: 1, ec: EC.SVC64, iss: 0, il: 1, returnLo: 0, returnHi: 0, vector: VectorKind.Synchronous });
    expect([a57.pan, a57.ssbs]).toEqual([0, 0]);
    expect(big(a57, 'sctlr_el1') >> 44n).toBe(0n); // DSSBS is RES0 without FEAT_SSBS
  });
});

describe('IllegalExceptionReturn', () => {
  const check = (model: CpuModel, el: number, hcr: bigint, spsr: number): boolean => {
    const cpu = newCpu(model);
    cpu.sys.setBig('hcr_el2', hcr);
    cpu.el = el;
    return illegalExceptionReturn(cpu, spsr);
  };
  const RW = 1n << 31n, TGE = 1n << 27n, E2H = 1n << 34n;
  it.each([
    ['EL2h → EL1h', 2, RW, 0x5, false],
    ['EL2h → EL1t', 2, RW, 0x4, false],
    ['EL2h → EL0t', 2, RW, 0x0, false],
    ['EL2h → EL2t', 2, RW, 0x8, false],
    ['EL0 with M[0]', 2, RW, 0x1, true],
    ['M[1] set', 2, RW, 0x7, true],
    ['EL3', 2, RW, 0xd, true],
    ['EL1 → EL2', 1, RW, 0x9, true],
    ['EL1 → EL1h', 1, RW, 0x5, false],
    ['AArch64 EL1 with RW = 0', 2, 0n, 0x5, true],
    ['AArch64 EL0 with RW = 0', 2, 0n, 0x0, true],
    ['EL1 with TGE', 2, RW | TGE, 0x5, true],
    ['EL0 with TGE', 2, RW | TGE, 0x0, false],
    ['AArch32 SVC with RW = 0', 2, 0n, 0x13, false],
    ['AArch32 SVC with RW = 1', 2, RW, 0x13, true],
    ['AArch32 HYP', 2, 0n, 0x1a, true],
    ['AArch32 reserved mode', 2, 0n, 0x15, true],
  ])('cortex-a57: %s', (_name, el, hcr, spsr, illegal) => {
    expect(check(CORTEX_A57, el as number, hcr as bigint, spsr as number)).toBe(illegal);
  });
  it('cortex-a76: EL1 cannot be AArch32; E2H+TGE makes EL0 AArch64 regardless of RW', () => {
    expect(check(CORTEX_A76, 2, 0n, 0x13)).toBe(true);
    expect(check(CORTEX_A76, 2, TGE | E2H, 0x0)).toBe(false);
    expect(check(CORTEX_A76, 2, TGE, 0x0)).toBe(true);
  });
});

describe('AArch64.ExceptionReturn', () => {
  it('restores PSTATE, selects the banked SP, clears the monitor and sets the event register', () => {
    const cpu = newCpu();
    cpu.sys.setBig('hcr_el2', 1n << 31n);
    cpu.sys.setBig('sp_el1', 0x7000n);
    cpu.sys.setBig('spsr_el2', 0x600001c5n);
    cpu.sys.setBig('elr_el2', 0x40080100n);
    cpu.exclusiveAddress = 0x1000;
    exceptionReturn(cpu);
    expect([cpu.el, cpu.spsel, cpu.daif, cpu.nzcv, cpu.il]).toEqual([1, 1, 0x7, 0b0110, 0]);
    expect(cpu.getSp()).toBe(0x7000n);
    expect(cpu.getPc()).toBe(0x40080100n);
    expect(cpu.exclusiveAddress).toBe(-1);
    expect(cpu.eventRegister).toBe(1);
  });

  it('an illegal return keeps EL and SP, restores NZCV and DAIF, sets IL', () => {
    const cpu = newCpu();
    cpu.sys.setBig('spsr_el2', 0x900001c7n);
    cpu.sys.setBig('elr_el2', 0x40080102n);
    const events: string[] = [];
    cpu.onException = (e) => events.push(e.kind);
    exceptionReturn(cpu);
    expect([cpu.el, cpu.spsel, cpu.daif, cpu.nzcv, cpu.il]).toEqual([2, 1, 0x7, 0b1001, 1]);
    expect(cpu.getPc()).toBe(0x40080102n);
    expect(events).toEqual(['illegal-eret']);
  });

  it('a legal return to AArch32 stops the run (AArch32 is not implemented)', () => {
    const cpu = newCpu();
    cpu.sys.setBig('hcr_el2', 0n);
    cpu.sys.setBig('spsr_el2', 0x1d3n);
    exceptionReturn(cpu);
    expect(cpu.stopRequest?.kind).toBe('fatal');
  });
});
