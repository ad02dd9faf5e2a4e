/**
 * Random instruction lines drawn from the instruction table: random words
 * that match an entry's pattern, printed by our disassembler. Used by the
 * GNU-as oracle tests, the assembler fuzz test and the assembler benchmark.
 */
import { INSTRUCTIONS } from './table.js';
import type { InsnDef } from './insn-def.js';
import { decodeForDisassembly } from './decode.js';
import { disassemble } from './disasm.js';

/** Small deterministic PRNG (xorshift32) so corpora are reproducible from a seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x >>> 0;
  };
}

export interface CorpusLine {
  text: string;
  /** The entry the line was generated from. */
  id: string;
  word: number;
}

/** Random words for each entry that the decoder attributes to that entry, printed by our disassembler. */
export function generateFromTable(filter: (d: InsnDef) => boolean, perEntry: number, seed: number): CorpusLine[] {
  const next = rng(seed);
  const out: CorpusLine[] = [];
  for (const d of INSTRUCTIONS) {
    if (d.asmOnly || !filter(d)) continue;
    let produced = 0;
    for (let attempt = 0; attempt < perEntry * 20 && produced < perEntry; attempt++) {
      const word = ((next() & ~d.mask) | d.value) >>> 0;
      const decoded = decodeForDisassembly(word);
      if (!decoded || decoded.def !== d) continue;
      // Branch targets print as absolute addresses; keep them as '.+offset' expressions instead.
      const text = disassemble(word, { address: 0n }).text.replace(/\t/, ' ').replace(/0x([0-9a-f]+)(?=$|,)/, (m) => m);
      out.push({ text: pcRelativeAsDot(text, d), id: d.id, word });
      produced++;
    }
  }
  return out;
}

/** Instructions with PC-relative targets print the target address; re-express it as '.+delta' (address 0 → delta = target). */
function pcRelativeAsDot(text: string, d: InsnDef): string {
  if (!d.operands.some((o) => o.token.startsWith('label.'))) return text;
  return text.replace(/(^|, )(-?0x[0-9a-f]+)$/, (_m, pre: string, hexv: string) => `${pre}.+(${BigInt.asIntN(64, BigInt(hexv))})`)
    .replace(/(^|, )(-?0x[0-9a-f]+)(?=, )/, (_m, pre: string, hexv: string) => `${pre}.+(${BigInt.asIntN(64, BigInt(hexv))})`);
}

