/**
 * `asm FILE.S|FILE.s [-I DIR]… [-D NAME[=VALUE]]… [-o OUT.o] [--listing] [--base ADDR -O binary]`
 * `.S` files go through the C preprocessor, `.s` files do not (as with gcc).
 * Errors print as `file:line:col: error: …` with the source line and a caret;
 * the exit status is 1 and no output file is written.
 */
import { readFileSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { assemble } from '../asm/assembler.js';
import { toObjectModel } from '../asm/object-file.js';
import { linkFlat, LinkError } from '../asm/link-flat.js';
import { formatListing } from '../asm/listing.js';
import { writeRelocatableObject } from '../elf/write-object.js';
import { formatDiagnostic } from '../common/diagnostics.js';

export const ASM_USAGE = `usage: asm FILE.S|FILE.s [-I DIR]... [-D NAME[=VALUE]]... [-o OUT] [--listing] [--base ADDR -O binary]`;

export class UsageError extends Error {}

interface AsmArgs {
  input: string;
  includeDirs: string[];
  defines: Record<string, string>;
  output?: string;
  listing: boolean;
  base?: bigint;
  format: 'elf' | 'binary';
}

export function parseAsmArgs(argv: string[]): AsmArgs {
  const args: AsmArgs = { input: '', includeDirs: [], defines: {}, listing: false, format: 'elf' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-I') args.includeDirs.push(value());
    else if (a.startsWith('-I')) args.includeDirs.push(a.slice(2));
    else if (a === '-D' || a.startsWith('-D')) {
      const d = a === '-D' ? value() : a.slice(2);
      const eq = d.indexOf('=');
      if (eq === 0 || d === '') throw new UsageError(`bad -D option '${d}'`);
      if (eq < 0) args.defines[d] = '1'; else args.defines[d.slice(0, eq)] = d.slice(eq + 1);
    } else if (a === '-o') args.output = value();
    else if (a === '--listing') args.listing = true;
    else if (a === '--base') {
      const v = value();
      if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v.replace(/_/g, ''))) throw new UsageError(`bad --base address '${v}'`);
      args.base = BigInt(v.replace(/_/g, ''));
    } else if (a === '-O') {
      const v = value();
      if (v !== 'binary' && v !== 'elf') throw new UsageError(`unknown output format '${v}' (binary or elf)`);
      args.format = v;
    } else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
    else if (args.input) throw new UsageError(`more than one input file ('${args.input}', '${a}')`);
    else args.input = a;
  }
  if (!args.input) throw new UsageError('no input file');
  if (args.format === 'binary' && args.base === undefined) throw new UsageError('-O binary needs --base ADDR');
  return args;
}

/** Runs the assembler command; returns the process exit status. */
export function runAsm(argv: string[], io: { stdout: (s: string) => void; stderr: (s: string) => void } = defaultIo): number {
  let args: AsmArgs;
  try {
    args = parseAsmArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) { io.stderr(`asm: ${err.message}\n${ASM_USAGE}\n`); return 2; }
    throw err;
  }
  let source: string;
  try {
    source = readFileSync(args.input, 'utf8');
  } catch {
    io.stderr(`asm: cannot read '${args.input}'\n`);
    return 1;
  }
  const result = assemble(source, { file: args.input, includeDirs: args.includeDirs, defines: args.defines });
  for (const d of result.diagnostics) io.stderr(formatDiagnostic(d) + '\n');
  if (result.diagnostics.some((d) => d.severity === 'error')) return 1;
  let bytes: Uint8Array;
  let baseMap: Map<string, bigint> | undefined;
  let image: { base: bigint; bytes: Uint8Array } | undefined;
  if (args.format === 'binary') {
    try {
      const linked = linkFlat(result, args.base!);
      bytes = linked.bytes;
      baseMap = linked.sectionAddress;
      image = linked;
    } catch (err) {
      if (err instanceof LinkError) { io.stderr(`${args.input}: error: ${err.message}\n`); return 1; }
      throw err;
    }
  } else {
    bytes = writeRelocatableObject(toObjectModel(result));
  }
  if (args.listing) io.stdout(formatListing(result, { base: baseMap, image }));
  const out = args.output ?? basename(args.input).replace(/\.[sS]$/, '') + (args.format === 'binary' ? '.bin' : '.o');
  // Write atomically so a failure never leaves a partial output file.
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, out);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* nothing to clean */ }
    io.stderr(`asm: cannot write '${out}': ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}

const defaultIo = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
