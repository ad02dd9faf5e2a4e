/**
 * Assembler throughput: a generated 100,000-line file (instructions from the
 * table, labels, branches, data directives, a macro), assembled by ours and by
 * GNU as in the same run. Prints lines/s, the ratio to GNU as and where our
 * time goes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/asm/assembler.js';
import { toObjectModel } from '../src/asm/object-file.js';
import { writeRelocatableObject } from '../src/elf/write-object.js';
import { generateFromTable, rng } from '../src/isa/random-corpus.js';

export function generateBenchSource(lines: number, seed = 1): string {
  const next = rng(seed);
  const candidates = generateFromTable((d) => !d.operands.some((o) => o.token.startsWith('label.')) && !d.feature, 3, seed)
    .map((l) => l.text);
  // Keep only lines the assembler accepts (reserved encodings print but do not assemble; GNU rejects them too).
  const check = assemble(candidates.join('\n') + '\n', { file: 'pool.s' });
  const bad = new Set(check.diagnostics.filter((d) => d.severity === 'error').map((d) => d.loc.line - 1));
  const pool = candidates.filter((_l, i) => !bad.has(i));
  const out: string[] = ['\t.text', '\t.macro\tsave_pair a, b', '\tstp\t\\a, \\b, [sp, #-16]!', '\t.endm'];
  let label = 0;
  while (out.length < lines) {
    const r = next() % 100;
    if (r < 4) out.push(`L${label++}:`);
    else if (r < 8 && label > 0) out.push(`\tb.ne\tL${next() % label}`);
    else if (r < 10) out.push(`\tsave_pair\tx${next() % 29}, x${next() % 29}`);
    else if (r < 11) out.push(`\t.quad\t0x${next().toString(16)}`);
    else out.push(`\t${pool[next() % pool.length]}`);
  }
  return out.join('\n') + '\n';
}

function gnuAsTime(source: string): number | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'asm-bench-'));
  try {
    const file = join(dir, 'bench.s');
    writeFileSync(file, source);
    const t0 = performance.now();
    const r = spawnSync('aarch64-linux-gnu-as', [file, '-o', join(dir, 'bench.o')]);
    const t = performance.now() - t0;
    if (r.error || r.status !== 0) return undefined;
    return t;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runAsmBench(lines = 100_000): Promise<void> {
  const source = generateBenchSource(lines);
  const n = source.split('\n').length - 1;
  // Warm up the JIT on a smaller file first.
  assemble(generateBenchSource(5000, 2), { file: 'warm.s' });
  const t0 = performance.now();
  const result = assemble(source, { file: 'bench.s' });
  const t1 = performance.now();
  const bytes = writeRelocatableObject(toObjectModel(result));
  const t2 = performance.now();
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) console.log(`  (${errors.length} errors while assembling the benchmark file: ${errors[0]!.message})`);
  const ours = t2 - t0;
  const gnu = gnuAsTime(source);
  console.log(`assembler: ${n} lines, ${bytes.length} bytes of ELF`);
  console.log(`  ours    ${(n / (ours / 1000) / 1000).toFixed(0).padStart(6)} k lines/s  (${ours.toFixed(0)} ms)`);
  if (gnu !== undefined) {
    console.log(`  GNU as  ${(n / (gnu / 1000) / 1000).toFixed(0).padStart(6)} k lines/s  (${gnu.toFixed(0)} ms)`);
    console.log(`  ratio   ours/GNU time = ${(ours / gnu).toFixed(2)}x  (target: <= 3x)`);
  } else {
    console.log('  GNU as  not available (install binutils-aarch64-linux-gnu for the comparison)');
  }
  // A second, instrumented run gives the phase breakdown (the timed run above has no clock reads).
  const tm = assemble(source, { file: 'bench.s', profile: true }).timings;
  const accounted = (tm.preprocess ?? 0) + (tm.statements ?? 0) + (tm.parse ?? 0) + (tm.encode ?? 0) + (tm.fixups ?? 0);
  console.log('  breakdown (ms): ' + [
    `preprocess ${(tm.preprocess ?? 0).toFixed(0)}`,
    `statements+macros ${(tm.statements ?? 0).toFixed(0)}`,
    `parse ${(tm.parse ?? 0).toFixed(0)}`,
    `encode ${(tm.encode ?? 0).toFixed(0)}`,
    `fixups ${(tm.fixups ?? 0).toFixed(0)}`,
    `other ${(t1 - t0 - accounted).toFixed(0)}`,
    `elf ${(t2 - t1).toFixed(0)}`,
  ].join(', '));
}
