/**
 * Decoding from the instruction table: word → entry (+ fields). Used by the
 * CPU's predecoder (which wants the base instruction) and by the disassembler
 * (which wants the preferred alias).
 */
import type { Fields, InsnDef } from './insn-def.js';
import { INSTRUCTIONS } from './table.js';
import { extractField } from './pattern.js';

const BUCKET_SHIFT = 21; // index by bits 31..21
const BUCKETS = 1 << (32 - BUCKET_SHIFT);

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function buildIndex(filter: (d: InsnDef) => boolean): InsnDef[][] {
  const buckets: InsnDef[][] = Array.from({ length: BUCKETS }, () => []);
  const entries = INSTRUCTIONS.filter(filter);
  for (const d of entries) {
    const topMask = d.mask >>> BUCKET_SHIFT;
    const topValue = d.value >>> BUCKET_SHIFT;
    for (let b = 0; b < BUCKETS; b++) {
      if ((b & topMask) === topValue) buckets[b]!.push(d);
    }
  }
  // More specific patterns first; declaration order breaks ties.
  const order = new Map(entries.map((d, i) => [d, i]));
  for (const list of buckets) list.sort((a, b) => popcount(b.mask) - popcount(a.mask) || order.get(a)! - order.get(b)!);
  return buckets;
}

let execIndex: InsnDef[][] | undefined;
let disasmAliasIndex: InsnDef[][] | undefined;

export function fieldsOf(d: InsnDef, word: number): Fields {
  const f: Fields = {};
  for (const spec of d.fields) f[spec.name] = extractField(word, spec);
  return f;
}

function matches(d: InsnDef, word: number): boolean {
  return ((word & d.mask) >>> 0) === d.value;
}

/** The base (non-alias) entry that defines the instruction's semantics, or undefined (UNDEFINED/unallocated). */
export function decodeBase(word: number): InsnDef | undefined {
  execIndex ??= buildIndex((d) => !d.alias && !d.asmOnly);
  const list = execIndex[word >>> BUCKET_SHIFT]!;
  for (const d of list) {
    if (!matches(d, word)) continue;
    if (d.preferred && !d.preferred(fieldsOf(d, word), d)) continue;
    if (!validEncoding(d, word)) continue;
    return d;
  }
  return undefined;
}

/** The entry the disassembler prints: the preferred alias when one applies, else the base. */
export function decodeForDisassembly(word: number): { def: InsnDef; fields: Fields } | undefined {
  disasmAliasIndex ??= buildIndex((d) => d.alias && !d.asmOnly);
  const base = decodeBase(word);
  if (!base) return undefined;
  for (const d of disasmAliasIndex[word >>> BUCKET_SHIFT]!) {
    if (!matches(d, word)) continue;
    if (d.exec !== base.exec) continue;
    const f = fieldsOf(d, word);
    if (d.preferred && !d.preferred(f, d)) continue;
    return { def: d, fields: f };
  }
  return { def: base, fields: fieldsOf(base, word) };
}

/**
 * Encodings that the pattern admits but the architecture reserves (Arm ARM
 * "UNDEFINED" / unallocated conditions on field values).
 */
function validEncoding(d: InsnDef, word: number): boolean {
  const f = (name: string): number => {
    const spec = d.fields.find((x) => x.name === name);
    return spec ? extractField(word, spec) : 0;
  };
  const is32 = d.datasize === 32;
  switch (d.exec) {
    case 'ADD_SUB_REG': return f('shift') !== 3 && !(is32 && f('imm6') >= 32);
    case 'LOGICAL_REG': return !(is32 && f('imm6') >= 32);
    case 'ADD_SUB_EXT': return f('imm3') <= 4;
    case 'BITFIELD': return !(is32 && (f('immr') >= 32 || f('imms') >= 32));
    case 'EXTR': return !(is32 && f('imms') >= 32);
    case 'MOVE_WIDE': return !(is32 && f('hw') >= 2);
    default: return true;
  }
}
