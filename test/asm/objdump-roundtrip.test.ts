/**
 * Round trip through binutils: our object's `objdump -d` text, fed back to our
 * assembler, reproduces the same bytes (branch targets are turned back into
 * PC-relative expressions).
 */
import { describe, expect, it } from 'vitest';
import { requireOracle, GNU_OBJDUMP, gnuObjdump } from '../helpers/oracle.js';
import { assemble } from '../../src/asm/assembler.js';
import { toObjectModel } from '../../src/asm/object-file.js';
import { writeRelocatableObject } from '../../src/elf/write-object.js';
import { generateFromTable } from '../../src/isa/random-corpus.js';

const PREAMBLE = '.arch armv8.5-a+lse+crc+rcpc+pauth+sb+predres+ssbs+memtag+flagm+rng';

/** objdump's `   4:\tf9400020 \tldr\tx0, [x1]` lines → [offset, word, text]. */
function parseObjdump(text: string): { offset: number; word: number; asm: string }[] {
  const out: { offset: number; word: number; asm: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f]{8}) \t([^\t]+)(?:\t(.*))?$/.exec(line);
    if (!m) continue;
    let operands = (m[4] ?? '').replace(/\s*\/\/.*$/, '').trim();
    // `b.ne\t40 <.text+0x40>` → an expression relative to this instruction
    const offset = parseInt(m[1]!, 16);
    operands = operands.replace(/(^|, )([0-9a-f]+) <[^>]*>$/, (_all, pre: string, target: string) =>
      `${pre}.+(${BigInt.asIntN(64, BigInt('0x' + target) - BigInt(offset))})`);
    out.push({ offset, word: parseInt(m[2]!, 16) >>> 0, asm: `${m[3]!.trim()} ${operands}`.trim() });
  }
  return out;
}

describe.runIf(requireOracle(GNU_OBJDUMP))('objdump round trip', () => {
  it('reassembles objdump -d of our output to the same bytes', () => {
    const lines = generateFromTable(() => true, 3, 0x2021).map((l) => l.text);
    const first = assemble(`${PREAMBLE}\n${lines.join('\n')}\n`, { file: 'corpus.s' });
    // Lines we reject (reserved encodings the disassembler still prints) are dropped; GNU rejects them too (table tests).
    const bad = new Set(first.diagnostics.filter((d) => d.severity === 'error').map((d) => d.loc.line - 2));
    const good = lines.filter((_l, i) => !bad.has(i));
    const ours = assemble(`${PREAMBLE}\n${good.join('\n')}\n`, { file: 'corpus.s' });
    expect(ours.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const obj = writeRelocatableObject(toObjectModel(ours));
    const dis = parseObjdump(gnuObjdump(obj, ['-d', '--no-show-raw-insn'].slice(0, 1)));
    expect(dis.length).toBe(good.length);
    const again = assemble(`${PREAMBLE}\n${dis.map((d) => d.asm).join('\n')}\n`, { file: 'objdump.s' });
    const errors = again.diagnostics.filter((d) => d.severity === 'error').map((d) => `${dis[d.loc.line - 2]?.asm}: ${d.message}`);
    expect(errors).toEqual([]);
    const text = again.sections.find((s) => s.name === '.text')!;
    const mismatches: string[] = [];
    dis.forEach((d, k) => {
      const w = text.readWord(k * 4);
      if (w !== d.word) mismatches.push(`${d.asm}: objdump ${d.word.toString(16)} reassembled ${w.toString(16)}`);
    });
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(dis.length).toBeGreaterThan(2000);
  });
});
