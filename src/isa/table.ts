/**
 * The instruction table: every entry of every group, indexed for the
 * assembler (by mnemonic, in declaration order) and for the decoder (by the
 * top bits of the word). This is the single source of truth for the A64
 * instruction set in the project.
 */
import type { InsnDef } from './insn-def.js';
import { DATA_PROCESSING } from './tables/data-processing.js';
import { BRANCH_SYSTEM } from './tables/branch-system.js';
import { LOADS_STORES } from './tables/loads-stores.js';
import { FP_SIMD } from './tables/fp-simd.js';

export const INSTRUCTIONS: readonly InsnDef[] = [...DATA_PROCESSING, ...BRANCH_SYSTEM, ...LOADS_STORES, ...FP_SIMD];

const byMnemonic = new Map<string, InsnDef[]>();
for (const d of INSTRUCTIONS) {
  const list = byMnemonic.get(d.mnemonic);
  if (list) list.push(d); else byMnemonic.set(d.mnemonic, [d]);
}

/** Candidate entries for a mnemonic, in the order the assembler tries them. */
export function entriesForMnemonic(mnemonic: string): readonly InsnDef[] | undefined {
  return byMnemonic.get(mnemonic);
}

export function allMnemonics(): string[] {
  return [...byMnemonic.keys()];
}
