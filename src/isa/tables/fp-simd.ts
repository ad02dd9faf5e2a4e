import type { InsnDef } from '../insn-def.js';

export const FP_SIMD: InsnDef[] = [];
