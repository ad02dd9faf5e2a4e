/**
 * Test oracles: the Debian GNU binutils (and friends) that our assembler,
 * linker-facing output and ELF files are checked against.
 *
 * Missing tools skip the dependent tests with a loud warning on a developer
 * machine, but fail the run under CI (CI=true), where scripts/install-reference-tools.sh
 * must have installed them.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { relocTypeName, SHT_NULL, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX } from '../../src/elf/constants.js';
import { readElf, type ElfFile, type ElfRelocation, type ElfSection, type ElfSymbol } from '../../src/elf/read.js';

export const GNU_AS = 'aarch64-linux-gnu-as';
export const GNU_LD = 'aarch64-linux-gnu-ld';
export const GNU_OBJDUMP = 'aarch64-linux-gnu-objdump';
export const GNU_READELF = 'aarch64-linux-gnu-readelf';
export const QEMU_SYSTEM = 'qemu-system-aarch64';
export const GDB = 'gdb-multiarch';

const availability = new Map<string, boolean>();
const warnedMissing = new Set<string>();

/** True when `tool` is an executable file in one of the PATH directories. */
export function oracleAvailable(tool: string): boolean {
  const cached = availability.get(tool);
  if (cached !== undefined) return cached;
  let found = false;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, tool), fsConstants.X_OK);
      found = true;
      break;
    } catch {
      // not in this directory
    }
  }
  availability.set(tool, found);
  return found;
}

/**
 * For `describe.runIf(requireOracle(tool))`: true if the tool is present;
 * under CI a missing tool is an error (the run must not silently skip); else
 * warns once and returns false so the tests are skipped.
 */
export function requireOracle(tool: string): boolean {
  if (oracleAvailable(tool)) return true;
  if (process.env.CI === 'true') {
    throw new Error(
      `ORACLE MISSING under CI: "${tool}" is not on PATH; scripts/install-reference-tools.sh should have installed it`,
    );
  }
  if (!warnedMissing.has(tool)) {
    warnedMissing.add(tool);
    console.warn(
      `*** ORACLE MISSING: "${tool}" is not on PATH; tests that need it are skipped. Run \`npm run setup-tools\` to install the reference tools. ***`,
    );
  }
  return false;
}

/** Runs `fn` with a fresh temporary directory that is removed afterwards. */
function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'pkvm-oracle-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runTool(tool: string, args: string[], cwd: string, timeoutMs = 60_000): ToolRun {
  const result = spawnSync(tool, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw new Error(`${tool} could not be run: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export type GnuAssembleResult =
  | { ok: true; object: Uint8Array; elf: ElfFile; /** warnings GNU as printed */ stderr: string }
  | { ok: false; stderr: string };

/**
 * Assembles `source` with GNU as in a temporary directory. `file` names the
 * source file (it appears in diagnostics and STT_FILE symbols); `args` go
 * before it on the command line.
 */
export function gnuAssemble(source: string, opts: { args?: string[]; file?: string } = {}): GnuAssembleResult {
  const sourceName = opts.file ?? 'input.s';
  return withTempDir((dir) => {
    mkdirSync(dirname(join(dir, sourceName)), { recursive: true });
    writeFileSync(join(dir, sourceName), source);
    const run = runTool(GNU_AS, [...(opts.args ?? []), '-o', 'output.o', sourceName], dir);
    if (run.status !== 0) return { ok: false, stderr: run.stderr };
    const object = new Uint8Array(readFileSync(join(dir, 'output.o')));
    return { ok: true, object, elf: readElf(object), stderr: run.stderr };
  });
}

/** Runs objdump on `object` (saved as "object.o" in a temp dir) and returns its stdout. */
export function gnuObjdump(object: Uint8Array, args: string[]): string {
  return withTempDir((dir) => {
    writeFileSync(join(dir, 'object.o'), object);
    const run = runTool(GNU_OBJDUMP, [...args, 'object.o'], dir);
    if (run.status !== 0) throw new Error(`${GNU_OBJDUMP} ${args.join(' ')} failed:\n${run.stderr}`);
    return run.stdout;
  });
}

/** Runs readelf on `file` (saved as "object.o"); returns both streams for warning checks. */
export function gnuReadelf(file: Uint8Array, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return withTempDir((dir) => {
    writeFileSync(join(dir, 'object.o'), file);
    return runTool(GNU_READELF, [...args, 'object.o'], dir);
  });
}

/**
 * Links `objects` (saved as input0.o, input1.o, ...) with GNU ld; `args`
 * (e.g. ['-Ttext=0x40080000', '-e', '_start']) come first. Returns the output
 * file's bytes or throws with ld's diagnostics.
 */
export function gnuLink(objects: Uint8Array[], args: string[]): Uint8Array {
  return withTempDir((dir) => {
    const names = objects.map((object, i) => {
      const name = `input${i}.o`;
      writeFileSync(join(dir, name), object);
      return name;
    });
    const run = runTool(GNU_LD, [...args, ...names, '-o', 'linked.elf'], dir);
    if (run.status !== 0) throw new Error(`${GNU_LD} ${args.join(' ')} failed:\n${run.stderr}`);
    return new Uint8Array(readFileSync(join(dir, 'linked.elf')));
  });
}

// ---------------------------------------------------------------------------
// Object comparison
// ---------------------------------------------------------------------------

export interface CompareOptions {
  /** Section names to leave out of the comparison on both sides. */
  ignoreSections?: string[];
}

/** Sections that only carry metadata about other sections; compared through their content instead. */
const BOOKKEEPING_SECTION_TYPES = new Set([SHT_NULL, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_REL, SHT_SYMTAB_SHNDX]);

/** GNU as may add this property note (e.g. for BTI/PAC markers); only compare it if we emit one too. */
const GNU_PROPERTY_NOTE = '.note.gnu.property';

/** At most this many lines per category, so one systematic bug doesn't bury the rest. */
const MAX_LINES_PER_CATEGORY = 20;

const MAPPING_SYMBOL = /^\$[xd](\..*)?$/;

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

function flagLetters(flags: number): string {
  // Same letters and order as readelf -S.
  const letters: [number, string][] = [
    [0x1, 'W'],
    [0x2, 'A'],
    [0x4, 'X'],
    [0x10, 'M'],
    [0x20, 'S'],
    [0x40, 'I'],
    [0x80, 'L'],
    [0x100, 'O'],
    [0x200, 'G'],
    [0x400, 'T'],
    [0x800, 'C'],
    [0x80000000, 'E'],
  ];
  let text = '';
  let rest = flags;
  for (const [bit, letter] of letters) {
    if (flags & bit) {
      text += letter;
      rest &= ~bit;
    }
  }
  if (rest !== 0) text += `+${hex(rest >>> 0)}`;
  return text === '' ? '-' : text;
}

function wordAt(data: Uint8Array, offset: number): string {
  const aligned = offset & ~3;
  let word = '';
  for (let i = 3; i >= 0; i--) {
    const at = aligned + i;
    word += at < data.length ? data[at].toString(16).padStart(2, '0') : '--';
  }
  return word;
}

function userSections(elf: ElfFile, ignored: Set<string>): Map<string, ElfSection> {
  const byName = new Map<string, ElfSection>();
  for (const section of elf.sections) {
    if (BOOKKEEPING_SECTION_TYPES.has(section.type) || ignored.has(section.name)) continue;
    if (!byName.has(section.name)) byName.set(section.name, section);
  }
  return byName;
}

function compareSections(ours: ElfFile, theirs: ElfFile, ignored: Set<string>, diffs: string[]): void {
  const ourSections = userSections(ours, ignored);
  const theirSections = userSections(theirs, ignored);
  for (const [name, theirSection] of theirSections) {
    const our = ourSections.get(name);
    if (!our) {
      diffs.push(`section ${name}: missing in ours`);
      continue;
    }
    const fields: [string, string | number, string | number][] = [
      ['type', our.type, theirSection.type],
      ['flags', flagLetters(our.flags), flagLetters(theirSection.flags)],
      ['alignment', our.align, theirSection.align],
      ['entsize', our.entsize, theirSection.entsize],
      ['size', hex(our.size), hex(theirSection.size)],
    ];
    for (const [field, a, b] of fields) {
      if (a !== b) diffs.push(`section ${name}: ${field} ours ${a}, theirs ${b}`);
    }
    const length = Math.max(our.data.length, theirSection.data.length);
    for (let i = 0; i < length; i++) {
      if (our.data[i] !== theirSection.data[i]) {
        diffs.push(
          `section ${name}: bytes differ first at offset ${hex(i)}: ours ${wordAt(our.data, i)}, theirs ${wordAt(theirSection.data, i)} (word at ${hex(i & ~3)})`,
        );
        break;
      }
    }
  }
  for (const name of ourSections.keys()) {
    if (!theirSections.has(name)) diffs.push(`section ${name}: extra in ours`);
  }
}

function describeSymbol(s: ElfSymbol): string {
  return `value ${hex(s.value)} size ${s.size} section ${s.section} ${s.binding} ${s.type} ${s.visibility}`;
}

/** Pushes "only in ours"/"only in theirs" lines for two multisets of keys. */
function diffMultisets(label: string, ours: string[], theirs: string[], diffs: string[]): void {
  const counts = new Map<string, number>();
  for (const key of ours) counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const key of theirs) counts.set(key, (counts.get(key) ?? 0) - 1);
  const onlyOurs: string[] = [];
  const onlyTheirs: string[] = [];
  for (const [key, count] of counts) {
    for (let i = 0; i < count; i++) onlyOurs.push(key);
    for (let i = 0; i < -count; i++) onlyTheirs.push(key);
  }
  const lines = [
    ...onlyOurs.sort().map((k) => `${label}: only in ours: ${k}`),
    ...onlyTheirs.sort().map((k) => `${label}: only in theirs: ${k}`),
  ];
  diffs.push(...lines.slice(0, MAX_LINES_PER_CATEGORY));
  if (lines.length > MAX_LINES_PER_CATEGORY) {
    diffs.push(`${label}: ... and ${lines.length - MAX_LINES_PER_CATEGORY} more differences`);
  }
}

function compareSymbols(ours: ElfFile, theirs: ElfFile, ignored: Set<string>, diffs: string[]): void {
  const relevant = (elf: ElfFile) =>
    elf.symbols.filter((s) => s.index !== 0 && !ignored.has(s.section));
  const ourSymbols = relevant(ours);
  const theirSymbols = relevant(theirs);

  // Section symbols: only which sections have one matters.
  const sectionSymbolKeys = (list: ElfSymbol[]) =>
    list.filter((s) => s.type === 'section').map((s) => s.section);
  diffMultisets('section symbols', sectionSymbolKeys(ourSymbols), sectionSymbolKeys(theirSymbols), diffs);

  // Mapping symbols: a set of (name, section, value).
  const mappingKeys = (list: ElfSymbol[]) =>
    list.filter((s) => s.type !== 'section' && MAPPING_SYMBOL.test(s.name)).map((s) => `${s.name} in ${s.section} at ${hex(s.value)}`);
  diffMultisets('mapping symbols', mappingKeys(ourSymbols), mappingKeys(theirSymbols), diffs);

  // Everything else, by name.
  const byName = (list: ElfSymbol[]) => {
    const map = new Map<string, ElfSymbol[]>();
    for (const s of list) {
      if (s.type === 'section' || MAPPING_SYMBOL.test(s.name)) continue;
      const group = map.get(s.name) ?? [];
      group.push(s);
      map.set(s.name, group);
    }
    return map;
  };
  const ourByName = byName(ourSymbols);
  const theirByName = byName(theirSymbols);
  const lines: string[] = [];
  for (const [name, theirGroup] of theirByName) {
    const ourGroup = ourByName.get(name);
    if (!ourGroup) {
      lines.push(`symbol ${name}: missing in ours (theirs: ${describeSymbol(theirGroup[0])})`);
      continue;
    }
    const a = ourGroup.map(describeSymbol).sort();
    const b = theirGroup.map(describeSymbol).sort();
    if (a.join('\n') !== b.join('\n')) {
      lines.push(
        ourGroup.length === 1 && theirGroup.length === 1
          ? `symbol ${name}: ours ${a[0]}; theirs ${b[0]}`
          : `symbol ${name}: ours [${a.join('; ')}]; theirs [${b.join('; ')}]`,
      );
    }
  }
  for (const [name, ourGroup] of ourByName) {
    if (!theirByName.has(name)) lines.push(`symbol ${name}: extra in ours (${describeSymbol(ourGroup[0])})`);
  }
  diffs.push(...lines.slice(0, MAX_LINES_PER_CATEGORY));
  if (lines.length > MAX_LINES_PER_CATEGORY) {
    diffs.push(`symbols: ... and ${lines.length - MAX_LINES_PER_CATEGORY} more differences`);
  }
}

/**
 * A relocation as a comparable key. References to local, section-defined
 * symbols become section+offset, the form GNU as itself mostly emits, so both
 * spellings of the same target compare equal.
 */
function relocationKey(reloc: ElfRelocation, elf: ElfFile): string {
  let target: string;
  let addend = reloc.addend;
  const symbol = elf.symbols[reloc.symbolIndex];
  if (typeof reloc.symbol !== 'string') {
    target = `section ${reloc.symbol.section}`;
  } else if (
    symbol &&
    symbol.binding === 'local' &&
    symbol.type !== 'file' &&
    !['UND', 'ABS', 'COM'].includes(symbol.section) &&
    !symbol.section.startsWith('SHN_')
  ) {
    target = `section ${symbol.section}`;
    addend += symbol.value;
  } else {
    target = reloc.symbol === '' ? '(none)' : reloc.symbol;
  }
  const sign = addend < 0n ? '-' : '+';
  const magnitude = addend < 0n ? -addend : addend;
  return `${hex(reloc.offset).padStart(10)} ${relocTypeName(reloc.type)} ${target} ${sign} ${hex(magnitude)}`;
}

function compareRelocations(ours: ElfFile, theirs: ElfFile, ignored: Set<string>, diffs: string[]): void {
  const keysBySection = (elf: ElfFile) => {
    const map = new Map<string, string[]>();
    for (const table of elf.relocations) {
      if (ignored.has(table.target)) continue;
      const keys = map.get(table.target) ?? [];
      for (const reloc of table.relocations) keys.push(relocationKey(reloc, elf));
      map.set(table.target, keys);
    }
    return map;
  };
  const ourKeys = keysBySection(ours);
  const theirKeys = keysBySection(theirs);
  const names = new Set([...ourKeys.keys(), ...theirKeys.keys()]);
  for (const name of [...names].sort()) {
    diffMultisets(`relocations for ${name}`, ourKeys.get(name) ?? [], theirKeys.get(name) ?? [], diffs);
  }
}

/**
 * Human-readable differences between two relocatable objects (empty when
 * they match): ELF header, user sections (type, flags, alignment, entsize,
 * size, bytes), symbols (by name; section symbols and mapping symbols as
 * sets; table order ignored) and relocations (per section, order ignored,
 * local-symbol references normalised to section+offset).
 */
export function compareObjects(ours: ElfFile, theirs: ElfFile, options: CompareOptions = {}): string[] {
  const ignored = new Set(options.ignoreSections ?? []);
  if (!ours.sections.some((s) => s.name === GNU_PROPERTY_NOTE)) ignored.add(GNU_PROPERTY_NOTE);
  const diffs: string[] = [];
  if (ours.type !== theirs.type) diffs.push(`ELF type: ours ${ours.type}, theirs ${theirs.type}`);
  if (ours.machine !== theirs.machine) diffs.push(`ELF machine: ours ${ours.machine}, theirs ${theirs.machine}`);
  if (ours.flags !== theirs.flags) diffs.push(`ELF flags: ours ${hex(ours.flags)}, theirs ${hex(theirs.flags)}`);
  compareSections(ours, theirs, ignored, diffs);
  compareSymbols(ours, theirs, ignored, diffs);
  compareRelocations(ours, theirs, ignored, diffs);
  return diffs;
}
