/**
 * Tests run against the compiled build (dist/), as users do: tsc inlines the
 * interpreter's const-enum op numbers into literal case labels, which the
 * per-file transform vitest uses cannot do (the interpreter is 20-40x slower
 * without them). `npm test` builds first; when vitest is started directly and
 * src/ is newer than the last build, this rebuilds once (under a lock, since
 * several test runs may start at the same time).
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'generated' || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function buildIsStale(): boolean {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  return ['src', 'grammar', 'bench'].some((d) => newestMtime(join(root, d)) > built);
}

export default function setup(): void {
  if (!buildIsStale()) return;
  const lock = join(root, 'dist.build-lock');
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('timed out waiting for another build (remove dist.build-lock if stale)');
      execSync('sleep 1');
    }
  }
  try {
    if (buildIsStale()) {
      console.log('[tests] src/ changed since the last build: rebuilding dist/');
      execSync('npm run grammar', { cwd: root, stdio: 'inherit' });
      try {
        execSync('npx tsc -p tsconfig.json', { cwd: root, stdio: 'pipe' });
      } catch (err) {
        // tsc still emits on type errors; tests run, and `npm run build` (CI) reports the errors.
        const out = String((err as { stdout?: Buffer }).stdout ?? '').split('\n').slice(0, 5).join('\n');
        console.warn(`[tests] WARNING: type errors in the tree (tests run on the emitted JS):\n${out}`);
      }
      writeFileSync(stamp, '');
    }
  } finally {
    rmdirSync(lock);
  }
}
