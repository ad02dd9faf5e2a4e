/**
 * Integer loads and stores (Arm ARM C6, the V=0 load/store encodings): the
 * predecoders for every `exec` id of src/isa/tables/loads-stores.ts. The
 * slot layout is in loadstore-slot.ts; the semantics are in
 * loadstore-single.ts, -pair.ts, -exclusive.ts and -atomic.ts.
 *
 * The common forms (LDR/STR of every size with an immediate or register
 * offset, pre/post-index writeback, LDP/STP) get FAST ops that the
 * interpreter runs inline when the MMU is off and the access hits RAM
 * aligned; everything else, and every other case of those, goes through the
 * handlers. PRFM is a hint: it becomes a NOP (no access, no fault).
 */
import type { Cpu } from '../cpu.js';
import type { Fields, InsnDef } from '../../isa/insn-def.js';
import { registerPredecoder } from './registry.js';
import { dstOrZr, orSp, srcOrZr } from '../registers.js';
import * as O from '../ops.js';
import { LS, instructionSyndrome } from './loadstore-slot.js';
import { H_LOAD_STORE_SINGLE } from './loadstore-single.js';
import { H_LOAD_STORE_PAIR } from './loadstore-pair.js';
import { H_LOAD_EXCLUSIVE, H_LOAD_EXCLUSIVE_PAIR, H_STORE_EXCLUSIVE, H_STORE_EXCLUSIVE_PAIR } from './loadstore-exclusive.js';
import { ATOMIC_OPS, ATOMIC_SHIFT, H_ATOMIC_OP, H_CAS, H_CASP } from './loadstore-atomic.js';

const S = (slot: number): number => slot * 2;
const signExtend = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

function setSlot(out: Int32Array, i: number, op: number, a: number, b: number, c: number, d: number, e: number, f: number): true {
  out[i] = op; out[i + 2] = a; out[i + 3] = b; out[i + 4] = c; out[i + 5] = d; out[i + 6] = e; out[i + 7] = f;
  return true;
}

/** Size, direction, sign extension and register width from the entry's params. */
function accessInfo(def: InsnDef, load: boolean): number {
  const p = def.params;
  let info = (p['scale'] as number) & 3;
  if (load) info |= LS.LOAD;
  if (p['signed'] === 1) info |= LS.SIGNED;
  if (p['regsize'] === 64) info |= LS.REG64;
  return info;
}

const isLoad = (def: InsnDef): boolean => def.params['memop'] === 'load';
/** Rt's slot: a destination for loads (31 = XZR, discarded), a source for stores (31 = XZR, zero). */
const rtSlot = (rt: number, load: boolean): number => S(load ? dstOrZr(rt) : srcOrZr(rt));
/** The base: 31 is SP, with the SP alignment check. */
const spMask = (rn: number): number => (rn === 31 ? 15 : 0);
/** Slot operand e of a single-register access: the SP mask, and the instruction syndrome unless it writes back. */
const singleE = (rn: number, info: number, rt: number): number =>
  spMask(rn) | ((info & LS.WRITEBACK) === 0 ? instructionSyndrome(info, rt) : 0);

// ---- CPU features the table marks (ID register fields of the model) ------------------

function idField(cpu: Cpu, reg: string, shift: number): number {
  const v = cpu.model.idRegisters[reg];
  return v ? (v[shift >= 32 ? 1 : 0] >>> (shift & 31)) & 15 : 0;
}

/** Whether the CPU model implements the feature an entry needs. */
function hasFeature(cpu: Cpu, def: InsnDef): boolean {
  switch (def.feature) {
    case undefined: return true;
    case 'lse': return cpu.model.features.lse;
    case 'rcpc': return idField(cpu, 'id_aa64isar1_el1', 20) >= 1; // ID_AA64ISAR1_EL1.LRCPC: LDAPR
    case 'v8.4': return idField(cpu, 'id_aa64isar1_el1', 20) >= 2; // LRCPC2: LDAPUR/STLUR
    case 'lor': return idField(cpu, 'id_aa64mmfr1_el1', 16) >= 1; // ID_AA64MMFR1_EL1.LO: LDLAR/STLLR
    default: return false;
  }
}

// ---- single register -------------------------------------------------------------------

/** FAST op of a plain (no unprivileged, no ordering) single-register access, by addressing form. */
function singleFastOp(info: number, form: 'offset' | 'reg' | 'writeback'): number {
  const load = (info & LS.LOAD) !== 0;
  if (form === 'reg') return load ? O.OP_LDR_REG : O.OP_STR_REG;
  if (form === 'writeback') return load ? O.OP_LDR_WB : O.OP_STR_WB;
  const scale = info & 3;
  if (scale === 3) return load ? O.OP_LDR_X_IMM : O.OP_STR_X_IMM;
  if (scale === 2 && (info & (LS.SIGNED | LS.REG64)) === 0) return load ? O.OP_LDR_W_IMM : O.OP_STR_W_IMM;
  return load ? O.OP_LDR_IMM : O.OP_STR_IMM;
}

registerPredecoder('LDST_UIMM', (_cpu, f, def, out, i) => {
  const load = isLoad(def);
  const info = accessInfo(def, load);
  const offset = f['imm12']! << (info & 3);
  return setSlot(out, i, singleFastOp(info, 'offset'), rtSlot(f['Rt']!, load), S(orSp(f['Rn']!)), offset, info, singleE(f['Rn']!, info, f['Rt']!), H_LOAD_STORE_SINGLE);
});

registerPredecoder('LDST_IMM9', (_cpu, f, def, out, i) => {
  const load = isLoad(def);
  let info = accessInfo(def, load);
  const index = def.params['index'];
  if (index === 'pre') info |= LS.PRE;
  else if (index === 'post') info |= LS.POST;
  const op = singleFastOp(info, index === 'offset' ? 'offset' : 'writeback');
  return setSlot(out, i, op, rtSlot(f['Rt']!, load), S(orSp(f['Rn']!)), signExtend(f['imm9']!, 9), info, singleE(f['Rn']!, info, f['Rt']!), H_LOAD_STORE_SINGLE);
});

registerPredecoder('LDST_UNPRIV', (_cpu, f, def, out, i) => {
  const load = isLoad(def);
  const info = accessInfo(def, load) | LS.UNPRIV;
  return setSlot(out, i, O.OP_HANDLER, rtSlot(f['Rt']!, load), S(orSp(f['Rn']!)), signExtend(f['imm9']!, 9), info, singleE(f['Rn']!, info, f['Rt']!), H_LOAD_STORE_SINGLE);
});

registerPredecoder('LDST_REG', (_cpu, f, def, out, i) => {
  const load = isLoad(def);
  let info = accessInfo(def, load) | LS.REG_OFFSET;
  const option = f['option']!;
  if ((option & 2) === 0) return false; // reserved extend (the table excludes it; kept as a guard)
  if ((option & 1) === 0) info |= (option & 4) !== 0 ? LS.EXT_SXTW : LS.EXT_UXTW; // xTW; else a 64-bit index
  if (f['S']) info |= (info & 3) << LS.AMOUNT_SHIFT;
  return setSlot(out, i, singleFastOp(info, 'reg'), rtSlot(f['Rt']!, load), S(orSp(f['Rn']!)), S(srcOrZr(f['Rm']!)), info, singleE(f['Rn']!, info, f['Rt']!), H_LOAD_STORE_SINGLE);
});

registerPredecoder('LDR_LIT', (_cpu, f, def, out, i) => {
  const info = accessInfo(def, true) | LS.LITERAL;
  return setSlot(out, i, O.OP_HANDLER, rtSlot(f['Rt']!, true), 0, signExtend(f['imm19']!, 19) * 4, info, instructionSyndrome(info, f['Rt']!), H_LOAD_STORE_SINGLE);
});

// A prefetch is a hint with no architectural effect: no access, no fault, not even for SP alignment.
registerPredecoder('PRFM', (_cpu, _f, _def, out, i) => setSlot(out, i, O.OP_NOP, 0, 0, 0, 0, 0, 0));

registerPredecoder('LDST_ACQREL', (cpu, f, def, out, i) => {
  if (!hasFeature(cpu, def)) return false;
  const load = isLoad(def);
  const info = accessInfo(def, load) | LS.ORDERED;
  return setSlot(out, i, O.OP_HANDLER, rtSlot(f['Rt']!, load), S(orSp(f['Rn']!)), 0, info, singleE(f['Rn']!, info, f['Rt']!), H_LOAD_STORE_SINGLE);
});

registerPredecoder('LDST_ACQREL_IMM9', (cpu, f, def, out, i) => {
  if (!hasFeature(cpu, def)) return false;
  const load = isLoad(def);
  const info = accessInfo(def, load) | LS.ORDERED;
  return setSlot(out, i, O.OP_HANDLER, rtSlot(f['Rt']!, load), S(orSp(f['Rn']!)), signExtend(f['imm9']!, 9), info, singleE(f['Rn']!, info, f['Rt']!), H_LOAD_STORE_SINGLE);
});

// ---- pairs --------------------------------------------------------------------------------

registerPredecoder('LDST_PAIR', (_cpu, f, def, out, i) => {
  const load = isLoad(def);
  let info = accessInfo(def, load);
  const index = def.params['index'];
  if (index === 'pre') info |= LS.PRE;
  else if (index === 'post') info |= LS.POST;
  info |= rtSlot(f['Rt2']!, load) << LS.REG2_SHIFT;
  const offset = signExtend(f['imm7']!, 7) * (1 << (info & 3));
  return setSlot(out, i, load ? O.OP_LDP : O.OP_STP, rtSlot(f['Rt']!, load), S(orSp(f['Rn']!)), offset, info, spMask(f['Rn']!), H_LOAD_STORE_PAIR);
});

// ---- exclusives -------------------------------------------------------------------------------

function exclusive(f: Fields, def: InsnDef, out: Int32Array, i: number, pair: boolean): boolean {
  const load = isLoad(def);
  let info = accessInfo(def, load);
  if (pair) info |= rtSlot(f['Rt2']!, load) << LS.REG2_SHIFT;
  const handler = load ? (pair ? H_LOAD_EXCLUSIVE_PAIR : H_LOAD_EXCLUSIVE) : (pair ? H_STORE_EXCLUSIVE_PAIR : H_STORE_EXCLUSIVE);
  // c = the status register Ws of a store-exclusive
  const status = load ? 0 : S(dstOrZr(f['Rs']!));
  return setSlot(out, i, O.OP_HANDLER, rtSlot(f['Rt']!, load), S(orSp(f['Rn']!)), status, info, spMask(f['Rn']!), handler);
}

registerPredecoder('LDST_EXCL', (_cpu, f, def, out, i) => exclusive(f, def, out, i, false));
registerPredecoder('LDST_EXCL_PAIR', (_cpu, f, def, out, i) => exclusive(f, def, out, i, true));

// ---- LSE atomics (UNDEFINED without FEAT_LSE) ---------------------------------------------

registerPredecoder('LSE_CAS', (cpu, f, def, out, i) => {
  if (!hasFeature(cpu, def)) return false;
  const info = accessInfo(def, false);
  return setSlot(out, i, O.OP_HANDLER, S(srcOrZr(f['Rt']!)), S(orSp(f['Rn']!)), S(srcOrZr(f['Rs']!)), info, spMask(f['Rn']!), H_CAS);
});

registerPredecoder('LSE_CASP', (cpu, f, def, out, i) => {
  if (!hasFeature(cpu, def)) return false;
  if ((f['Rs']! & 1) !== 0 || (f['Rt']! & 1) !== 0) return false;
  const info = accessInfo(def, false);
  return setSlot(out, i, O.OP_HANDLER, S(f['Rt']!), S(orSp(f['Rn']!)), S(f['Rs']!), info, spMask(f['Rn']!), H_CASP);
});

function atomicSlot(cpu: Cpu, f: Fields, def: InsnDef, out: Int32Array, i: number, op: number): boolean {
  if (!hasFeature(cpu, def)) return false;
  const info = accessInfo(def, false) | (op << ATOMIC_SHIFT);
  return setSlot(out, i, O.OP_HANDLER, S(dstOrZr(f['Rt']!)), S(orSp(f['Rn']!)), S(srcOrZr(f['Rs']!)), info, spMask(f['Rn']!), H_ATOMIC_OP);
}

registerPredecoder('LSE_SWP', (cpu, f, def, out, i) => atomicSlot(cpu, f, def, out, i, ATOMIC_OPS.indexOf('swp')));
registerPredecoder('LSE_LDOP', (cpu, f, def, out, i) => {
  const op = ATOMIC_OPS.indexOf(def.params['atomic'] as (typeof ATOMIC_OPS)[number]);
  return op >= 0 && atomicSlot(cpu, f, def, out, i, op);
});
