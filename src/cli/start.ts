/**
 * The default job (`npm start`). Until the pKVM boot flow lands, it
 * assembles the documents' routines in asm/ with our assembler and prints
 * their listings and symbols.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../asm/assembler.js';
import { formatListing } from '../asm/listing.js';
import { formatDiagnostic } from '../common/diagnostics.js';

export function projectRoot(): string {
  // dist/src/cli/start.js or src/cli/start.ts → the package root holds package.json
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

export function runStart(_argv: string[]): number {
  const asmDir = join(projectRoot(), 'asm');
  const files = existsSync(asmDir) ? readdirSync(asmDir).filter((f) => f.endsWith('.S')).sort() : [];
  if (files.length === 0) {
    process.stderr.write(`no .S files in ${asmDir}\n`);
    return 1;
  }
  let failed = false;
  for (const f of files) {
    const path = join(asmDir, f);
    const result = assemble(readFileSync(path, 'utf8'), { file: path, includeDirs: [join(asmDir, 'include')] });
    for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    if (result.diagnostics.some((d) => d.severity === 'error')) { failed = true; continue; }
    const insns = result.sections.reduce((n, s) => n + s.listing.length, 0);
    process.stdout.write(`=== asm/${f}: ${insns} instructions in ${result.sections.filter((s) => s.size > 0).map((s) => `${s.name} (${s.size} bytes)`).join(', ')}\n`);
    process.stdout.write(formatListing(result));
    const globals = result.symbols.filter((s) => s.defined && s.binding !== 'local' && s.section).map((s) => `${s.name}=${s.section!.name}+0x${s.value.toString(16)}`);
    if (globals.length) process.stdout.write(`global symbols: ${globals.join(' ')}\n\n`);
  }
  return failed ? 1 : 0;
}
