/**
 * Physical-memory micro-benchmark: rates of 32-bit loads and stores on the
 * paths the CPU uses, and their ratios within the same run:
 *  - inlined fast window (the CPU indexes `ram32` itself),
 *  - the generic `read32`/`write32` methods hitting the fast window,
 *  - the generic methods on a RAM chunk outside the fast window,
 *  - a store into a page marked as holding code (hook call per store).
 */
import { PhysicalMemory } from '../src/machine/physical-memory.js';

const MiB = 1024 * 1024;
const RAM_BASE = 0x4000_0000;
/** Accesses per timed run: a 1 MiB window walked repeatedly. */
const ACCESSES = 1 << 24;
const WINDOW_WORDS = MiB / 4;
const REPEATS = 5;

interface Result {
  name: string;
  accessesPerSecond: number;
}

/** Best of several runs, so a GC pause or JIT tier-up does not decide the number. */
function measure(name: string, body: () => number): Result {
  body(); // warm up
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < REPEATS; r++) {
    const start = performance.now();
    sink ^= body();
    best = Math.min(best, performance.now() - start);
  }
  if (sink === 0x7fff_ffff) console.log('(ignore)'); // keep results observable
  return { name, accessesPerSecond: ACCESSES / (best / 1000) };
}

export async function runMemoryBench(): Promise<void> {
  const memory = new PhysicalMemory();
  // Two 4 MiB chunks: the first is the fast window, the second exercises the slow path.
  memory.addRam('ram', RAM_BASE, 8 * MiB, 4 * MiB);
  const slowBase = RAM_BASE + 4 * MiB;
  memory.write32(slowBase, 1); // give the second chunk backing store

  const results: Result[] = [];

  results.push(
    measure('inlined ram32 load', () => {
      let acc = 0;
      for (let i = 0; i < ACCESSES; i++) {
        const off = RAM_BASE + ((i & (WINDOW_WORDS - 1)) << 2) - memory.ramBase;
        if (off >= 0 && off <= memory.ramSize - 4 && (off & 3) === 0) acc ^= memory.ram32[off >>> 2]!;
      }
      return acc;
    }),
  );
  results.push(
    measure('inlined ram32 store', () => {
      for (let i = 0; i < ACCESSES; i++) {
        const pa = RAM_BASE + ((i & (WINDOW_WORDS - 1)) << 2);
        const off = pa - memory.ramBase;
        if (off >= 0 && off <= memory.ramSize - 4 && (off & 3) === 0) {
          memory.ram32[off >>> 2] = i;
          if (memory.ramCodePages[off >>> 12] !== 0) memory.notifyCodeWrite(pa, 4);
        }
      }
      return 1;
    }),
  );
  results.push(
    measure('read32 (fast window)', () => {
      let acc = 0;
      for (let i = 0; i < ACCESSES; i++) acc ^= memory.read32(RAM_BASE + ((i & (WINDOW_WORDS - 1)) << 2));
      return acc;
    }),
  );
  results.push(
    measure('write32 (fast window)', () => {
      for (let i = 0; i < ACCESSES; i++) memory.write32(RAM_BASE + ((i & (WINDOW_WORDS - 1)) << 2), i);
      return 1;
    }),
  );
  results.push(
    measure('read32 (other chunk)', () => {
      let acc = 0;
      for (let i = 0; i < ACCESSES; i++) acc ^= memory.read32(slowBase + ((i & (WINDOW_WORDS - 1)) << 2));
      return acc;
    }),
  );
  results.push(
    measure('write32 (other chunk)', () => {
      for (let i = 0; i < ACCESSES; i++) memory.write32(slowBase + ((i & (WINDOW_WORDS - 1)) << 2), i);
      return 1;
    }),
  );

  let hookCalls = 0;
  memory.onCodeWrite = () => {
    hookCalls++;
  };
  memory.markCodePage(RAM_BASE);
  results.push(
    measure('write32 (code page, hook)', () => {
      for (let i = 0; i < ACCESSES; i++) memory.write32(RAM_BASE + ((i & 1023) << 2), i);
      return hookCalls;
    }),
  );
  memory.clearCodePages();
  memory.onCodeWrite = undefined;

  const reference = results[0]!.accessesPerSecond;
  console.log('memory: 32-bit accesses (best of %d runs of %d)', REPEATS, ACCESSES);
  for (const { name, accessesPerSecond } of results) {
    const rate = (accessesPerSecond / 1e6).toFixed(1).padStart(8);
    const ratio = (accessesPerSecond / reference).toFixed(2);
    console.log(`  ${name.padEnd(28)} ${rate} M/s   ${ratio}x inlined load`);
  }
}

// Run directly: `node dist/bench/memory.bench.js`.
if (import.meta.url === `file://${process.argv[1]}`) {
  await runMemoryBench();
}
