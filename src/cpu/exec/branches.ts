/**
 * Branches (Arm ARM C6: B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR/BLR/RET).
 * All of them run inline in the interpreter loop; the predecoders compute
 * the byte offset once.
 */
import { registerPredecoder } from './registry.js';
import { srcOrZr } from '../registers.js';
import * as O from '../ops.js';

const S = (slot: number): number => slot * 2;
const signExtend = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

function slot(out: Int32Array, i: number, op: number, a: number, b: number, offset: number): true {
  out[i] = op; out[i + 2] = a; out[i + 3] = b; out[i + 4] = offset; out[i + 5] = 0; out[i + 6] = 0; out[i + 7] = 0;
  return true;
}

registerPredecoder('BRANCH_IMM', (_cpu, f, _def, out, i) =>
  slot(out, i, f['op'] ? O.OP_BL : O.OP_B, 0, 0, signExtend(f['imm26']!, 26) * 4));

registerPredecoder('BRANCH_COND', (_cpu, f, _def, out, i) =>
  slot(out, i, O.OP_B_COND, f['cond']!, 0, signExtend(f['imm19']!, 19) * 4));

registerPredecoder('COMPARE_BRANCH', (_cpu, f, def, out, i) => {
  const x64 = def.datasize === 64;
  const op = f['op'] ? (x64 ? O.OP_CBNZ_X : O.OP_CBNZ_W) : (x64 ? O.OP_CBZ_X : O.OP_CBZ_W);
  return slot(out, i, op, S(srcOrZr(f['Rt']!)), 0, signExtend(f['imm19']!, 19) * 4);
});

registerPredecoder('TEST_BRANCH', (_cpu, f, _def, out, i) =>
  slot(out, i, f['op'] ? O.OP_TBNZ : O.OP_TBZ, S(srcOrZr(f['Rt']!)), ((f['b5'] ?? 0) << 5) | f['b40']!, signExtend(f['imm14']!, 14) * 4));

registerPredecoder('BRANCH_REG', (_cpu, f, _def, out, i) => {
  const opc = f['opc']!;
  const op = opc === 0 ? O.OP_BR : opc === 1 ? O.OP_BLR : opc === 2 ? O.OP_RET : -1;
  if (op < 0) return false;
  return slot(out, i, op, S(srcOrZr(f['Rn']!)), 0, 0);
});
