/**
 * `npm run bench`: every benchmark, each printing rates beside a baseline or
 * reference measured in the same run.
 */
import { runAsmBench } from './asm-throughput.js';
import { runMemoryBench } from './memory.bench.js';
import { runCpuBench } from './cpu-throughput.js';
import { runTranslationBench } from './translation.js';

const only = process.argv[2];
const benches: [string, () => Promise<void>][] = [
  ['asm', () => runAsmBench()],
  ['memory', () => runMemoryBench()],
  ['cpu', () => runCpuBench()],
  ['mmu', () => runTranslationBench()],
  ['trace', async () => (await import('./trace-diff.js')).runTraceDiffBench()],
];
for (const [name, fn] of benches) {
  if (only && only !== name) continue;
  console.log(`\n## ${name}`);
  await fn();
}
