/**
 * The larger seeded differential run (random programs against QEMU), only
 * when DIFF_SOAK is set; started by `node scripts/differential-soak.mjs`,
 * which documents the knobs. Unlike the CI test it keeps going after a
 * mismatch and reports every failing image at the end.
 *
 *   DIFF_SOAK=1                 enable
 *   DIFF_SOAK_IMAGES=N          images to run (50 programs each; default 40)
 *   DIFF_SOAK_SEED=S            first seed (default: derived from the time, printed)
 *   DIFF_SOAK_CPU=cortex-a57|cortex-a76
 *   DIFF_SOAK_EL=2|1|0          exception level the programs run at (default 2)
 *   DIFF_SOAK_BLOCKS=B          programs per image (default 50)
 *   DIFF_SOAK_SHARD=k/n         run only images i with i % n == k (parallel runs)
 *   DIFF_SOAK_REPORT=FILE       append failures to FILE as well
 */
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { qemuAvailable } from '../../helpers/qemu.js';
import { runRandomImage } from './random-runner.js';

const env = process.env;
const enabled = env['DIFF_SOAK'] !== undefined && env['DIFF_SOAK'] !== '' && env['DIFF_SOAK'] !== '0';

describe.runIf(enabled && qemuAvailable())('differential soak: random programs against QEMU 7.2', () => {
  it('runs every seeded image and reports all mismatches', () => {
    const images = Number(env['DIFF_SOAK_IMAGES'] ?? 40);
    const blocks = Number(env['DIFF_SOAK_BLOCKS'] ?? 50);
    const firstSeed = Number(env['DIFF_SOAK_SEED'] ?? (Date.now() & 0x7fffffff));
    const cpu = (env['DIFF_SOAK_CPU'] ?? 'cortex-a57') as 'cortex-a57' | 'cortex-a76';
    const el = Number(env['DIFF_SOAK_EL'] ?? 2) as 0 | 1 | 2;
    const [shard, shards] = (env['DIFF_SOAK_SHARD'] ?? '0/1').split('/').map(Number) as [number, number];
    const started = performance.now();
    let programs = 0, states = 0, exceptions = 0;
    const failures: string[] = [];
    for (let i = 0; i < images; i++) {
      if (i % shards !== shard) continue;
      const seed = (firstSeed + i) >>> 0;
      const r = runRandomImage(seed, { blocks, el }, cpu);
      programs += r.programs;
      states += r.run.comparison.states;
      exceptions += r.run.comparison.exceptions;
      if (r.failure) {
        failures.push(r.failure);
        if (env['DIFF_SOAK_REPORT']) appendFileSync(env['DIFF_SOAK_REPORT'], `${r.failure}\n\n`);
        console.log(`FAIL seed ${seed}:\n${r.failure.split('\n').slice(0, 8).join('\n')}\n`);
      }
    }
    const secs = (performance.now() - started) / 1000;
    console.log(
      `soak ${cpu} EL${el} shard ${shard}/${shards}: seeds ${firstSeed}..${firstSeed + images - 1}, ${programs} programs, ` +
      `${states} instructions compared, ${exceptions} exceptions, ${failures.length} failing images, ${secs.toFixed(1)} s`,
    );
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 24 * 3600 * 1000);
});
