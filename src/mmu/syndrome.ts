/**
 * The instruction syndrome of a data abort (ESR_ELx.ISS bits [24:14]: ISV,
 * SAS, SSE, SRT, SF, AR). The architecture provides it (ISV = 1) only for
 * stage-2 aborts taken to EL2 on a load or store of a single general-purpose
 * register without writeback, including acquire/release forms and excluding
 * exclusives, pairs, atomics and SIMD&FP registers. It is computed from the
 * faulting instruction's table entry when such an abort is raised, so the
 * load/store fast paths do not pay for it.
 */
import { decodeBase, fieldsOf } from '../isa/decode.js';

const cache = new Map<number, number>();

/** ISS[24:14] for the instruction word, or 0 when ISV must be 0. */
export function loadStoreSyndrome(word: number): number {
  const cached = cache.get(word);
  if (cached !== undefined) return cached;
  const syndrome = compute(word);
  if (cache.size > 4096) cache.clear();
  cache.set(word, syndrome);
  return syndrome;
}

function compute(word: number): number {
  const def = decodeBase(word);
  if (!def) return 0;
  const p = def.params;
  switch (def.exec) {
    case 'LDST_UIMM': case 'LDST_REG': case 'LDST_UNPRIV': case 'LDR_LIT': case 'LDST_ACQREL': case 'LDST_ACQREL_IMM9':
      break;
    case 'LDST_IMM9':
      if (p['index'] !== 'offset') return 0; // pre/post-index write back the base register
      break;
    default:
      return 0;
  }
  const f = fieldsOf(def, word);
  const isLoad = def.exec === 'LDR_LIT' || p['memop'] === 'load';
  const sas = Number(p['scale'] ?? 0) & 3;
  const sse = isLoad && Number(p['signed'] ?? 0) === 1 ? 1 : 0;
  const srt = (f['Rt'] ?? 0) & 31;
  const sf = Number(p['regsize'] ?? 32) === 64 ? 1 : 0;
  const ar = Number(p['acquire'] ?? 0) === 1 || Number(p['release'] ?? 0) === 1 ? 1 : 0;
  return (1 << 24) | (sas << 22) | (sse << 21) | (srt << 16) | (sf << 15) | (ar << 14);
}
