/**
 * Random straight-line programs against QEMU 7.2 (issue 3, verification):
 * seeded images of 50 programs each (random-program.ts: re-randomised
 * registers and flags, every integer data-processing class of the table,
 * forward branches, aligned loads/stores of every kind into a scratch buffer,
 * a few random words of the data-processing encoding space whose UNDEFINED
 * exceptions are compared too), run single-stepped on QEMU and on our
 * interpreter; PC, X0-X30, SP, NZCV and EL must match before every
 * instruction, and exception entries (ESR, ELR, vector) must match too.
 *
 * A failure prints the seed, the program with the instruction marked, the
 * step, its disassembly and the differing registers. A larger seeded run is
 * `node scripts/differential-soak.mjs` (see its header).
 *
 * CI size: DIFF_CI_IMAGES images (default 8, cortex-a57, at EL2), one image
 * each at EL1 and EL0, and 2 images on cortex-a76 = 600 programs, about
 * 85,000 compared instructions.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { qemuAvailable } from '../../helpers/qemu.js';
import { DATA_PROCESSING } from '../../../src/isa/tables/data-processing.js';
import { decodeBase } from '../../../src/isa/decode.js';
import { generateImage } from './random-program.js';
import { runRandomImage } from './random-runner.js';

const IMAGES = Number(process.env['DIFF_CI_IMAGES'] ?? 8);
const BLOCKS = 50;
/** Fixed seeds: CI runs are reproducible; the soak script varies them. */
const SEED_BASE = 0x5eed0000;

const totals = { programs: 0, states: 0, exceptions: 0, tolerated: {} as Record<string, number>, qemuMs: 0, oursMs: 0 };

describe('the random-program generator', () => {
  it('the CI images hold every data-processing instruction of the table, and UNDEFINED encodings', () => {
    const seen = new Map<string, number>();
    let undefinedWords = 0;
    for (let i = 0; i < IMAGES; i++) {
      for (const m of generateImage(SEED_BASE + i, { blocks: BLOCKS }).source.matchAll(/\.inst 0x([0-9a-f]{8})/g)) {
        const d = decodeBase(Number.parseInt(m[1]!, 16) >>> 0);
        if (d) seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
        else undefinedWords++;
      }
    }
    const bases = DATA_PROCESSING.filter((d) => !d.alias && !d.asmOnly).map((d) => d.id);
    expect(bases.filter((id) => (seen.get(id) ?? 0) < 3)).toEqual([]);
    expect(undefinedWords).toBeGreaterThan(100);
  });
});

describe.runIf(qemuAvailable())('random straight-line programs against QEMU 7.2', () => {
  const cases: [string, number, 'cortex-a57' | 'cortex-a76', 0 | 1 | 2][] = [];
  for (let i = 0; i < IMAGES; i++) cases.push([`cortex-a57 EL2 image ${i}`, SEED_BASE + i, 'cortex-a57', 2]);
  cases.push(['cortex-a57 EL1 image', SEED_BASE + 0x80, 'cortex-a57', 1]);
  cases.push(['cortex-a57 EL0 image', SEED_BASE + 0x81, 'cortex-a57', 0]);
  for (let i = 0; i < 2; i++) cases.push([`cortex-a76 EL2 image ${i}`, SEED_BASE + 0x100 + i, 'cortex-a76', 2]);

  it.each(cases)('%s (seed %i)', (_name, seed, cpu, el) => {
    const r = runRandomImage(seed, { blocks: BLOCKS, el }, cpu);
    totals.programs += r.programs;
    totals.states += r.run.comparison.states;
    totals.exceptions += r.run.comparison.exceptions;
    totals.qemuMs += r.run.qemuMs;
    totals.oursMs += r.run.oursMs;
    for (const [k, v] of Object.entries(r.run.comparison.tolerated)) totals.tolerated[k] = (totals.tolerated[k] ?? 0) + v;
    expect(r.failure, r.failure).toBe('');
    // The program must have run to its end on both sides (every block, then SYSTEM_OFF), at its EL.
    expect(r.run.comparison.states).toBeGreaterThan(BLOCKS * 100);
    expect(r.run.qemuItems.filter((i) => i.kind === 'state' && i.state.el === el).length).toBeGreaterThan(BLOCKS * 100);
  });

  afterAll(() => {
    console.log(
      `random programs vs QEMU: ${totals.programs} programs, ${totals.states} instructions compared, ` +
      `${totals.exceptions} exceptions; QEMU ${(totals.qemuMs / 1000).toFixed(1)} s, ours+compare ${(totals.oursMs / 1000).toFixed(1)} s; ` +
      `tolerated ${JSON.stringify(totals.tolerated)}`,
    );
  });
});
