import { describe, expect, it } from 'vitest';
import { program, runAsm, POWER_OFF, type AsmRun } from './system-support.js';
import { CORTEX_A57, CORTEX_A76 } from '../../src/cpu/cpu-model.js';
import { psciFirmware } from '../../src/cpu/exec/system-firmware.js';
import { Psci } from '../../src/machine/devices/psci.js';

const x = (r: AsmRun, n: number): bigint => r.cpu.getX(n);
const ESR = (ec: number, iss = 0): bigint => BigInt(((ec << 26) | (1 << 25) | iss) >>> 0);
/** ISS of a trapped MSR/MRS: Op0, Op2, Op1, CRn, Rt, CRm, Direction. */
const sysIss = (op0: number, op1: number, crn: number, crm: number, op2: number, rt: number, read: boolean): number =>
  (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | (read ? 1 : 0);
const sym = (r: AsmRun, name: string): bigint => r.symbols.get(name)!;

describe('exception generation', () => {
  it('SVC from EL1 goes to EL1 with EC 0x15 and returns after the SVC', () => {
    const r = runAsm(program({ el2: 'b to_el1', el1: 'svc #5\nafter_svc: mov x1, #1' }));
    expect(r.stop).toEqual({ kind: 'psci-off' });
    expect(x(r, 10)).toBe(ESR(0x15, 5));
    expect(x(r, 11)).toBe(sym(r, 'after_svc'));
    expect(x(r, 13)).toBe(0x3c5n);
    expect(x(r, 1)).toBe(1n);
  });

  it('SVC from EL0 goes to EL1, or to EL2 with HCR_EL2.TGE', () => {
    const r = runAsm(program({ el2: 'b to_el1', el1: 'b to_el0', el0: 'svc #7' }));
    expect(r.exceptions.filter((e) => e.kind === 'exception').map((e) => [e.fromEl, e.toEl, e.ec])).toContainEqual([0, 1, 0x15]);
    // TGE: EL2 enters EL0 directly.
    const t = runAsm(`
      adr x9, v
      msr vbar_el2, x9
      movz x9, #0x8800, lsl #16      // RW | TGE
      msr hcr_el2, x9
      mov x9, #0x3c0
      msr spsr_el2, x9
      adr x9, el0
      msr elr_el2, x9
      eret
    el0: svc #9
    .balign 0x800
    v: .org v + 0x400
      mrs x20, esr_el2
      ${POWER_OFF}`);
    expect(x(t, 20)).toBe(ESR(0x15, 9));
    expect(t.stop).toEqual({ kind: 'psci-off' });
  });

  it('HVC: EL1 → EL2 with EC 0x16; UNDEFINED at EL0 and with HCR_EL2.HCD', () => {
    const r = runAsm(program({ el2: 'b to_el1', el1: 'hvc #0x12\nafter: nop' }));
    // The first EL2 exception is the hvc #0x12; x20 ends with the final hvc #0xfff.
    expect(r.exceptions.find((e) => e.kind === 'exception' && e.toEl === 2)!.esrLo >>> 0).toBe(Number(ESR(0x16, 0x12)));
    const u = runAsm(program({ el2: 'b to_el1', el1: 'b to_el0', el0: 'hvc #1' }));
    expect(x(u, 10)).toBe(ESR(0x15, 0xfff));
    expect(u.exceptions.some((e) => e.kind === 'exception' && e.fromEl === 0 && e.ec === 0)).toBe(true);
    expect(u.undefineds.map((d) => d.name)).toContainEqual(expect.stringContaining('hvc at EL0'));
    const h = runAsm(program({ el2: 'mov x9, #(1 << 29)\nmsr hcr_el2, x9\nhvc #3\nmov x1, #1' }));
    expect(x(h, 20)).toBe(ESR(0));
    expect(x(h, 1)).toBe(1n);
  });

  it('SMC: UNDEFINED at EL0, trapped by HCR_EL2.TSC from EL1 (return address = the SMC), PSCI otherwise', () => {
    const t = runAsm(program({ hcr: 'movz x9, #0x8008, lsl #16', el2: 'b to_el1', el1: 'the_smc: smc #9' }));
    const trap = t.exceptions.find((e) => e.kind === 'exception' && e.ec === 0x17)!;
    expect(trap.esrLo >>> 0).toBe(Number(ESR(0x17, 9)));
    expect(t.stop).toEqual({ kind: 'psci-off' });
    const v = runAsm(`
      movz w0, #0x8400, lsl #16
      smc #0
      mov x1, x0
      mov x0, #0
      smc #1
      mov x2, x0
      movz x0, #0x8400, lsl #16
      movk x0, #1, lsl #32
      smc #2
      mov x3, x0
      ${POWER_OFF}`);
    expect(x(v, 1)).toBe(0x10000n); // PSCI 1.0
    expect(x(v, 2)).toBe(0xffffffffffffffffn); // NOT_SUPPORTED, as QEMU's firmware answers
    expect(x(v, 3)).toBe(0xffffffffffffffffn); // QEMU compares all of X0
    expect(v.stop).toEqual({ kind: 'psci-off' });
    const u = runAsm(program({ el2: 'b to_el1', el1: 'b to_el0', el0: 'smc #1' }));
    expect(u.undefineds.map((d) => d.name)).toContainEqual(expect.stringContaining('smc at EL0'));
  });

  it('uses cpu.firmwareCall when the machine installs one', () => {
    const calls: string[] = [];
    const r = runAsm(`mov x0, #5\nsmc #0\nmov x1, x0\n${POWER_OFF}`, {
      setup: (cpu) => {
        cpu.firmwareCall = (c) => {
          calls.push(c);
          if ((cpu.x[0]! >>> 0) === 0x84000008) { cpu.stopRequest = { kind: 'psci-off' }; return true; }
          cpu.x[0] = 42; cpu.x[1] = 0;
          return true;
        };
      },
    });
    expect(calls).toEqual(['smc', 'smc']);
    expect(x(r, 1)).toBe(42n);
  });

  it('psciFirmware: handles its conduit only; SYSTEM_RESET and CPU_OFF stop the run; HVC is the conduit without EL2', () => {
    const noEl2 = { ...CORTEX_A57, hasEl2: false };
    const r = runAsm(`movz w0, #0x8400, lsl #16\nhvc #0\nmov x1, x0\nmovz w0, #0x8400, lsl #16\nmovk w0, #9\nhvc #0`, { model: noEl2 });
    expect(x(r, 1)).toBe(0x10000n);
    expect(r.stop).toEqual({ kind: 'psci-reset' });
    const off = runAsm(`movz w0, #0x8400, lsl #16\nmovk w0, #2\nsmc #0\nmov x1, #1`);
    expect(off.stop).toEqual({ kind: 'psci-off' });
    const seen: string[] = [];
    const m = runAsm(program({ el2: 'b to_el1', el1: 'movz w0, #0x8400, lsl #16\nhvc #0x5' }), {
      setup: (cpu) => { cpu.firmwareCall = psciFirmware(cpu, (regs) => { seen.push('call'); return new Psci().callFromHalves(regs); }); },
    });
    // With EL2, HVC is never a firmware call: it goes to EL2.
    expect(seen).toEqual(['call']); // only the final SYSTEM_OFF smc
    expect(m.exceptions.find((e) => e.kind === 'exception' && e.toEl === 2)!.ec).toBe(0x16);
  });

  it('BRK: EC 0x3c with the immediate, return address = the BRK; MDCR_EL2.TDE routes EL1 to EL2', () => {
    const r = runAsm(program({ el2: 'b to_el1', el1: 'the_brk: brk #0x77' }));
    expect(x(r, 10)).toBe(ESR(0x3c, 0x77));
    expect(x(r, 11)).toBe(sym(r, 'the_brk'));
    const t = runAsm(program({ el2: 'mov x9, #(1 << 8)\nmsr mdcr_el2, x9\nb to_el1', el1: 'brk #0x78' }));
    expect(t.exceptions.find((e) => e.kind === 'exception' && e.ec === 0x3c)!.toEl).toBe(2);
  });

  it('HLT, DCPS, UDF, DRPS, PAuth, FlagM, SB and WFxT are UNDEFINED and reported by name', () => {
    const words = {
      hlt: 0xd4400000, dcps1: 0xd4a00001, udf: 0x00000012, drps: 0xd6bf03e0, eretaa: 0xd69f0bff, retaa: 0xd65f0bff,
      pacia: 0xdac10020, xpaci: 0xdac143e0, pacga: 0x9ac23020, sb: 0xd50330ff, setf8: 0x3a00080d, cfinv: 0xd500401f, wfet: 0xd5031000,
    };
    for (const [name, word] of Object.entries(words)) {
      const r = runAsm(`.inst 0x${word.toString(16)}\nmov x1, #1\n${POWER_OFF}`, { budget: 3 });
      expect(r.exceptions[0], name).toMatchObject({ kind: 'exception', toEl: 2, ec: 0 });
      expect(r.undefineds.length, name).toBe(1);
      expect(r.undefineds[0]!.name, name).toMatch(new RegExp(name === 'udf' ? 'udf #18' : name));
    }
  });
});

describe('exception return', () => {
  it('ERET restores PSTATE from SPSR_EL2 and branches to ELR_EL2', () => {
    const r = runAsm(`
      mov x9, #(1 << 31)
      msr hcr_el2, x9
      movz x9, #0x9000, lsl #16     // N, V
      movk x9, #0x144               // A, F masked, EL1t
      msr spsr_el2, x9
      adr x9, el1
      msr elr_el2, x9
      eret
    el1: mrs x1, currentel
      mrs x2, daif
      mrs x3, nzcv
      mrs x4, spsel
      b .`, { budget: 12 });
    expect([x(r, 1), x(r, 2), x(r, 3), x(r, 4)]).toEqual([4n, 0x140n, 0x90000000n, 0n]);
    expect(r.cpu.el).toBe(1);
  });

  it('ERET at EL0 is UNDEFINED', () => {
    const r = runAsm(program({ el2: 'b to_el1', el1: 'b to_el0', el0: 'eret' }));
    expect(r.undefineds.map((d) => d.name)).toContainEqual(expect.stringContaining('eret at EL0'));
  });

  const illegal = (spsr: number, hcr = '(1 << 31)', model = CORTEX_A57) => runAsm(`
      adr x9, v
      msr vbar_el2, x9
      mov x9, #${hcr}
      msr hcr_el2, x9
      movz x9, #0x${(spsr >>> 16).toString(16)}, lsl #16
      movk x9, #0x${(spsr & 0xffff).toString(16)}
      msr spsr_el2, x9
      adr x9, target
      msr elr_el2, x9
      eret
    target: mov x1, #1
    .balign 0x800
    v: .org v + 0x200
      mrs x20, esr_el2
      mrs x21, elr_el2
      mrs x23, spsr_el2
      mrs x2, currentel
      ${POWER_OFF}`, { model });

  it.each([
    ['M[1] set', 0x3c7],
    ['EL0 with M[0] set', 0x3c1],
    ['EL3', 0x3cd],
    ['AArch32 HYP mode', 0x3da],
  ])('illegal return (%s): IL set, EL kept, Illegal Execution state exception at the target', (_what, spsr) => {
    const r = illegal(spsr);
    expect(x(r, 20)).toBe(ESR(0x0e));
    expect(x(r, 21)).toBe(sym(r, 'target'));
    expect(x(r, 23) & (1n << 20n)).toBe(1n << 20n);
    expect(x(r, 2)).toBe(8n);
    expect(x(r, 1)).toBe(0n);
    expect(r.exceptions[0]!.kind).toBe('illegal-eret');
  });

  it('returning to AArch64 EL1 while HCR_EL2.RW is 0 is illegal (as QEMU does)', () => {
    const r = illegal(0x3c5, '0');
    expect(x(r, 20)).toBe(ESR(0x0e));
  });

  it('returning to EL1 with HCR_EL2.TGE set is illegal', () => {
    const r = illegal(0x3c5, '0x88000000');
    expect(x(r, 20)).toBe(ESR(0x0e));
  });

  it('a legal return restores SPSR.IL, which raises the Illegal Execution state exception', () => {
    const r = illegal(0x1003c5);
    expect(r.exceptions[0]).toMatchObject({ kind: 'eret', toEl: 1 });
    expect(r.exceptions[1]).toMatchObject({ kind: 'exception', fromEl: 1, toEl: 1, ec: 0x0e });
  });

  it('ERET from EL1 to EL2 is illegal', () => {
    const r = runAsm(program({ el2: 'b to_el1', el1: 'mov x9, #0x3c9\nmsr spsr_el1, x9\nadr x9, 1f\nmsr elr_el1, x9\neret\n1: nop' }));
    expect(r.exceptions.some((e) => e.kind === 'illegal-eret' && e.fromEl === 1)).toBe(true);
    expect(r.exceptions.some((e) => e.kind === 'exception' && e.ec === 0x0e && e.toEl === 1)).toBe(true);
  });
});

describe('exception entry', () => {
  it('uses the vector offset for the current EL with SP_EL0', () => {
    const r = runAsm(`
      adr x9, v
      msr vbar_el2, x9
      msr spsel, #0
      svc #1
    .balign 0x800
    v: mov x1, #0x11
      ${POWER_OFF}`);
    expect(x(r, 1)).toBe(0x11n);
  });

  it('keeps NZCV, masks DAIF, selects SP_ELx and saves PSTATE in SPSR', () => {
    const r = runAsm(program({ el2: 'b to_el1', el1: 'msr daifclr, #0xf\nmsr spsel, #0\nmovz x9, #0xf000, lsl #16\nmsr nzcv, x9\nsvc #1\nmrs x5, nzcv' }));
    expect(x(r, 13)).toBe(0xf0000004n);
    expect(x(r, 5)).toBe(0xf0000000n);
  });

  it('sets PAN on entry to EL1 when SCTLR_EL1.SPAN is 0 (cortex-a76), clears UAO', () => {
    const onEntry = (cpu: import('../../src/cpu/cpu.js').Cpu, seen: number[][]) => {
      const prev = cpu.onException;
      cpu.onException = (e) => { if (e.kind === 'exception' && e.toEl === 1) seen.push([cpu.pan, cpu.uao]); prev?.(e); };
    };
    const keep: number[][] = [];
    // SCTLR_EL1 resets with SPAN (bit 23) set on cortex-a76: PAN is left alone.
    runAsm(program({ el2: 'b to_el1', el1: 'msr pan, #0\nmsr uao, #1\nsvc #1' }), { model: CORTEX_A76, setup: (c) => onEntry(c, keep) });
    expect(keep[0]).toEqual([0, 0]);
    const set: number[][] = [];
    const s = runAsm(program({ el2: 'b to_el1', el1: 'mrs x9, sctlr_el1\nbic x9, x9, #(1 << 23)\nmsr sctlr_el1, x9\nmsr pan, #0\nmsr uao, #1\nsvc #1\nmrs x5, pan\nmrs x6, uao' }),
      { model: CORTEX_A76, setup: (c) => onEntry(c, set) });
    expect(set[0]).toEqual([1, 0]);
    expect(x(s, 13) & (1n << 23n)).toBe(1n << 23n); // SPSR.UAO saved
    expect([x(s, 5), x(s, 6)]).toEqual([0n, 1n << 23n]); // restored by ERET
  });
});

describe('system registers: access rules', () => {
  it('reads the PSTATE views', () => {
    const r = runAsm(`mrs x1, currentel\nmrs x2, daif\nmrs x3, nzcv\nmrs x4, spsel\nmsr daifclr, #0x5\nmrs x5, daif\nmsr daifset, #0x1\nmrs x6, daif\n${POWER_OFF}`);
    expect([x(r, 1), x(r, 2), x(r, 3), x(r, 4), x(r, 5), x(r, 6)]).toEqual([8n, 0x3c0n, 0x40000000n, 1n, 0x280n, 0x2c0n]);
  });

  it('UNDEFINED: below the minimum EL, read-only writes, write-only reads, unknown encodings', () => {
    const cases: [string, string][] = [
      ['msr midr_el1, x1', 'read-only'],
      ['mrs x1, oslar_el1', 'write-only'],
      ['mrs x1, s3_0_c15_c15_7', 'IMPLEMENTATION DEFINED'],
      ['mrs x1, s3_2_c3_c3_3', 'unknown system register'],
      ['mrs x1, sctlr_el3', 'sctlr_el3'],
      ['mrs x1, pan', 'not implemented by cortex-a57'],
      ['msr ttbr1_el2, x1', 'not implemented by cortex-a57'],
    ];
    for (const [insn, why] of cases) {
      const r = runAsm(`${insn}\n${POWER_OFF}`, { budget: 2 });
      expect(r.exceptions[0], insn).toMatchObject({ kind: 'exception', ec: 0 });
      expect(r.undefineds[0]?.name, insn).toContain(why);
    }
    const el1 = runAsm(program({ el2: 'b to_el1', el1: 'mrs x1, hcr_el2\nmrs x2, sp_el1\nmsr spsel, #0\nmrs x3, sp_el0' }));
    expect(el1.undefineds.map((u) => u.name)).toEqual([
      expect.stringContaining('hcr_el2'), expect.stringContaining('sp_el1'), expect.stringContaining('SP_EL0 is the current stack pointer'),
    ]);
    const el0 = runAsm(program({ el2: 'b to_el1', el1: 'b to_el0', el0: 'mrs x1, sctlr_el1\nmrs x2, currentel\nmsr spsel, #1\nmsr tpidrro_el0, x1\nmrs x3, tpidrro_el0' }));
    expect(el0.undefineds.length).toBe(4);
  });

  it('reserved ID-space encodings read as zero; SP_EL0/SP_EL1 banking', () => {
    const r = runAsm(`mov x1, #7\nmrs x1, s3_0_c0_c3_7\nmov x9, #0x100\nmsr sp_el1, x9\nmov x9, #0x200\nmsr sp_el0, x9\nmov x9, #0x300\nmov sp, x9\nmsr spsel, #0\nmov x2, sp\nmrs x3, sp_el1\n${POWER_OFF}`);
    expect([x(r, 1), x(r, 2), x(r, 3)]).toEqual([0n, 0x200n, 0x100n]);
  });

  it("cortex-a57's IMPLEMENTATION DEFINED registers read as zero and ignore writes; cortex-a76 has none", () => {
    const src = program({ el2: 'b to_el1', el1: 'mov x1, #-1\nmsr s3_1_c15_c2_1, x1\nmrs x2, s3_1_c15_c2_1\nmrs x3, s3_1_c11_c0_2' });
    const a57 = runAsm(src);
    expect([x(a57, 2), x(a57, 3)]).toEqual([0n, 0n]);
    expect(a57.undefineds).toEqual([]);
    const a76 = runAsm(src, { model: CORTEX_A76 });
    expect(a76.undefineds.length).toBe(3);
  });

  it('MIDR_EL1/MPIDR_EL1 at EL1 read VPIDR_EL2/VMPIDR_EL2', () => {
    const r = runAsm(program({ el2: 'mov x9, #0x1234\nmsr vpidr_el2, x9\nmov x9, #3\nmsr vmpidr_el2, x9\nmrs x3, midr_el1\nb to_el1', el1: 'mrs x1, midr_el1\nmrs x2, mpidr_el1' }));
    expect([x(r, 1), x(r, 2), x(r, 3)]).toEqual([0x1234n, 0x80000003n, 0x411fd070n]);
  });

  it('CCSIDR_EL1 follows CSSELR_EL1', () => {
    const r = runAsm(`mrs x1, ccsidr_el1\nmov x9, #1\nmsr csselr_el1, x9\nmrs x2, ccsidr_el1\nmov x9, #2\nmsr csselr_el1, x9\nmrs x3, ccsidr_el1\nmov x9, #0xff\nmsr csselr_el1, x9\nmrs x4, csselr_el1\nmrs x5, ccsidr_el1\n${POWER_OFF}`);
    expect([x(r, 1), x(r, 2), x(r, 3), x(r, 4), x(r, 5)]).toEqual([0x701fe00an, 0x201fe012n, 0x70ffe07an, 0xfn, 0n]);
  });

  it('MSR applies RES0/RES1 masks', () => {
    const r = runAsm(`mov x1, #-1\nmsr hcr_el2, x1\nmrs x2, hcr_el2\nmsr vbar_el2, x1\nmrs x3, vbar_el2\nmov x1, #0\nmsr sctlr_el2, x1\nmrs x4, sctlr_el2\nmsr cptr_el2, x1\nmrs x5, cptr_el2\nmsr tcr_el2, x1\nmrs x6, tcr_el2\nmsr vtcr_el2, x1\nmrs x7, vtcr_el2\nmov x1, #-1\nmsr spsr_el2, x1\nmrs x8, spsr_el2\nmov x1, #0\nmsr hcr_el2, x1\n${POWER_OFF}`);
    expect(x(r, 2)).toBe(0x3ffffffffn);
    expect(x(r, 3)).toBe(0xfffffffffffff800n);
    expect(x(r, 4)).toBe(0x30c50830n);
    expect(x(r, 5)).toBe(0x33ffn);
    expect(x(r, 6)).toBe(0x80800000n);
    expect(x(r, 7)).toBe(0x80000000n);
    expect(x(r, 8)).toBe(0xffffffffn);
  });

  it('PMU SET/CLR pairs share their state; PMCR_EL0 keeps N/IDCODE/IMP and reads P/C as 0', () => {
    const r = runAsm(`mov x1, #0x5\nmsr pmcntenset_el0, x1\nmov x1, #0x2\nmsr pmcntenset_el0, x1\nmov x1, #0x4\nmsr pmcntenclr_el0, x1\nmrs x2, pmcntenset_el0\nmrs x3, pmcntenclr_el0\nmov x1, #-1\nmsr pmcr_el0, x1\nmrs x4, pmcr_el0\nmov x1, #1\nmsr oslar_el1, x1\nmrs x5, oslsr_el1\nmsr oslar_el1, xzr\nmrs x6, oslsr_el1\n${POWER_OFF}`);
    expect([x(r, 2), x(r, 3), x(r, 4), x(r, 5), x(r, 6)]).toEqual([3n, 3n, 0x41013079n, 0xan, 0x8n]);
  });

  it('PMXEVTYPER_EL0/PMXEVCNTR_EL0 reach the counter PMSELR_EL0 selects', () => {
    const r = runAsm(`mov x9, #2\nmsr pmselr_el0, x9\nmov x1, #0x11\nmsr pmxevtyper_el0, x1\nmov x1, #0x22\nmsr pmxevcntr_el0, x1\nmrs x2, pmevtyper2_el0\nmrs x3, pmevcntr2_el0\nmov x9, #31\nmsr pmselr_el0, x9\nmov x1, #0x33\nmsr pmxevtyper_el0, x1\nmrs x4, pmccfiltr_el0\nmrs x5, pmxevcntr_el0\n${POWER_OFF}`);
    expect([x(r, 2), x(r, 3), x(r, 4), x(r, 5)]).toEqual([0x11n, 0x22n, 0x33n, 0n]);
  });

  it('FPCR/FPSR keep their defined bits', () => {
    const r = runAsm(`mov x1, #-1\nmsr fpcr, x1\nmrs x2, fpcr\nmsr fpsr, x1\nmrs x3, fpsr\n${POWER_OFF}`);
    expect([x(r, 2), x(r, 3)]).toEqual([0x07f70000n, 0xf800009fn]);
  });
});

describe('system registers: EL2 traps of EL1/EL0 accesses (EC 0x18)', () => {
  const trapAtEl1 = (hcrBits: string, el1: string, setup = '') =>
    runAsm(program({ hcr: `movz x9, #0x8000, lsl #16${hcrBits === '0' ? '' : `\norr x9, x9, #${hcrBits}`}`, el2: `${setup}\nb to_el1`, el1 }));
  const firstTrap = (r: AsmRun) => r.exceptions.find((e) => e.kind === 'exception' && e.toEl === 2 && e.ec !== 0x16);

  it.each([
    ['TVM: msr sctlr_el1', '(1 << 26)', 'msr sctlr_el1, x3', sysIss(3, 0, 1, 0, 0, 3, false)],
    ['TRVM: mrs ttbr0_el1', '(1 << 30)', 'mrs x4, ttbr0_el1', sysIss(3, 0, 2, 0, 0, 4, true)],
    ['TID3: mrs id_aa64pfr0_el1', '(1 << 18)', 'mrs x5, id_aa64pfr0_el1', sysIss(3, 0, 0, 4, 0, 5, true)],
    ['TID3: reserved ID encoding', '(1 << 18)', 'mrs x5, s3_0_c0_c3_7', sysIss(3, 0, 0, 3, 7, 5, true)],
    ['TID1: mrs revidr_el1', '(1 << 16)', 'mrs x6, revidr_el1', sysIss(3, 0, 0, 0, 6, 6, true)],
    ['TID2: mrs ctr_el0', '(1 << 17)', 'mrs x7, ctr_el0', sysIss(3, 3, 0, 0, 1, 7, true)],
    ['TID2: msr csselr_el1', '(1 << 17)', 'msr csselr_el1, x7', sysIss(3, 2, 0, 0, 0, 7, false)],
    ['TACR: msr actlr_el1', '(1 << 21)', 'msr actlr_el1, x1', sysIss(3, 0, 1, 0, 1, 1, false)],
    ['TIDCP: IMPLEMENTATION DEFINED register', '(1 << 20)', 'mrs x2, s3_1_c15_c2_1', sysIss(3, 1, 15, 2, 1, 2, true)],
    ['TSW: dc csw', '(1 << 22)', 'dc csw, x1', sysIss(1, 0, 7, 10, 2, 1, false)],
    ['TPCP: dc civac', '(1 << 23)', 'dc civac, x1', sysIss(1, 3, 7, 14, 1, 1, false)],
    ['TPU: ic iallu', '(1 << 24)', 'ic iallu', sysIss(1, 0, 7, 5, 0, 31, false)],
    ['TPU: dc cvau', '(1 << 24)', 'dc cvau, x2', sysIss(1, 3, 7, 11, 1, 2, false)],
    ['TTLB: tlbi vmalle1', '(1 << 25)', 'tlbi vmalle1', sysIss(1, 0, 8, 7, 0, 31, false)],
    ['TDZ: dc zva', '(1 << 28)', 'dc zva, x1', sysIss(1, 3, 7, 4, 1, 1, false)],
  ])('%s', (_name, bits, insn, iss) => {
    const r = trapAtEl1(bits, insn);
    const t = firstTrap(r)!;
    expect(t).toMatchObject({ fromEl: 1, toEl: 2, ec: 0x18 });
    expect(t.esrLo >>> 0).toBe(Number(ESR(0x18, iss)));
  });

  it.each([
    ['CPTR_EL2.TCPAC: cpacr_el1', 'mov x9, #0x33ff\norr x9, x9, #(1 << 31)\nmsr cptr_el2, x9', 'mrs x1, cpacr_el1', 0x18],
    ['MDCR_EL2.TPM: pmcntenset_el0', 'mov x9, #(1 << 6)\nmsr mdcr_el2, x9', 'mrs x1, pmcntenset_el0', 0x18],
    ['MDCR_EL2.TPMCR: pmcr_el0', 'mov x9, #(1 << 5)\nmsr mdcr_el2, x9', 'mrs x1, pmcr_el0', 0x18],
    ['MDCR_EL2.TDA: mdscr_el1', 'mov x9, #(1 << 9)\nmsr mdcr_el2, x9', 'mrs x1, mdscr_el1', 0x18],
    ['MDCR_EL2.TDE: dbgbvr0_el1', 'mov x9, #(1 << 8)\nmsr mdcr_el2, x9', 'msr dbgbvr0_el1, x1', 0x18],
    ['MDCR_EL2.TDOSA: oslar_el1', 'mov x9, #(1 << 10)\nmsr mdcr_el2, x9', 'msr oslar_el1, x1', 0x18],
    ['MDCR_EL2.TDRA: mdrar_el1', 'mov x9, #(1 << 11)\nmsr mdcr_el2, x9', 'mrs x1, mdrar_el1', 0x18],
    ['CNTHCTL_EL2.EL1PCTEN: cntpct_el0', 'mov x9, #2\nmsr cnthctl_el2, x9', 'mrs x1, cntpct_el0', 0x18],
    ['CNTHCTL_EL2.EL1PCEN: cntp_ctl_el0', 'mov x9, #1\nmsr cnthctl_el2, x9', 'mrs x1, cntp_ctl_el0', 0x18],
    ['CPTR_EL2.TFP: fpcr (EC 0x07)', 'mov x9, #0x37ff\nmsr cptr_el2, x9\nmov x9, #(3 << 20)\nmsr cpacr_el1, x9', 'mrs x1, fpcr', 0x07],
  ])('%s', (_name, setup, insn, ec) => {
    const r = trapAtEl1('0', insn, setup);
    expect(firstTrap(r)).toMatchObject({ fromEl: 1, toEl: 2, ec });
  });

  it('no trap without the control bit; HSTR_EL2 has no effect on AArch64', () => {
    const r = trapAtEl1('0', 'msr sctlr_el1, x3\nmrs x1, id_aa64pfr0_el1\ndc csw, x1\ntlbi vmalle1\nmrs x2, cntpct_el0\nmrs x2, cpacr_el1', 'mov x9, #-1\nmsr hstr_el2, x9');
    expect(firstTrap(r)).toBeUndefined();
    expect(r.undefineds).toEqual([]);
  });

  it('CPACR_EL1.FPEN traps EL1 FP register access to EL1 with EC 0x07', () => {
    const r = runAsm(program({ el2: 'b to_el1', el1: 'mrs x1, fpsr\nmov x9, #(3 << 20)\nmsr cpacr_el1, x9\nmrs x2, fpsr' }));
    const fp = r.exceptions.filter((e) => e.kind === 'exception' && e.ec === 0x07);
    expect(fp.length).toBe(1);
    expect(fp[0]).toMatchObject({ fromEl: 1, toEl: 1 });
    expect(fp[0]!.esrLo >>> 0).toBe(0x1fe00000);
  });

  it('WFI/WFE trapped by HCR_EL2.TWI/TWE (EC 0x01)', () => {
    // The trap handler's ERET sets the event register, so the first WFE after it completes at once.
    const r = trapAtEl1('(1 << 13) | (1 << 14)', 'wfi\nwfe\nwfe');
    const t = r.exceptions.filter((e) => e.kind === 'exception' && e.ec === 0x01).map((e) => e.esrLo >>> 0);
    expect(t).toEqual([Number(ESR(0x01, 0x1e00000)), Number(ESR(0x01, 0x1e00001))]);
  });
});

describe('system registers: EL1 controls of EL0 accesses', () => {
  const el0Traps = (el1Setup: string, el0: string) => {
    const r = runAsm(program({ el2: 'b to_el1', el1: `${el1Setup}\nb to_el0`, el0 }));
    return r.exceptions.filter((e) => e.kind === 'exception' && e.fromEl === 0 && e.ec !== 0x15).map((e) => [e.toEl, e.ec]);
  };
  it('SCTLR_EL1.UCT/UMA/DZE/UCI/nTWI, CNTKCTL_EL1, PMUSERENR_EL0, CPACR_EL1', () => {
    // SCTLR_EL1 resets with nTWI/nTWE set and UCT/UMA/DZE/UCI clear (QEMU's value).
    expect(el0Traps('', 'mrs x1, ctr_el0\nmrs x1, daif\nmsr daifset, #1\ndc zva, x1\ndc cvau, x1\nic ivau, x1\nwfe')).toEqual([
      [1, 0x18], [1, 0x18], [1, 0x18], [1, 0x18], [1, 0x18], [1, 0x18],
    ]);
    expect(el0Traps('mrs x9, sctlr_el1\nbic x9, x9, #(1 << 16)\nmsr sctlr_el1, x9', 'wfi')).toEqual([[1, 0x01]]);
    expect(el0Traps('', 'mrs x1, cntpct_el0\nmrs x1, cntvct_el0\nmrs x1, cntfrq_el0\nmrs x1, cntv_ctl_el0\nmrs x1, pmcr_el0\nmrs x1, pmuserenr_el0\nmrs x1, fpcr')).toEqual([
      [1, 0x18], [1, 0x18], [1, 0x18], [1, 0x18], [1, 0x18], [1, 0x07],
    ]);
    expect(el0Traps('mov x9, #0x303\nmsr cntkctl_el1, x9\nmov x9, #1\nmsr pmuserenr_el0, x9\nmov x9, #(3 << 20)\nmsr cpacr_el1, x9',
      'mrs x1, cntpct_el0\nmrs x1, cntvct_el0\nmrs x1, cntfrq_el0\nmrs x1, cntv_ctl_el0\nmrs x1, pmcr_el0\nmrs x1, fpcr')).toEqual([]);
  });
});

describe('MSR (immediate)', () => {
  it('SPSel selects the stack pointer; PAN/UAO/SSBS only where implemented', () => {
    const r = runAsm(`mov x9, #0x10\nmov sp, x9\nmsr spsel, #0\nmov x1, sp\nmsr spsel, #1\nmov x2, sp\n${POWER_OFF}`);
    expect([x(r, 1), x(r, 2)]).toEqual([0n, 0x10n]);
    const a57 = runAsm(`.inst 0xd500419f\n${POWER_OFF}`, { budget: 2 }); // msr pan, #1
    expect(a57.undefineds[0]!.name).toContain('FEAT_PAN');
    const a76 = runAsm(`msr pan, #1\nmrs x1, pan\nmsr ssbs, #1\nmrs x2, ssbs\nmsr uao, #1\nmrs x3, uao\n${POWER_OFF}`, { model: CORTEX_A76 });
    expect([x(a76, 1), x(a76, 2), x(a76, 3)]).toEqual([1n << 22n, 1n << 12n, 1n << 23n]);
  });
});

describe('hints, barriers, waits', () => {
  it('NOP-like hints run; WFI with nothing to wake the CPU stops after it', () => {
    const r = runAsm(`nop\nyield\nsevl\nwfe\nesb\ncsdb\nbti c\npaciasp\nautiasp\nisb\ndsb sy\ndmb ish\nclrex\nmov x1, #1\nwfi\nmov x2, #2\n${POWER_OFF}`);
    expect(r.stop).toEqual({ kind: 'wfi' });
    expect(x(r, 1)).toBe(1n);
    expect(r.cpu.getPc()).toBe(r.symbols.get('_start') ?? 0x40080000n + 15n * 4n);
  });
});

describe('SYS: cache and TLB maintenance, address translation', () => {
  it('DC ZVA zeroes a 64-byte block', () => {
    const r = runAsm(`
      adr x1, buf + 8
      dc zva, x1
      adr x2, buf
      ldr x3, [x2]
      ldr x4, [x2, #56]
      ldr x5, [x2, #64]
      ${POWER_OFF}
    .balign 64
    buf: .fill 80, 1, 0xaa`);
    expect([x(r, 3), x(r, 4), x(r, 5)]).toEqual([0n, 0n, 0xaaaaaaaaaaaaaaaan]);
  });

  it('IC IVAU / IALLU drop decoded code after a store', () => {
    const r = runAsm(`
      adr x1, patch
      ldr w2, newinsn
      bl patch
      str w2, [x1]
      dc cvau, x1
      dsb ish
      ic ivau, x1
      dsb ish
      isb
      bl patch
      ${POWER_OFF}
    patch: mov x5, #1
      ret
    newinsn: mov x6, #2`);
    expect([x(r, 5), x(r, 6)]).toEqual([1n, 2n]);
  });

  it('TLBI goes to the MMU by name; AT s1e2r is UNDEFINED at EL1', () => {
    const seen: string[] = [];
    const r = runAsm(program({ el2: 'mov x1, #0x1000\ntlbi alle2\ntlbi vae2is, x1\nat s1e2r, x1\nmrs x3, par_el1\nb to_el1', el1: 'tlbi vmalle1is\nat s1e2r, x1\nat s1e1r, x1' }), {
      setup: (cpu) => {
        const port = cpu.port;
        const orig = port.tlbi.bind(port);
        port.tlbi = (op, lo, hi) => { seen.push(`${op}:${lo}`); orig(op, lo, hi); };
      },
    });
    expect(seen).toEqual(['alle2:0', 'vae2is:4096', 'vmalle1is:0']);
    expect(x(r, 3) & ~0xfffn).toBe(0x1000n);
    expect(r.undefineds.map((u) => u.name)).toEqual([expect.stringContaining('at s1e2r at EL1')]);
  });

  it('unallocated SYS/SYSL encodings and v8.4 TLBI forms are UNDEFINED', () => {
    for (const insn of ['sys #0, c1, c2, #3, x1', 'sysl x1, #0, c7, c5, #0', '.inst 0xd508811f' /* tlbi vmalle1os */]) {
      const r = runAsm(`${insn}\n${POWER_OFF}`, { budget: 2 });
      expect(r.exceptions[0], insn).toMatchObject({ ec: 0 });
      expect(r.undefineds.length, insn).toBe(1);
    }
  });
});

describe('generic timer', () => {
  it('CNTFRQ_EL0 is 62.5 MHz; TVAL writes CVAL relative to the count; the counter is the retired-instruction count', () => {
    const r = runAsm(`mrs x1, cntfrq_el0\nmov x9, #100\nmsr cntp_tval_el0, x9\nmrs x2, cntp_cval_el0\nmrs x3, cntpct_el0\nmrs x4, cntp_tval_el0\nmov x9, #1\nmsr cntp_ctl_el0, x9\nmrs x5, cntp_ctl_el0\n${POWER_OFF}`);
    expect(x(r, 1)).toBe(62_500_000n);
    expect(x(r, 2)).toBe(103n); // the MSR is the 3rd instruction: the count includes it
    expect(x(r, 3)).toBe(5n);
    expect(x(r, 4)).toBe(97n);
    expect(x(r, 5)).toBe(1n);
  });
});

describe('reset values (QEMU 7.2 virt, virtualization=on)', () => {
  it.each([
    [CORTEX_A57, { midr_el1: 0x411fd070n, id_aa64pfr0_el1: 0x222n, id_aa64mmfr0_el1: 0x1124n, sctlr_el1: 0xc50838n, sctlr_el2: 0n, hcr_el2: 0n, mdcr_el2: 6n, cnthctl_el2: 3n, pmcr_el0: 0x41013000n, oslsr_el1: 0xan, cntfrq_el0: 62_500_000n }],
    [CORTEX_A76, { midr_el1: 0x414fd0b1n, id_aa64pfr0_el1: 0x1100000010110112n, id_aa64isar0_el1: 0x100010211120n, sctlr_el1: 0x30c50838n, pmcr_el0: 0x410b3000n, clidr_el1: 0x82000023n }],
  ])('%s', (model, values) => {
    const r = runAsm(POWER_OFF, { model });
    for (const [name, v] of Object.entries(values)) expect(r.sys(name), name).toBe(v);
  });
});
