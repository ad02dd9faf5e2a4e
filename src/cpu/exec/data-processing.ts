/**
 * Integer data processing (Arm ARM C6: ADD/SUB, logical, move wide, bitfield,
 * extract, conditional select/compare, 1-, 2- and 3-source operations).
 * Predecoders turn table fields into decoded slots; the most common forms run
 * inline in the interpreter loop, the rest in the handlers below.
 */
import type { Cpu } from '../cpu.js';
import type { Fields, InsnDef } from '../../isa/insn-def.js';
import { registerHandler, registerPredecoder, type Handler } from './registry.js';
import { dstOrZr, orSp, srcOrZr } from '../registers.js';
import * as O from '../ops.js';
import { decodeBitMask } from '../../isa/bitmask.js';
import { addWithCarry32, addWithCarry64, shiftOut, shiftValue64 } from './arith.js';

const S = (slot: number): number => slot * 2;
const mask32 = new Uint32Array(2);

function setSlot(out: Int32Array, i: number, op: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): true {
  out[i] = op; out[i + 2] = a; out[i + 3] = b; out[i + 4] = c; out[i + 5] = d; out[i + 6] = e; out[i + 7] = f;
  return true;
}

function handler(name: string, h: Handler): number {
  return registerHandler(name, h);
}

const is64 = (def: InsnDef): boolean => def.datasize === 64;

// ---- ADD/SUB (immediate) ---------------------------------------------------------
registerPredecoder('ADD_SUB_IMM', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const op = (word >>> 30) & 1, setFlags = (word >>> 29) & 1;
  const imm = f['imm12']! << (f['sh'] ? 12 : 0);
  const rd = setFlags ? dstOrZr(f['Rd']!) : orSp(f['Rd']!);
  const rn = orSp(f['Rn']!);
  const ops64 = [[O.OP_ADD_IMM_X, O.OP_ADDS_IMM_X], [O.OP_SUB_IMM_X, O.OP_SUBS_IMM_X]];
  const ops32 = [[O.OP_ADD_IMM_W, O.OP_ADDS_IMM_W], [O.OP_SUB_IMM_W, O.OP_SUBS_IMM_W]];
  const code = (is64(def) ? ops64 : ops32)[op]![setFlags]!;
  return setSlot(out, i, code, S(rd), S(rn), imm);
});

// ---- ADD/SUB (shifted register) -------------------------------------------------------
registerPredecoder('ADD_SUB_REG', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const op = (word >>> 30) & 1, setFlags = (word >>> 29) & 1;
  const table = is64(def)
    ? [[O.OP_ADD_REG_X, O.OP_ADDS_REG_X], [O.OP_SUB_REG_X, O.OP_SUBS_REG_X]]
    : [[O.OP_ADD_REG_W, O.OP_ADDS_REG_W], [O.OP_SUB_REG_W, O.OP_SUBS_REG_W]];
  return setSlot(out, i, table[op]![setFlags]!, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), S(srcOrZr(f['Rm']!)), f['shift']!, f['imm6']!);
});

// ---- logical (shifted register) ---------------------------------------------------------
registerPredecoder('LOGICAL_REG', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const opc = (word >>> 29) & 3, invert = (word >>> 21) & 1;
  const ops64 = [[O.OP_AND_REG_X, O.OP_BIC_REG_X], [O.OP_ORR_REG_X, O.OP_ORN_REG_X], [O.OP_EOR_REG_X, O.OP_EON_REG_X], [O.OP_ANDS_REG_X, O.OP_BICS_REG_X]];
  const ops32 = [[O.OP_AND_REG_W, O.OP_BIC_REG_W], [O.OP_ORR_REG_W, O.OP_ORN_REG_W], [O.OP_EOR_REG_W, O.OP_EON_REG_W], [O.OP_ANDS_REG_W, O.OP_BICS_REG_W]];
  const code = (is64(def) ? ops64 : ops32)[opc]![invert]!;
  return setSlot(out, i, code, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), S(srcOrZr(f['Rm']!)), f['shift']!, f['imm6']!);
});

// ---- logical (immediate) ------------------------------------------------------------------
registerPredecoder('LOGICAL_IMM', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const opc = (word >>> 29) & 3;
  if (!decodeBitMask(f['N']!, f['immr']!, f['imms']!, is64(def), mask32)) return false;
  // ANDS writes XZR for Rd=31; the others write SP.
  const rd = opc === 3 ? dstOrZr(f['Rd']!) : orSp(f['Rd']!);
  const code = [O.OP_AND_IMM, O.OP_ORR_IMM, O.OP_EOR_IMM, is64(def) ? O.OP_ANDS_IMM : O.OP_ANDS_IMM_W][opc]!;
  // e: mask for the result's upper half (0 for W forms: ORR/EOR must not pass Rn's upper half through).
  return setSlot(out, i, code, S(rd), S(srcOrZr(f['Rn']!)), mask32[0]! | 0, mask32[1]! | 0, is64(def) ? -1 : 0);
});

// ---- move wide ---------------------------------------------------------------------------------
registerPredecoder('MOVE_WIDE', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const opc = (word >>> 29) & 3;
  const hw = f['hw']!;
  if (opc === 1) return false;
  if (!is64(def) && hw > 1) return false;
  const rd = S(dstOrZr(f['Rd']!));
  const imm = f['imm16']!;
  if (opc === 3) return setSlot(out, i, O.OP_MOVK, rd, 0, imm, hw * 16, is64(def) ? 0 : 1);
  let lo = hw === 0 ? imm : hw === 1 ? imm << 16 : 0;
  let hi = hw === 2 ? imm : hw === 3 ? imm << 16 : 0;
  if (opc === 0) { lo = ~lo; hi = ~hi; } // MOVN
  if (!is64(def)) hi = 0;
  return setSlot(out, i, O.OP_MOV_CONST, rd, 0, lo | 0, hi | 0);
});

// ---- PC-relative ------------------------------------------------------------------------------------
registerPredecoder('ADR', (_cpu, f, _def, out, i) => {
  const imm = ((f['immhi']! << 2) | f['immlo']!) << 11 >> 11; // sign-extend 21 bits
  return setSlot(out, i, O.OP_ADR, S(dstOrZr(f['Rd']!)), 0, imm, imm < 0 ? -1 : 0);
});
registerPredecoder('ADRP', (_cpu, f, _def, out, i) => {
  const pages = ((f['immhi']! << 2) | f['immlo']!) << 11 >> 11;
  // pages * 4096 as a 64-bit two's-complement pair
  const lo = (pages << 12) | 0;
  const hi = pages >> 20;
  return setSlot(out, i, O.OP_ADRP, S(dstOrZr(f['Rd']!)), 0, lo, hi);
});

// ---- bitfield ------------------------------------------------------------------------------------------
// BFM/SBFM/UBFM: bot = (dst & ~wmask) | (ROR(src, R) & wmask); top = extend ? Replicate(src<S>) : dst (BFM) or 0.
const H_BITFIELD = handler('BITFIELD', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, info = d[i + 4]!, k = d[i + 5]!;
  const r = info & 63, s = (info >> 6) & 63, opc = (info >> 12) & 3, sf = (info >> 14) & 1;
  const c = cpu.constants;
  const wlo = c[k]!, whi = c[k + 1]!, tlo = c[k + 2]!, thi = c[k + 3]!;
  let slo = x[rn]!, shi = x[rn + 1]!;
  if (!sf) shi = 0;
  // ROR(src, R) within the datasize
  let rlo: number, rhi: number;
  if (sf) { shiftValue64(slo, shi, 3, r); rlo = shiftOut[0]!; rhi = shiftOut[1]!; }
  else { rlo = r === 0 ? slo : ((slo >>> r) | (slo << (32 - r))) | 0; rhi = 0; }
  const dlo = opc === 1 ? x[rd]! : 0, dhi = opc === 1 && sf ? x[rd + 1]! : 0;
  const botLo = (dlo & ~wlo) | (rlo & wlo), botHi = (dhi & ~whi) | (rhi & whi);
  let topLo: number, topHi: number;
  if (opc === 0) { // SBFM: replicate src<S>
    const bit = s < 32 ? (slo >>> s) & 1 : (shi >>> (s - 32)) & 1;
    topLo = bit ? -1 : 0; topHi = bit && sf ? -1 : 0;
  } else { topLo = dlo; topHi = dhi; }
  x[rd] = (topLo & ~tlo) | (botLo & tlo);
  x[rd + 1] = sf ? (topHi & ~thi) | (botHi & thi) : 0;
});

/** DecodeBitMasks(immN, imms, immr, FALSE) returning wmask and tmask (as lo/hi halves). */
const bitfieldOut = [0, 0];
function bitfieldMasks(n: number, imms: number, immr: number, is64bit: boolean): [number, number, number, number] | undefined {
  if (!decodeBitMask(n, immr, imms, is64bit, bitfieldOut, true)) return undefined;
  const wlo = bitfieldOut[0]! | 0, whi = bitfieldOut[1]! | 0;
  // tmask: (S - R + 1) ones, unrotated, in an element of the same size (imms keeps its length bits).
  const levels = (1 << (31 - Math.clz32((n << 6) | (~imms & 0x3f)))) - 1;
  const diff = ((imms & levels) - (immr & levels)) & levels;
  decodeBitMask(n, 0, (imms & ~levels) | diff, is64bit, bitfieldOut, true);
  return [wlo, whi, bitfieldOut[0]! | 0, bitfieldOut[1]! | 0];
}

registerPredecoder('BITFIELD', (cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const opc = (word >>> 29) & 3;
  if (opc === 3) return false;
  const sf = is64(def) ? 1 : 0;
  const n = (word >>> 22) & 1;
  if (n !== sf) return false;
  const masks = bitfieldMasks(n, f['imms']!, f['immr']!, sf === 1);
  if (!masks) return false;
  const k = cpu.addConstant(...masks);
  const info = f['immr']! | (f['imms']! << 6) | (opc << 12) | (sf << 14);
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), info, k, 0, H_BITFIELD);
});

// ---- extract ---------------------------------------------------------------------------------------
const H_EXTR = handler('EXTR', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, rm = d[i + 4]!, lsb = d[i + 5]!, sf = d[i + 6]!;
  if (sf) {
    // (Xn:Xm) >> lsb, low 64 bits
    if (lsb === 0) { x[rd] = x[rm]!; x[rd + 1] = x[rm + 1]!; return; }
    const mlo = x[rm]!, mhi = x[rm + 1]!, nlo = x[rn]!, nhi = x[rn + 1]!;
    if (lsb < 32) {
      x[rd] = (mlo >>> lsb) | (mhi << (32 - lsb));
      x[rd + 1] = (mhi >>> lsb) | (nlo << (32 - lsb));
    } else if (lsb === 32) {
      x[rd] = mhi; x[rd + 1] = nlo;
    } else {
      const s = lsb - 32;
      x[rd] = (mhi >>> s) | (nlo << (32 - s));
      x[rd + 1] = (nlo >>> s) | (nhi << (32 - s));
    }
  } else {
    const m = x[rm]!, n = x[rn]!;
    x[rd] = lsb === 0 ? m : ((m >>> lsb) | (n << (32 - lsb))) | 0;
    x[rd + 1] = 0;
  }
});
registerPredecoder('EXTR', (_cpu, f, def, out, i) => {
  const sf = is64(def) ? 1 : 0;
  if (((out[i + 1]! >>> 22) & 1) !== sf) return false;
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), S(srcOrZr(f['Rm']!)), f['imms']!, sf, H_EXTR);
});

// ---- add/subtract (extended register) -------------------------------------------------------------
/** ExtendReg(): the Rm value extended by `option` and shifted left by `shift` (0..4), into shiftOut. */
export function extendRegister(lo: number, hi: number, option: number, shift: number): void {
  let vlo: number, vhi: number;
  switch (option) {
    case 0: vlo = lo & 0xff; vhi = 0; break; // UXTB
    case 1: vlo = lo & 0xffff; vhi = 0; break; // UXTH
    case 2: vlo = lo; vhi = 0; break; // UXTW
    case 3: vlo = lo; vhi = hi; break; // UXTX
    case 4: vlo = (lo << 24) >> 24; vhi = vlo >> 31; break; // SXTB
    case 5: vlo = (lo << 16) >> 16; vhi = vlo >> 31; break; // SXTH
    case 6: vlo = lo; vhi = lo >> 31; break; // SXTW
    default: vlo = lo; vhi = hi; // SXTX
  }
  shiftValue64(vlo, vhi, 0, shift);
}

const H_ADD_SUB_EXT = handler('ADD_SUB_EXT', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, rm = d[i + 4]!, info = d[i + 5]!;
  const option = info & 7, shift = (info >> 3) & 7, sub = (info >> 6) & 1, setFlags = (info >> 7) & 1, sf = (info >> 8) & 1;
  extendRegister(x[rm]!, x[rm + 1]!, option, shift);
  let blo = shiftOut[0]!, bhi = shiftOut[1]!;
  const alo = x[rn]!, ahi = x[rn + 1]!;
  if (sf) {
    if (sub) { blo = ~blo; bhi = ~bhi; }
    if (setFlags) { addWithCarry64(cpu, alo, ahi, blo, bhi, sub, rd); return; }
    const lo = (alo >>> 0) + (blo >>> 0) + sub;
    x[rd + 1] = (ahi + bhi + (lo > 0xffffffff ? 1 : 0)) | 0;
    x[rd] = lo | 0;
  } else {
    const b = sub ? ~blo : blo;
    if (setFlags) { addWithCarry32(cpu, alo, b, sub, rd); return; }
    x[rd] = (alo + b + sub) | 0;
    x[rd + 1] = 0;
  }
});
registerPredecoder('ADD_SUB_EXT', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const sub = (word >>> 30) & 1, setFlags = (word >>> 29) & 1;
  if (f['imm3']! > 4) return false;
  const rd = setFlags ? dstOrZr(f['Rd']!) : orSp(f['Rd']!);
  const info = f['option']! | (f['imm3']! << 3) | (sub << 6) | (setFlags << 7) | ((is64(def) ? 1 : 0) << 8);
  return setSlot(out, i, O.OP_HANDLER, S(rd), S(orSp(f['Rn']!)), S(srcOrZr(f['Rm']!)), info, 0, H_ADD_SUB_EXT);
});

// ---- add/subtract with carry ----------------------------------------------------------------------------
const H_ADC_SBC = handler('ADC_SBC', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, rm = d[i + 4]!, info = d[i + 5]!;
  const sub = info & 1, setFlags = (info >> 1) & 1, sf = (info >> 2) & 1;
  let blo = x[rm]!, bhi = x[rm + 1]!;
  if (sub) { blo = ~blo; bhi = ~bhi; }
  const c = cpu.cf;
  if (sf) {
    const saved = [cpu.nf, cpu.zf, cpu.cf, cpu.vf];
    addWithCarry64(cpu, x[rn]!, x[rn + 1]!, blo, bhi, c, rd);
    if (!setFlags) [cpu.nf, cpu.zf, cpu.cf, cpu.vf] = saved as [number, number, number, number];
  } else {
    const saved = [cpu.nf, cpu.zf, cpu.cf, cpu.vf];
    addWithCarry32(cpu, x[rn]!, blo, c, rd);
    if (!setFlags) [cpu.nf, cpu.zf, cpu.cf, cpu.vf] = saved as [number, number, number, number];
  }
});
registerPredecoder('ADC_SBC', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const info = ((word >>> 30) & 1) | (((word >>> 29) & 1) << 1) | ((is64(def) ? 1 : 0) << 2);
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), S(srcOrZr(f['Rm']!)), info, 0, H_ADC_SBC);
});

// ---- conditional compare ------------------------------------------------------------------------------------
const H_COND_CMP = handler('COND_CMP', (cpu, d, i) => {
  const x = cpu.x;
  const rn = d[i + 3]!, info = d[i + 5]!;
  const cond = info & 15, nzcv = (info >> 4) & 15, sub = (info >> 8) & 1, sf = (info >> 9) & 1, isImm = (info >> 10) & 1;
  if (!cpu.conditionHolds(cond)) { cpu.nzcv = nzcv; return; }
  let blo: number, bhi: number;
  if (isImm) { blo = d[i + 4]!; bhi = 0; } else { blo = x[d[i + 4]!]!; bhi = x[d[i + 4]! + 1]!; }
  if (sub) { blo = ~blo; bhi = ~bhi; }
  // The result goes to the write sink: only the flags matter.
  if (sf) addWithCarry64(cpu, x[rn]!, x[rn + 1]!, blo, bhi, sub, 64);
  else addWithCarry32(cpu, x[rn]!, blo, sub, 64);
});
const condCmp = (isImm: number) => (_cpu: Cpu, f: Fields, def: InsnDef, out: Int32Array, i: number): boolean => {
  const word = out[i + 1]!;
  const sub = (word >>> 30) & 1;
  const info = f['cond']! | (f['nzcv']! << 4) | (sub << 8) | ((is64(def) ? 1 : 0) << 9) | (isImm << 10);
  const second = isImm ? f['imm5']! : S(srcOrZr(f['Rm']!));
  return setSlot(out, i, O.OP_HANDLER, 0, S(srcOrZr(f['Rn']!)), second, info, 0, H_COND_CMP);
};
registerPredecoder('COND_CMP_REG', condCmp(0));
registerPredecoder('COND_CMP_IMM', condCmp(1));

// ---- conditional select --------------------------------------------------------------------------------------
const H_COND_SELECT = handler('COND_SELECT', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, rm = d[i + 4]!, info = d[i + 5]!;
  const cond = info & 15, op = (info >> 4) & 1, o2 = (info >> 5) & 1, sf = (info >> 6) & 1;
  if (cpu.conditionHolds(cond)) {
    x[rd] = x[rn]!; x[rd + 1] = sf ? x[rn + 1]! : 0;
    return;
  }
  let lo = x[rm]!, hi = sf ? x[rm + 1]! : 0;
  if (op) { lo = ~lo; hi = sf ? ~hi : 0; } // CSINV / CSNEG invert first
  if (o2) { // CSINC (op=0) adds 1; CSNEG (op=1) adds 1 after inversion
    const t = (lo >>> 0) + 1;
    lo = t | 0;
    hi = sf ? (hi + (t > 0xffffffff ? 1 : 0)) | 0 : 0;
  }
  x[rd] = lo; x[rd + 1] = hi;
});
registerPredecoder('COND_SELECT', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const op = (word >>> 30) & 1, o2 = (word >>> 10) & 1;
  if (((word >>> 29) & 1) !== 0 || ((word >>> 11) & 1) !== 0) return false;
  const info = f['cond']! | (op << 4) | (o2 << 5) | ((is64(def) ? 1 : 0) << 6);
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), S(srcOrZr(f['Rm']!)), info, 0, H_COND_SELECT);
});

// ---- data processing (1 source) ---------------------------------------------------------------------------------
function reverseBits32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) | 0;
}
const bswap32 = (v: number): number => ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) | 0;
const rev16 = (v: number): number => (((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8)) | 0;
/** CountLeadingSignBits on a 32-bit value. */
const cls32 = (v: number): number => Math.clz32((v ^ (v >> 31)) << 1 | 1) ;

const H_DP_1SRC = handler('DP_1SRC', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, opcode = d[i + 4]!, sf = d[i + 5]!;
  const lo = x[rn]!, hi = x[rn + 1]!;
  let rlo: number, rhi = 0;
  switch (opcode) {
    case 0: // RBIT
      if (sf) { rlo = reverseBits32(hi); rhi = reverseBits32(lo); } else rlo = reverseBits32(lo);
      break;
    case 1: // REV16
      rlo = rev16(lo); if (sf) rhi = rev16(hi);
      break;
    case 2: // REV (32) / REV32 (64)
      rlo = bswap32(lo); if (sf) rhi = bswap32(hi);
      break;
    case 3: // REV (64)
      rlo = bswap32(hi); rhi = bswap32(lo);
      break;
    case 4: // CLZ
      rlo = sf ? (hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo)) : Math.clz32(lo);
      break;
    default: { // CLS
      if (sf) {
        const sign = hi >> 31;
        if ((hi ^ sign) !== 0) rlo = Math.clz32(hi ^ sign) - 1;
        else rlo = 31 + Math.clz32((lo ^ sign) >>> 0);
        if (rlo > 63) rlo = 63;
      } else {
        rlo = cls32(lo);
      }
    }
  }
  x[rd] = rlo | 0; x[rd + 1] = rhi | 0;
});
registerPredecoder('DP_1SRC', (_cpu, f, def, out, i) => {
  const opcode = (out[i + 1]! >>> 10) & 0x3f;
  if (opcode > 5 || (opcode === 3 && !is64(def))) return false;
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), opcode, is64(def) ? 1 : 0, 0, H_DP_1SRC);
});

// ---- data processing (2 source): divide and variable shifts --------------------------------------------------------
const H_DP_2SRC = handler('DP_2SRC', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, rm = d[i + 4]!, opcode = d[i + 5]!, sf = d[i + 6]!;
  if (opcode >= 8) {
    // LSLV/LSRV/ASRV/RORV: shift by Rm MOD datasize
    const type = opcode & 3;
    if (sf) {
      shiftValue64(x[rn]!, x[rn + 1]!, type, x[rm]! & 63);
      x[rd] = shiftOut[0]!; x[rd + 1] = shiftOut[1]!;
    } else {
      const amt = x[rm]! & 31, v = x[rn]!;
      x[rd] = amt === 0 ? v : type === 0 ? v << amt : type === 1 ? v >>> amt : type === 2 ? v >> amt : (v >>> amt) | (v << (32 - amt));
      x[rd + 1] = 0;
    }
    return;
  }
  const signed = opcode === 3;
  if (!sf) {
    const a = x[rn]!, b = x[rm]!;
    let q: number;
    if (b === 0) q = 0;
    else if (signed) q = a === -0x80000000 && b === -1 ? a : Math.trunc(a / b) | 0;
    else q = Math.trunc((a >>> 0) / (b >>> 0)) | 0;
    x[rd] = q; x[rd + 1] = 0;
    return;
  }
  divide64(x[rn]!, x[rn + 1]!, x[rm]!, x[rm + 1]!, signed);
  x[rd] = divOut[0]!; x[rd + 1] = divOut[1]!;
});

/** 64-bit SDIV/UDIV on halves into divOut: quotient rounded toward zero, 0 for a zero divisor. */
const divOut = new Int32Array(2);
function divide64(alo: number, ahi: number, blo: number, bhi: number, signed: boolean): void {
  let negate = false;
  if (signed) {
    // |a| and |b| as unsigned 64-bit; INT64_MIN stays 2^63, so INT64_MIN / -1 wraps to INT64_MIN as required.
    if (ahi < 0) { negate = !negate; ahi = alo === 0 ? -ahi | 0 : ~ahi; alo = -alo | 0; }
    if (bhi < 0) { negate = !negate; bhi = blo === 0 ? -bhi | 0 : ~bhi; blo = -blo | 0; }
  }
  let qlo = 0, qhi = 0;
  if ((blo | bhi) === 0) { divOut[0] = 0; divOut[1] = 0; return; }
  if (ahi === 0 && bhi === 0) {
    qlo = Math.floor((alo >>> 0) / (blo >>> 0)) | 0; // both below 2^32: the double quotient truncates exactly
  } else {
    // Restoring long division, one quotient bit per step (rare: kernel code divides little).
    let rlo = 0, rhi = 0;
    for (let bit = 63; bit >= 0; bit--) {
      const carry = rhi >>> 31; // the remainder's bit 64 after the shift (possible when b >= 2^63)
      rhi = (rhi << 1) | (rlo >>> 31);
      rlo = (rlo << 1) | (bit >= 32 ? (ahi >>> (bit - 32)) & 1 : (alo >>> bit) & 1);
      if (carry || (rhi >>> 0) > (bhi >>> 0) || (rhi === bhi && (rlo >>> 0) >= (blo >>> 0))) {
        rhi = (rhi - bhi - ((rlo >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;
        rlo = (rlo - blo) | 0;
        if (bit >= 32) qhi |= 1 << (bit - 32); else qlo |= 1 << bit;
      }
    }
  }
  if (negate) { qhi = qlo === 0 ? -qhi | 0 : ~qhi; qlo = -qlo | 0; }
  divOut[0] = qlo; divOut[1] = qhi;
}
registerPredecoder('DP_2SRC', (_cpu, f, def, out, i) => {
  const opcode = (out[i + 1]! >>> 10) & 0x3f;
  if (!(opcode === 2 || opcode === 3 || (opcode >= 8 && opcode <= 11))) return false;
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), S(srcOrZr(f['Rm']!)), opcode, is64(def) ? 1 : 0, H_DP_2SRC);
});

// ---- data processing (3 source): multiply-add ------------------------------------------------------------------------
const H_DP_3SRC = handler('DP_3SRC', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, rm = d[i + 4]!, ra = d[i + 5]!, info = d[i + 6]!;
  const op31 = info & 7, o0 = (info >> 3) & 1, sf = (info >> 4) & 1;
  if (op31 === 0 && !sf) {
    // MADD/MSUB 32-bit: Math.imul gives the low 32 bits exactly.
    const p = Math.imul(x[rn]!, x[rm]!);
    x[rd] = (o0 ? x[ra]! - p : x[ra]! + p) | 0;
    x[rd + 1] = 0;
    return;
  }
  if (op31 === 0 || op31 === 1 || op31 === 5) {
    // MADD/MSUB (64), SMADDL/SMSUBL, UMADDL/UMSUBL: the low 64 bits of the product on halves.
    let plo: number, phi: number;
    if (op31 === 0) {
      mulU32(x[rn]!, x[rm]!);
      plo = mulOut[0]!;
      phi = (mulOut[1]! + Math.imul(x[rn]!, x[rm + 1]!) + Math.imul(x[rn + 1]!, x[rm]!)) | 0;
    } else {
      const a32 = x[rn]!, b32 = x[rm]!;
      mulU32(a32, b32);
      plo = mulOut[0]!;
      phi = mulOut[1]!;
      if (op31 === 1) {
        // Signed 32x32: subtract the operand weights of the sign bits from the high half.
        if (a32 < 0) phi = (phi - b32) | 0;
        if (b32 < 0) phi = (phi - a32) | 0;
      }
    }
    const alo = x[ra]!, ahi = x[ra + 1]!;
    if (o0) { // Ra - product
      x[rd + 1] = (ahi - phi - ((alo >>> 0) < (plo >>> 0) ? 1 : 0)) | 0;
      x[rd] = (alo - plo) | 0;
    } else {
      const lo = (alo + plo) | 0;
      x[rd + 1] = (ahi + phi + ((lo >>> 0) < (alo >>> 0) ? 1 : 0)) | 0;
      x[rd] = lo;
    }
    return;
  }
  // SMULH/UMULH: the high 64 bits of the 128-bit product.
  const nlo = x[rn]!, nhi = x[rn + 1]!, mlo = x[rm]!, mhi = x[rm + 1]!;
  mulHighU64(nlo, nhi, mlo, mhi);
  let hlo = mulOut[0]!, hhi = mulOut[1]!;
  if (op31 === 2) {
    // Signed: the unsigned high half minus each operand where the other is negative (two's complement weights).
    if (nhi < 0) { hhi = (hhi - mhi - ((hlo >>> 0) < (mlo >>> 0) ? 1 : 0)) | 0; hlo = (hlo - mlo) | 0; }
    if (mhi < 0) { hhi = (hhi - nhi - ((hlo >>> 0) < (nlo >>> 0) ? 1 : 0)) | 0; hlo = (hlo - nlo) | 0; }
  }
  x[rd] = hlo; x[rd + 1] = hhi;
});

/** High 64 bits of the unsigned 64x64 product into mulOut, by 16-bit limbs (column sums stay below 2^35, exact). */
const limbA = new Float64Array(4), limbB = new Float64Array(4);
function mulHighU64(alo: number, ahi: number, blo: number, bhi: number): void {
  limbA[0] = alo & 0xffff; limbA[1] = alo >>> 16; limbA[2] = ahi & 0xffff; limbA[3] = ahi >>> 16;
  limbB[0] = blo & 0xffff; limbB[1] = blo >>> 16; limbB[2] = bhi & 0xffff; limbB[3] = bhi >>> 16;
  let carry = 0, lo = 0, hi = 0;
  for (let k = 0; k < 7; k++) {
    let sum = carry;
    for (let i = k < 4 ? 0 : k - 3; i <= k && i < 4; i++) sum += limbA[i]! * limbB[k - i]!;
    const limb = sum % 65536;
    carry = (sum - limb) / 65536;
    if (k === 4) lo = limb; else if (k === 5) lo |= limb << 16; else if (k === 6) hi = limb;
  }
  hi |= carry << 16; // limb 7 is the final carry (below 2^16)
  mulOut[0] = lo | 0; mulOut[1] = hi | 0;
}

/** Unsigned 32x32 → 64-bit product in mulOut (lo, hi), from 16-bit limbs: every partial product is exact. */
const mulOut = new Int32Array(2);
function mulU32(a: number, b: number): void {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  mulOut[0] = ((mid << 16) | (p00 & 0xffff)) | 0;
  mulOut[1] = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}
registerPredecoder('DP_3SRC', (_cpu, f, def, out, i) => {
  const word = out[i + 1]!;
  const op31 = (word >>> 21) & 7, o0 = (word >>> 15) & 1;
  const sf = is64(def) ? 1 : 0;
  if (!(op31 === 0 || (sf && (op31 === 1 || op31 === 5 || ((op31 === 2 || op31 === 6) && o0 === 0))))) return false;
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), S(srcOrZr(f['Rm']!)), S(srcOrZr(f['Ra'] ?? 31)), op31 | (o0 << 3) | (sf << 4), H_DP_3SRC);
});

// ---- CRC32 -----------------------------------------------------------------------------------------------------------
const crcTables = new Map<number, Int32Array>();
function crcTable(poly: number): Int32Array {
  let t = crcTables.get(poly);
  if (!t) {
    t = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
      t[n] = c;
    }
    crcTables.set(poly, t);
  }
  return t;
}
const H_CRC32 = handler('CRC32', (cpu, d, i) => {
  const x = cpu.x;
  const rd = d[i + 2]!, rn = d[i + 3]!, rm = d[i + 4]!, size = d[i + 5]!, c = d[i + 6]!;
  // Reflected CRC-32 (0xEDB88320) or CRC-32C (0x82F63B78), as the Arm pseudocode's BitReverse form computes.
  const table = crcTable(c ? 0x82f63b78 : 0xedb88320);
  let crc = x[rn]! >>> 0;
  const bytes = 1 << size;
  for (let b = 0; b < bytes; b++) {
    const word = b < 4 ? x[rm]! : x[rm + 1]!;
    const byte = (word >>> ((b & 3) * 8)) & 0xff;
    crc = (crc >>> 8) ^ (table[(crc ^ byte) & 0xff]! >>> 0);
  }
  x[rd] = crc | 0; x[rd + 1] = 0;
});
registerPredecoder('CRC32', (cpu, f, _def, out, i) => {
  const word = out[i + 1]!;
  const size = (word >>> 10) & 3, c = (word >>> 12) & 1;
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rd']!)), S(srcOrZr(f['Rn']!)), S(srcOrZr(f['Rm']!)), size, c, H_CRC32);
});
