/**
 * Runs seeded images of random programs (random-program.ts) on QEMU and on
 * our interpreter and turns a mismatch into a report a person can act on:
 * the seed, the program (block) with the instruction marked, the step, the
 * instruction's disassembly and the differing registers.
 */
import { buildImage } from '../../helpers/qemu.js';
import { generateImage, locate, type GeneratorOptions, type ProgramImageSource } from './random-program.js';
import { IMAGE_BASE, runImageBothWays, type DifferentialRun } from './differential.js';

export interface RandomImageResult {
  seed: number;
  programs: number;
  run: DifferentialRun;
  /** Empty when QEMU and we agree at every step and both powered off. */
  failure: string;
}

export function runRandomImage(seed: number, opts: GeneratorOptions, cpu: 'cortex-a57' | 'cortex-a76' = 'cortex-a57'): RandomImageResult {
  const program = generateImage(seed, opts);
  const image = buildImage(program.source, IMAGE_BASE);
  const lines = program.blocks.reduce((n, b) => n + b.lines.length, 0);
  const run = runImageBothWays(image, { maxInsns: 2 * lines + 10_000, cpu });
  let failure = '';
  if (!run.comparison.ok) {
    failure = `${cpu}, EL${opts.el ?? 2}: ${mismatchReport(program, run)}`;
  } else if (run.qemuStop !== 'system-off' || run.ourStop !== 'psci-off') {
    failure = `seed ${seed} (${cpu}, EL${opts.el ?? 2}): runs did not both power off (QEMU: ${run.qemuStop}, ours: ${run.ourStop})`;
  }
  return { seed, programs: program.blocks.length, run, failure };
}

/** The mismatch, and the program around the instruction that caused it. */
export function mismatchReport(program: ProgramImageSource, run: DifferentialRun): string {
  const m = run.comparison.mismatches[0]!;
  const culprit = m.after?.pc ?? m.pc;
  const where = locate(program, run.image.symbols, culprit);
  const out = [`seed ${program.seed}: ${m.text}`];
  if (where) {
    out.push(`in program block${where.block.index} of image seed ${program.seed} (source line ${where.line}; '>>' marks it):`);
    where.block.lines.forEach((l, i) => out.push(`${i === where.line ? '>>' : '  '} ${l}`));
  } else {
    out.push(`(instruction at 0x${culprit.toString(16)} is outside the random blocks)`);
  }
  return out.join('\n');
}
