import type { InsnDef } from '../insn-def.js';

export const LOADS_STORES: InsnDef[] = [];
