import type { InsnDef } from '../insn-def.js';

export const BRANCH_SYSTEM: InsnDef[] = [];
