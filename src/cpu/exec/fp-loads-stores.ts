/**
 * Loads and stores of FP/SIMD registers (Arm ARM C6/C7 LDR/STR/LDUR/STUR
 * (SIMD&FP) in every addressing mode, LDR (literal, SIMD&FP), LDP/STP/LDNP/STNP
 * (SIMD&FP)). A B/H/S/D/Q access moves 1..16 bytes; loads zero the rest of
 * the 128-bit register. Memory goes through the CPU's memory port, so the
 * alignment rules of the memory type (Device memory with the MMU off) apply.
 */
import type { Cpu } from '../cpu.js';
import { registerHandler, registerPredecoder } from './registry.js';
import { OP_HANDLER } from '../ops.js';
import { orSp, SP_SLOT, srcOrZr } from '../registers.js';
import { extendRegister } from './data-processing.js';
import { shiftOut } from './arith.js';
import { checkFpAccess } from '../sysregs/traps.js';
import { addOffset, addr, checkSpAlignment, readMem, writeMem } from './simd-regs.js';

const S = (slot: number): number => slot * 2;

// Slot operands: a = Rt, b = base slot (x index), c = offset or Rm slot, d = info, e = Rt2.
// info: bits 0-2 scale (log2 of the access size), bit 3 load, bits 4-5 index mode,
// bits 8-10 extend option, bits 11-13 extend shift.
const INFO_LOAD = 1 << 3;
const INDEX_OFFSET = 0, INDEX_PRE = 1, INDEX_POST = 2;

/** Scratch for loaded data (two 128-bit registers). */
const data = new Int32Array(8);

/** V[t] = ZeroExtend(data[at..], 128) for an access of 2^scale bytes. */
function writeLoaded(cpu: Cpu, t: number, scale: number, at: number): void {
  const v = cpu.v, w = t * 4;
  switch (scale) {
    case 0: v[w] = data[at]! & 0xff; v[w + 1] = 0; v[w + 2] = 0; v[w + 3] = 0; break;
    case 1: v[w] = data[at]! & 0xffff; v[w + 1] = 0; v[w + 2] = 0; v[w + 3] = 0; break;
    case 2: v[w] = data[at]!; v[w + 1] = 0; v[w + 2] = 0; v[w + 3] = 0; break;
    case 3: v[w] = data[at]!; v[w + 1] = data[at + 1]!; v[w + 2] = 0; v[w + 3] = 0; break;
    default: v[w] = data[at]!; v[w + 1] = data[at + 1]!; v[w + 2] = data[at + 2]!; v[w + 3] = data[at + 3]!;
  }
}

/** Mem[address, 2^scale] = V[t]<size*8-1:0>. */
function storeRegister(cpu: Cpu, t: number, scale: number, lo: number, hi: number): boolean {
  return writeMem(cpu, lo, hi, 1 << scale, cpu.v, t * 4);
}

/** The base register's value, after CheckSPAlignment when it is SP; undefined after an exception. */
function baseAddress(cpu: Cpu, base: number): boolean {
  const x = cpu.x;
  if (base === S(SP_SLOT) && !checkSpAlignment(cpu, x[base]!)) return false;
  addr[0] = x[base]!;
  addr[1] = x[base + 1]!;
  return true;
}

/**
 * The single-register access at the computed address, with pre/post-index
 * writeback. `offLo/offHi` is the 64-bit offset.
 */
function singleAccess(cpu: Cpu, t: number, base: number, info: number, offLo: number, offHi: number): void {
  if (!checkFpAccess(cpu)) return;
  if (!baseAddress(cpu, base)) return;
  const scale = info & 7, index = (info >>> 4) & 3;
  const baseLo = addr[0]!, baseHi = addr[1]!;
  // address = base + offset (64-bit)
  const sum = (baseLo >>> 0) + (offLo >>> 0);
  const effLo = sum | 0, effHi = (baseHi + offHi + (sum > 0xffffffff ? 1 : 0)) | 0;
  const lo = index === INDEX_POST ? baseLo : effLo, hi = index === INDEX_POST ? baseHi : effHi;
  if ((info & INFO_LOAD) !== 0) {
    if (!readMem(cpu, lo, hi, 1 << scale, data, 0)) return;
    writeLoaded(cpu, t, scale, 0);
  } else if (!storeRegister(cpu, t, scale, lo, hi)) return;
  if (index !== INDEX_OFFSET) {
    cpu.x[base] = effLo;
    cpu.x[base + 1] = effHi;
  }
}

const H_LDST_IMM = registerHandler('FP_LDST_IMM', (cpu, d, i) => {
  const off = d[i + 4]!;
  singleAccess(cpu, d[i + 2]!, d[i + 3]!, d[i + 5]!, off, off < 0 ? -1 : 0);
});

const H_LDST_REG = registerHandler('FP_LDST_REG', (cpu, d, i) => {
  const info = d[i + 5]!, m = d[i + 4]!;
  extendRegister(cpu.x[m]!, cpu.x[m + 1]!, (info >>> 8) & 7, (info >>> 11) & 7);
  singleAccess(cpu, d[i + 2]!, d[i + 3]!, info, shiftOut[0]!, shiftOut[1]!);
});

const memInfo = (scale: number, load: boolean, index: number): number => scale | (load ? INFO_LOAD : 0) | (index << 4);
const indexOf = (p: string | number | undefined): number => (p === 'pre' ? INDEX_PRE : p === 'post' ? INDEX_POST : INDEX_OFFSET);

registerPredecoder('FP_LDST_UIMM', (_cpu, f, def, out, i) => {
  const scale = Number(def.params['scale']);
  out[i] = OP_HANDLER;
  out[i + 2] = f['Rt']!; out[i + 3] = S(orSp(f['Rn']!)); out[i + 4] = f['imm12']! << scale;
  out[i + 5] = memInfo(scale, def.params['memop'] === 'load', INDEX_OFFSET); out[i + 6] = 0; out[i + 7] = H_LDST_IMM;
  return true;
});

registerPredecoder('FP_LDST_IMM9', (_cpu, f, def, out, i) => {
  const scale = Number(def.params['scale']);
  out[i] = OP_HANDLER;
  out[i + 2] = f['Rt']!; out[i + 3] = S(orSp(f['Rn']!)); out[i + 4] = (f['imm9']! << 23) >> 23;
  out[i + 5] = memInfo(scale, def.params['memop'] === 'load', indexOf(def.params['index'])); out[i + 6] = 0; out[i + 7] = H_LDST_IMM;
  return true;
});

registerPredecoder('FP_LDST_REG', (_cpu, f, def, out, i) => {
  const scale = Number(def.params['scale']);
  const option = f['option']!;
  if ((option & 2) === 0) return false; // only UXTW, LSL/UXTX, SXTW, SXTX
  const shift = f['S'] ? scale : 0;
  out[i] = OP_HANDLER;
  out[i + 2] = f['Rt']!; out[i + 3] = S(orSp(f['Rn']!)); out[i + 4] = S(srcOrZr(f['Rm']!));
  out[i + 5] = memInfo(scale, def.params['memop'] === 'load', INDEX_OFFSET) | (option << 8) | (shift << 11);
  out[i + 6] = 0; out[i + 7] = H_LDST_REG;
  return true;
});

// ---- literal -------------------------------------------------------------------------------------
const H_LDR_LIT = registerHandler('FP_LDR_LIT', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const scale = d[i + 5]!;
  addOffset(cpu.pcLo, cpu.pcHi, d[i + 4]!);
  if (!readMem(cpu, addr[0]!, addr[1]!, 1 << scale, data, 0)) return;
  writeLoaded(cpu, d[i + 2]!, scale, 0);
});

registerPredecoder('FP_LDR_LIT', (_cpu, f, def, out, i) => {
  out[i] = OP_HANDLER;
  out[i + 2] = f['Rt']!; out[i + 3] = 0; out[i + 4] = ((f['imm19']! << 13) >> 13) * 4;
  out[i + 5] = Number(def.params['scale']); out[i + 6] = 0; out[i + 7] = H_LDR_LIT;
  return true;
});

// ---- pairs -------------------------------------------------------------------------------------------
const H_LDST_PAIR = registerHandler('FP_LDST_PAIR', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const t = d[i + 2]!, base = d[i + 3]!, offset = d[i + 4]!, info = d[i + 5]!, t2 = d[i + 6]!;
  if (!baseAddress(cpu, base)) return;
  const scale = info & 7, index = (info >>> 4) & 3, size = 1 << scale;
  const baseLo = addr[0]!, baseHi = addr[1]!;
  addOffset(baseLo, baseHi, offset);
  const effLo = addr[0]!, effHi = addr[1]!;
  const lo = index === INDEX_POST ? baseLo : effLo, hi = index === INDEX_POST ? baseHi : effHi;
  addOffset(lo, hi, size);
  const lo2 = addr[0]!, hi2 = addr[1]!;
  if ((info & INFO_LOAD) !== 0) {
    // Both reads complete before either register changes.
    if (!readMem(cpu, lo, hi, size, data, 0)) return;
    if (!readMem(cpu, lo2, hi2, size, data, 4)) return;
    writeLoaded(cpu, t, scale, 0);
    writeLoaded(cpu, t2, scale, 4);
  } else {
    if (!storeRegister(cpu, t, scale, lo, hi)) return;
    if (!storeRegister(cpu, t2, scale, lo2, hi2)) return;
  }
  if (index !== INDEX_OFFSET) {
    cpu.x[base] = effLo;
    cpu.x[base + 1] = effHi;
  }
});

registerPredecoder('FP_LDST_PAIR', (_cpu, f, def, out, i) => {
  const scale = Number(def.params['scale']);
  out[i] = OP_HANDLER;
  out[i + 2] = f['Rt']!; out[i + 3] = S(orSp(f['Rn']!)); out[i + 4] = ((f['imm7']! << 25) >> 25) << scale;
  out[i + 5] = memInfo(scale, def.params['memop'] === 'load', indexOf(def.params['index']));
  out[i + 6] = f['Rt2']!; out[i + 7] = H_LDST_PAIR;
  return true;
});
