/**
 * Address translation instructions: PAR_EL1 in the success format (PA,
 * ATTR, SH) and the fault format (FST, PTW, S), for every AT form, and the
 * stage-2 fault on the stage-1 walk of an AT executed at EL1 (an exception
 * to EL2 instead of a PAR result).
 */
import { describe, expect, it } from 'vitest';
import { CORTEX_A76 } from '../../src/cpu/cpu-model.js';
import type { Cpu } from '../../src/cpu/cpu.js';
import {
  AF, AP_RO_EL1, AP_RW_ALL, attrIndx, FSC, getReg, HCR_VM, makeCpu, MAIR, RAM, S1_DEFAULT, S2_DEFAULT, S2_DEVICE, S2_R,
  S2_NORMAL_WB, setReg, SH_INNER, Tables, tcrEl1, tcrEl2, vtcr,
} from './support.js';

function at(cpu: Cpu, op: string, va: bigint, el = 2): bigint {
  cpu.el = el;
  cpu.syncStackPointer();
  setReg(cpu, 'par_el1', 0x5a5a_5a5an);
  cpu.port.addressTranslate(op, Number(va & 0xffffffffn) | 0, Number(va >> 32n) | 0);
  return getReg(cpu, 'par_el1');
}

/** PAR_EL1 success: PA[47:12], ATTR[63:56], SH[8:7], NS (bit 9, as QEMU), bit 11 RES1. */
const parOk = (pa: bigint, attr: number, sh: number): bigint =>
  (pa & 0xffff_ffff_f000n) | (BigInt(attr) << 56n) | (BigInt(sh) << 7n) | (1n << 9n) | (1n << 11n);
/** PAR_EL1 fault: F, FST[6:1], PTW (bit 8), S (bit 9), bit 11 RES1. */
const parFault = (fst: number, s2 = false, ptw = false): bigint =>
  1n | (BigInt(fst) << 1n) | (ptw ? 1n << 8n : 0n) | (s2 ? 1n << 9n : 0n) | (1n << 11n);

describe('AT S1E2R/W', () => {
  it('writes the PA with attributes, or the fault', () => {
    const { cpu, mem } = makeCpu();
    const t = new Tables(mem, 12, 48, RAM + 0x0100_0000n);
    t.map(0x1000n, RAM + 0x5000n, 3, S1_DEFAULT);
    t.map(0x2000n, RAM + 0x6000n, 3, AF | attrIndx(1) | AP_RO_EL1);
    setReg(cpu, 'mair_el2', BigInt(MAIR));
    setReg(cpu, 'tcr_el2', tcrEl2(16));
    setReg(cpu, 'ttbr0_el2', t.root);
    // MMU off: flat, Device-nGnRnE, Outer Shareable.
    expect(at(cpu, 's1e2r', RAM + 0x1234n)).toBe(parOk(RAM + 0x1000n, 0x00, 2));
    setReg(cpu, 'sctlr_el2', getReg(cpu, 'sctlr_el2') | 1n);
    expect(at(cpu, 's1e2r', 0x1abcn)).toBe(parOk(RAM + 0x5000n, 0xff, 3));
    expect(at(cpu, 's1e2w', 0x1abcn)).toBe(parOk(RAM + 0x5000n, 0xff, 3));
    expect(at(cpu, 's1e2r', 0x2000n)).toBe(parOk(RAM + 0x6000n, 0x00, 2)); // Device: Outer Shareable
    expect(at(cpu, 's1e2w', 0x2000n)).toBe(parFault(FSC.permission(3)));
    expect(at(cpu, 's1e2r', 0x3000n)).toBe(parFault(FSC.translation(3)));
    expect(at(cpu, 's1e2r', 1n << 48n)).toBe(parFault(FSC.translation(0)));
  });
});

describe('AT for the EL1&0 regime', () => {
  function setup() {
    const { cpu, mem } = makeCpu(CORTEX_A76);
    const s2 = new Tables(mem, 12, 40, RAM + 0x0200_0000n, 1);
    s2.identity(RAM, 0x0400_0000n, 2, S2_DEFAULT);
    s2.map(0x3000_0000n, RAM + 0x7000n, 3, AF | SH_INNER | S2_R | S2_NORMAL_WB);
    s2.map(0x3000_1000n, RAM + 0x8000n, 3, AF | SH_INNER | S2_R | S2_DEVICE | (1n << 7n));
    const s1 = new Tables(mem, 12, 48, RAM + 0x0100_0000n);
    s1.map(0x1000n, 0x3000_0000n, 3, S1_DEFAULT);
    s1.map(0x2000n, 0x3000_1000n, 3, S1_DEFAULT | AP_RW_ALL);
    s1.map(0x4000n, 0x3100_0000n, 3, S1_DEFAULT | AP_RW_ALL);
    setReg(cpu, 'vtcr_el2', vtcr(24, 1, 0, 2));
    setReg(cpu, 'vttbr_el2', s2.root);
    setReg(cpu, 'hcr_el2', HCR_VM | (1n << 31n));
    setReg(cpu, 'mair_el1', BigInt(MAIR));
    setReg(cpu, 'tcr_el1', tcrEl1({ t0sz: 16, ips: 2 }));
    setReg(cpu, 'ttbr0_el1', s1.root);
    setReg(cpu, 'sctlr_el1', getReg(cpu, 'sctlr_el1') | 1n);
    return { cpu, mem, s1, s2 };
  }

  it('S1E1R/W and S1E0R/W give the IPA (stage 1 only) with EL1/EL0 permissions', () => {
    const { cpu } = setup();
    expect(at(cpu, 's1e1r', 0x1010n)).toBe(parOk(0x3000_0000n, 0xff, 3));
    expect(at(cpu, 's1e1w', 0x1010n)).toBe(parOk(0x3000_0000n, 0xff, 3));
    expect(at(cpu, 's1e0r', 0x1010n)).toBe(parFault(FSC.permission(3)));
    expect(at(cpu, 's1e0w', 0x2010n)).toBe(parOk(0x3000_1000n, 0xff, 3));
    expect(at(cpu, 's1e1r', 0x9000n)).toBe(parFault(FSC.translation(3)));
    // From EL1 as well.
    expect(at(cpu, 's1e1r', 0x1010n, 1)).toBe(parOk(0x3000_0000n, 0xff, 3));
  });

  it('S12E1R/W and S12E0R/W give the PA with combined attributes, or a stage-2 fault (S = 1)', () => {
    const { cpu } = setup();
    expect(at(cpu, 's12e1r', 0x1010n)).toBe(parOk(RAM + 0x7000n, 0xff, 3));
    expect(at(cpu, 's12e1w', 0x1010n)).toBe(parFault(FSC.permission(3), true));
    expect(at(cpu, 's12e0r', 0x2010n)).toBe(parOk(RAM + 0x8000n, 0x00, 2)); // stage-2 Device wins
    expect(at(cpu, 's12e0w', 0x2010n)).toBe(parOk(RAM + 0x8000n, 0x00, 2));
    expect(at(cpu, 's12e1r', 0x4000n)).toBe(parFault(FSC.translation(2), true));
    expect(at(cpu, 's12e0r', 0x1000n)).toBe(parFault(FSC.permission(3)));
    // Without stage 2 the S12 forms are the S1 forms.
    setReg(cpu, 'hcr_el2', 1n << 31n);
    expect(at(cpu, 's12e1r', 0x1010n)).toBe(parOk(0x3000_0000n, 0xff, 3));
  });

  it('S1E1RP/WP honour PSTATE.PAN; S1E1R/W do not', () => {
    const { cpu } = setup();
    cpu.pan = 1;
    expect(at(cpu, 's1e1r', 0x2000n, 1)).toBe(parOk(0x3000_1000n, 0xff, 3));
    expect(at(cpu, 's1e1rp', 0x2000n, 1)).toBe(parFault(FSC.permission(3)));
    expect(at(cpu, 's1e1wp', 0x1000n, 1)).toBe(parOk(0x3000_0000n, 0xff, 3));
    cpu.pan = 0;
  });

  it('a stage-2 fault on the stage-1 walk: PAR with PTW at EL2, a Data Abort to EL2 (CM, WnR, S1PTW) from EL1', () => {
    const { cpu, mem } = setup();
    const s1 = new Tables(mem, 12, 48, RAM + 0x0800_0000n); // not mapped at stage 2
    s1.map(0x1000n, 0x3000_0000n, 3, S1_DEFAULT);
    setReg(cpu, 'ttbr0_el1', s1.root);
    expect(at(cpu, 's1e1r', 0x1000n)).toBe(parFault(FSC.translation(2), true, true));
    expect(at(cpu, 's12e1w', 0x1000n)).toBe(parFault(FSC.translation(2), true, true));
    cpu.setPc(0x4008_0000n);
    const par = at(cpu, 's1e1r', 0x1000n, 1);
    expect(par).toBe(0x5a5a_5a5an); // unchanged
    expect(cpu.el).toBe(2);
    const esr = getReg(cpu, 'esr_el2');
    expect(Number(esr >> 26n)).toBe(0x24);
    expect(Number(esr & 0x1ffn)).toBe(0x80 | 0x100 | 0x40 | FSC.translation(2)); // S1PTW, CM, WnR
    expect(getReg(cpu, 'hpfar_el2')).toBe((s1.root >> 12n) << 4n);
    expect(getReg(cpu, 'far_el2')).toBe(0x1000n);
  });
});
