/**
 * Advanced SIMD structure loads and stores (Arm ARM C7 LD1-LD4/ST1-ST4
 * multiple structures, single structure to/from one lane, LD1R-LD4R
 * replicate), with immediate or register post-index.
 *
 * Memory order is the pseudocode's element order (structure by structure,
 * interleaving selem registers); each element is its own access, so the
 * alignment rules apply per element. Runs of elements are moved as 8-byte
 * accesses when the address is 8-byte aligned, which is the same set of
 * bytes and faults on the same first address. All reads complete before any
 * register changes.
 */
import type { Cpu } from '../cpu.js';
import { registerHandler, registerPredecoder } from './registry.js';
import { OP_HANDLER } from '../ops.js';
import { orSp, SP_SLOT } from '../registers.js';
import { checkFpAccess } from '../sysregs/traps.js';
import { checkSpAlignment, vecViews } from './simd-regs.js';

const S = (slot: number): number => slot * 2;

// Slot operands: a = Rt, b = base slot, c = post-index Rm slot (POST_IMM: by the bytes
// transferred; NO_WRITEBACK), d = info, e = bytes transferred.
// info: bits 0-1 log2(esize bytes), 2-3 selem-1, 4-5 rpt-1, bit 6 Q, bit 7 load,
// bits 8-9 form, bits 12-15 lane index.
const NO_WRITEBACK = -1;
const POST_IMM = -2;
const FORM_MULTIPLE = 0, FORM_SINGLE = 1, FORM_REPLICATE = 2;
const INFO_Q = 1 << 6, INFO_LOAD = 1 << 7;

/** The bytes of one transfer (at most 4 registers of 16 bytes). */
const buf = new Uint8Array(64);
const bufWords = new Int32Array(buf.buffer);
const word = new Int32Array(2);

/** Reads `total` bytes at (lo, hi) into buf, in accesses of ebytes (8 when aligned). */
function readBlock(cpu: Cpu, lo: number, hi: number, total: number, ebytes: number): boolean {
  const port = cpu.port;
  if ((lo & 7) === 0 && (total & 7) === 0) {
    for (let off = 0; off < total; off += 8) {
      const t = (lo >>> 0) + off;
      if (!port.read(t | 0, t > 0xffffffff ? (hi + 1) | 0 : hi, 8, word, 0)) return false;
      bufWords[off >> 2] = word[0]!;
      bufWords[(off >> 2) + 1] = word[1]!;
    }
    return true;
  }
  for (let off = 0; off < total; off += ebytes) {
    const t = (lo >>> 0) + off;
    if (!port.read(t | 0, t > 0xffffffff ? (hi + 1) | 0 : hi, ebytes, word, 0)) return false;
    let w = word[0]!, lw = word[1]!;
    for (let b = 0; b < ebytes; b++) {
      buf[off + b] = w & 0xff;
      w = (w >>> 8) | (lw << 24);
      lw >>>= 8;
    }
  }
  return true;
}

/** Writes `total` bytes of buf to (lo, hi), as readBlock. */
function writeBlock(cpu: Cpu, lo: number, hi: number, total: number, ebytes: number): boolean {
  const port = cpu.port;
  if ((lo & 7) === 0 && (total & 7) === 0) {
    for (let off = 0; off < total; off += 8) {
      const t = (lo >>> 0) + off;
      if (!port.write(t | 0, t > 0xffffffff ? (hi + 1) | 0 : hi, 8, bufWords[off >> 2]!, bufWords[(off >> 2) + 1]!)) return false;
    }
    return true;
  }
  for (let off = 0; off < total; off += ebytes) {
    const t = (lo >>> 0) + off;
    let w = 0, hw = 0;
    for (let b = ebytes - 1; b >= 0; b--) {
      hw = (hw << 8) | (w >>> 24);
      w = (w << 8) | buf[off + b]!;
    }
    if (!port.write(t | 0, t > 0xffffffff ? (hi + 1) | 0 : hi, ebytes, w, hw)) return false;
  }
  return true;
}

const H_STRUCT = registerHandler('SIMD_LDST_STRUCT', (cpu, d, i) => {
  if (!checkFpAccess(cpu)) return;
  const x = cpu.x;
  const t = d[i + 2]!, base = d[i + 3]!, post = d[i + 4]!, info = d[i + 5]!, total = d[i + 6]!;
  if (base === S(SP_SLOT) && !checkSpAlignment(cpu, x[base]!)) return;
  const lo = x[base]!, hi = x[base + 1]!;
  const esizeLog = info & 3, ebytes = 1 << esizeLog;
  const selem = ((info >>> 2) & 3) + 1, rpt = ((info >>> 4) & 3) + 1;
  const form = (info >>> 8) & 3, load = (info & INFO_LOAD) !== 0;
  const datasize = (info & INFO_Q) !== 0 ? 16 : 8;
  const u8 = vecViews(cpu).u8;
  const v = cpu.v;

  if (form === FORM_MULTIPLE) {
    const elements = datasize / ebytes;
    if (load) {
      if (!readBlock(cpu, lo, hi, total, ebytes)) return;
      let offs = 0;
      for (let r = 0; r < rpt; r++) {
        for (let e = 0; e < elements; e++) {
          let tt = (t + r) & 31;
          for (let s = 0; s < selem; s++) {
            const at = tt * 16 + e * ebytes;
            for (let b = 0; b < ebytes; b++) u8[at + b] = buf[offs + b]!;
            offs += ebytes;
            tt = (tt + 1) & 31;
          }
        }
      }
      if (datasize === 8) {
        for (let r = 0; r < rpt * selem; r++) { const w = ((t + r) & 31) * 4; v[w + 2] = 0; v[w + 3] = 0; }
      }
    } else {
      let offs = 0;
      for (let r = 0; r < rpt; r++) {
        for (let e = 0; e < elements; e++) {
          let tt = (t + r) & 31;
          for (let s = 0; s < selem; s++) {
            const at = tt * 16 + e * ebytes;
            for (let b = 0; b < ebytes; b++) buf[offs + b] = u8[at + b]!;
            offs += ebytes;
            tt = (tt + 1) & 31;
          }
        }
      }
      if (!writeBlock(cpu, lo, hi, total, ebytes)) return;
    }
  } else if (form === FORM_SINGLE) {
    const index = (info >>> 12) & 15;
    if (load) {
      if (!readBlock(cpu, lo, hi, total, ebytes)) return;
      for (let s = 0; s < selem; s++) {
        const at = ((t + s) & 31) * 16 + index * ebytes;
        for (let b = 0; b < ebytes; b++) u8[at + b] = buf[s * ebytes + b]!;
      }
    } else {
      for (let s = 0; s < selem; s++) {
        const at = ((t + s) & 31) * 16 + index * ebytes;
        for (let b = 0; b < ebytes; b++) buf[s * ebytes + b] = u8[at + b]!;
      }
      if (!writeBlock(cpu, lo, hi, total, ebytes)) return;
    }
  } else { // replicate
    if (!readBlock(cpu, lo, hi, total, ebytes)) return;
    for (let s = 0; s < selem; s++) {
      const r = (t + s) & 31;
      for (let at = 0; at < datasize; at += ebytes) {
        for (let b = 0; b < ebytes; b++) u8[r * 16 + at + b] = buf[s * ebytes + b]!;
      }
      if (datasize === 8) { v[r * 4 + 2] = 0; v[r * 4 + 3] = 0; }
    }
  }

  if (post !== NO_WRITEBACK) {
    // address + (Rm == 31 ? bytes transferred : X[m])
    let olo: number, ohi: number;
    if (post === POST_IMM) { olo = total; ohi = 0; } else { olo = x[post]!; ohi = x[post + 1]!; }
    const sum = (lo >>> 0) + (olo >>> 0);
    x[base] = sum | 0;
    x[base + 1] = (hi + ohi + (sum > 0xffffffff ? 1 : 0)) | 0;
  }
});

function setSlot(out: Int32Array, i: number, t: number, rn: number, post: number, info: number, total: number): true {
  out[i] = OP_HANDLER;
  out[i + 2] = t; out[i + 3] = S(orSp(rn)); out[i + 4] = post; out[i + 5] = info; out[i + 6] = total; out[i + 7] = H_STRUCT;
  return true;
}

/** The post-index operand: Rm = 31 is the immediate form (by the transfer size). */
function postOperand(post: boolean, rm: number | undefined): number {
  if (!post) return NO_WRITEBACK;
  return rm === 31 ? POST_IMM : S(rm!);
}

registerPredecoder('SIMD_LDST_MULT', (_cpu, f, def, out, i) => {
  const size = f['size']!, q = f['Q']!;
  const selem = Number(def.params['selem']), regs = Number(def.params['regs']);
  // LD1/ST1 take 1-4 registers of one structure element; LDn/STn one repetition of n.
  const rpt = selem === 1 ? regs : 1;
  if (selem !== 1 && size === 3 && q === 0) return false;
  const total = rpt * selem * (q ? 16 : 8);
  const info = size | ((selem - 1) << 2) | ((rpt - 1) << 4) | (q ? INFO_Q : 0) |
    (def.params['memop'] === 'load' ? INFO_LOAD : 0) | (FORM_MULTIPLE << 8);
  return setSlot(out, i, f['Rt']!, f['Rn']!, postOperand(def.params['post'] === 1, f['Rm']), info, total);
});

registerPredecoder('SIMD_LDST_SINGLE', (_cpu, f, def, out, i) => {
  const selem = Number(def.params['selem']);
  const q = f['Q']!;
  let esizeLog: number, index: number;
  switch (def.params['esize']) {
    case 'b': esizeLog = 0; index = (q << 3) | (f['S']! << 2) | f['size']!; break;
    case 'h': esizeLog = 1; index = (q << 2) | (f['S']! << 1) | f['size1']!; break;
    case 's': esizeLog = 2; index = (q << 1) | f['S']!; break;
    default: esizeLog = 3; index = q;
  }
  const total = selem << esizeLog;
  const info = esizeLog | ((selem - 1) << 2) | (def.params['memop'] === 'load' ? INFO_LOAD : 0) |
    (FORM_SINGLE << 8) | (index << 12);
  return setSlot(out, i, f['Rt']!, f['Rn']!, postOperand(def.params['post'] === 1, f['Rm']), info, total);
});

registerPredecoder('SIMD_LD_REPLICATE', (_cpu, f, def, out, i) => {
  const selem = Number(def.params['selem']);
  const size = f['size']!, q = f['Q']!;
  const total = selem << size;
  const info = size | ((selem - 1) << 2) | (q ? INFO_Q : 0) | INFO_LOAD | (FORM_REPLICATE << 8);
  return setSlot(out, i, f['Rt']!, f['Rn']!, postOperand(def.params['post'] === 1, f['Rm']), info, total);
});
