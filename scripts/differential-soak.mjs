#!/usr/bin/env node
/**
 * The larger seeded differential run of issue 3: random straight-line
 * programs (test/cpu/differential/random-program.ts), 50 per image, each
 * image run single-stepped under QEMU 7.2 and on our interpreter and compared
 * before every instruction. It runs test/cpu/differential/soak.test.ts under
 * vitest (the generator is TypeScript test code), split into parallel shards.
 *
 *   node scripts/differential-soak.mjs [--images N] [--seed S] [--cpu cortex-a57|cortex-a76]
 *                                      [--el 2|1|0] [--blocks B] [--jobs J] [--report FILE]
 *
 *   --images N   images to run (default 40 = 2,000 programs, ~280,000 instructions)
 *   --seed S     first seed; image i uses seed S+i (default: from the clock, printed)
 *   --cpu        CPU model on both sides (default cortex-a57)
 *   --el         exception level the programs run at (default 2; 1 = EL1h, 0 = EL0t)
 *   --blocks B   programs per image (default 50)
 *   --jobs J     parallel shards (default: number of CPUs)
 *   --report F   also append every failure report to F
 *
 * Needs qemu-system-aarch64 on PATH (npm run setup-tools). A mismatch report
 * names the seed; `--seed S --images 1` replays that image alone.
 * Example: `node scripts/differential-soak.mjs --images 200 --jobs 2` (10,000 programs).
 * Exit status 0 when every image matched.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: node scripts/differential-soak.mjs [--images N] [--seed S] [--cpu MODEL] [--el E] [--blocks B] [--jobs J] [--report FILE]\n');
  process.exit(0);
}
const images = opt('images', '40');
const seed = opt('seed', String(Date.now() & 0x7fffffff));
const cpu = opt('cpu', 'cortex-a57');
const el = opt('el', '2');
const blocks = opt('blocks', '50');
const jobs = Math.max(1, Number(opt('jobs', String(availableParallelism()))));
const report = opt('report', undefined);

process.stdout.write(`differential soak: ${images} images x ${blocks} programs on ${cpu} at EL${el}, seeds ${seed}.., ${jobs} jobs\n`);
const runs = [];
for (let k = 0; k < jobs; k++) {
  const env = {
    ...process.env,
    DIFF_SOAK: '1',
    DIFF_SOAK_IMAGES: images,
    DIFF_SOAK_SEED: seed,
    DIFF_SOAK_CPU: cpu,
    DIFF_SOAK_EL: el,
    DIFF_SOAK_BLOCKS: blocks,
    DIFF_SOAK_SHARD: `${k}/${jobs}`,
    ...(report ? { DIFF_SOAK_REPORT: report } : {}),
  };
  const child = spawn('npx', ['vitest', 'run', 'test/cpu/differential/soak.test.ts', '--reporter=dot'], { cwd: root, env, stdio: 'inherit' });
  runs.push(new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1))));
}
const codes = await Promise.all(runs);
const failed = codes.filter((c) => c !== 0).length;
process.stdout.write(failed ? `differential soak: ${failed} of ${jobs} shards failed (mismatches or errors, see above)\n` : 'differential soak: all images matched\n');
process.exit(failed ? 1 : 0);
