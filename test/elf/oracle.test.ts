import { afterEach, describe, expect, it, vi } from 'vitest';
import { R_AARCH64_ABS64, R_AARCH64_ADR_PREL_PG_HI21, R_AARCH64_CALL26, R_AARCH64_JUMP26 } from '../../src/elf/constants.js';
import type { ObjectModel, ObjSymbol } from '../../src/elf/model.js';
import { readElf, type ElfFile } from '../../src/elf/read.js';
import { writeRelocatableObject } from '../../src/elf/write-object.js';
import { GNU_AS, GNU_LD, compareObjects, gnuAssemble, gnuLink, oracleAvailable, requireOracle } from '../helpers/oracle.js';

const MISSING_TOOL = 'pkvm-lab-no-such-oracle-tool';

describe('requireOracle', () => {
  const savedCI = process.env.CI;
  afterEach(() => {
    if (savedCI === undefined) delete process.env.CI;
    else process.env.CI = savedCI;
    vi.restoreAllMocks();
  });

  it('finds tools on PATH', () => {
    expect(oracleAvailable('node')).toBe(true);
    expect(requireOracle('node')).toBe(true);
    expect(oracleAvailable(MISSING_TOOL)).toBe(false);
  });

  it('fails loudly under CI when a tool is missing', () => {
    process.env.CI = 'true';
    expect(() => requireOracle(MISSING_TOOL)).toThrow(/ORACLE MISSING under CI/);
  });

  it('warns once and skips outside CI', () => {
    delete process.env.CI;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(requireOracle(`${MISSING_TOOL}-2`)).toBe(false);
    expect(requireOracle(`${MISSING_TOOL}-2`)).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/^\*\*\* ORACLE MISSING: .*skipped/);
  });
});

function local(name: string, section: string, value: bigint): ObjSymbol {
  return { name, value, size: 0n, section, binding: 'local', type: 'notype', visibility: 'default' };
}

function global(name: string, section = 'UND', type: ObjSymbol['type'] = 'notype'): ObjSymbol {
  return { name, value: 0n, size: 0n, section, binding: 'global', type, visibility: 'default' };
}

/** A small object; `tweak` edits the model before it is written. */
function object(tweak: (model: ObjectModel) => void = () => {}): ElfFile {
  const text = new Uint8Array(16);
  new DataView(text.buffer).setUint32(8, 0x94000000, true);
  const model: ObjectModel = {
    sections: [
      {
        name: '.text',
        type: 'progbits',
        flags: { alloc: true, write: false, exec: true },
        align: 4,
        data: text,
        size: 16,
        relocs: [
          { offset: 0, type: R_AARCH64_ADR_PREL_PG_HI21, symbol: { section: '.data' }, addend: 8n },
          { offset: 8, type: R_AARCH64_CALL26, symbol: 'callee', addend: 0n },
        ],
      },
      {
        name: '.data',
        type: 'progbits',
        flags: { alloc: true, write: true, exec: false },
        align: 8,
        data: new Uint8Array(16),
        size: 16,
        relocs: [{ offset: 0, type: R_AARCH64_ABS64, symbol: { section: '.text' }, addend: 4n }],
      },
    ],
    symbols: [
      local('$x', '.text', 0n),
      local('$d', '.data', 0n),
      local('second', '.text', 4n),
      local('item', '.data', 8n),
      global('start', '.text', 'func'),
      global('callee'),
    ],
  };
  tweak(model);
  return readElf(writeRelocatableObject(model));
}

describe('compareObjects', () => {
  it('reports nothing for identical objects', () => {
    expect(compareObjects(object(), object())).toEqual([]);
  });

  it('ignores symbol order and normalises local-symbol relocations to section+offset', () => {
    const reordered = object((m) => {
      m.symbols.reverse();
      m.sections[0].relocs.reverse();
      // Same targets, spelled through local symbols instead of section symbols.
      m.sections[0].relocs.find((r) => r.offset === 0)!.symbol = 'item';
      m.sections[0].relocs.find((r) => r.offset === 0)!.addend = 0n;
      m.sections[1].relocs[0].symbol = 'second';
      m.sections[1].relocs[0].addend = 0n;
    });
    expect(compareObjects(reordered, object())).toEqual([]);
  });

  it('reports the first differing word of a section', () => {
    const diffs = compareObjects(
      object((m) => new DataView(m.sections[0].data.buffer).setUint32(8, 0x14000001, true)),
      object(),
    );
    expect(diffs).toEqual(['section .text: bytes differ first at offset 0x8: ours 14000001, theirs 94000000 (word at 0x8)']);
  });

  it('reports section attribute, symbol and relocation differences', () => {
    const diffs = compareObjects(
      object((m) => {
        m.sections[1].align = 16;
        m.sections[1].flags.write = false;
        m.symbols.find((s) => s.name === 'start')!.binding = 'weak';
        m.symbols.find((s) => s.name === '$d')!.value = 4n;
        m.symbols = m.symbols.filter((s) => s.name !== 'second');
        m.sections[0].relocs[1].type = R_AARCH64_JUMP26;
      }),
      object(),
    );
    expect(diffs).toContain('section .data: flags ours A, theirs WA');
    expect(diffs).toContain('section .data: alignment ours 16, theirs 8');
    expect(diffs).toContain(
      'symbol start: ours value 0x0 size 0 section .text weak func default; theirs value 0x0 size 0 section .text global func default',
    );
    expect(diffs).toContain('mapping symbols: only in ours: $d in .data at 0x4');
    expect(diffs).toContain('mapping symbols: only in theirs: $d in .data at 0x0');
    expect(diffs.some((d) => d.startsWith('symbol second: missing in ours'))).toBe(true);
    expect(diffs).toContain('relocations for .text: only in ours:        0x8 R_AARCH64_JUMP26 callee + 0x0');
    expect(diffs).toContain('relocations for .text: only in theirs:        0x8 R_AARCH64_CALL26 callee + 0x0');
  });

  it('reports missing and extra sections, but not a GNU-only .note.gnu.property', () => {
    const noteOnlyInTheirs = object((m) =>
      m.sections.push({
        name: '.note.gnu.property',
        type: 'note',
        flags: { alloc: true, write: false, exec: false },
        align: 8,
        data: new Uint8Array(32),
        size: 32,
        relocs: [],
      }),
    );
    expect(compareObjects(object(), noteOnlyInTheirs)).toEqual([]);
    const extra = object((m) =>
      m.sections.push({
        name: '.bss',
        type: 'nobits',
        flags: { alloc: true, write: true, exec: false },
        align: 1,
        data: new Uint8Array(0),
        size: 0,
        relocs: [],
      }),
    );
    expect(compareObjects(extra, object())).toEqual([
      'section .bss: extra in ours',
      'section symbols: only in ours: .bss',
    ]);
    expect(compareObjects(object(), extra)).toContain('section .bss: missing in ours');
  });
});

describe.runIf(requireOracle(GNU_AS))('gnuAssemble', () => {
  it('returns the object and its parsed form', () => {
    const result = gnuAssemble('\t.globl f\nf:\tret\n', { file: 'tiny.s' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.object.subarray(0, 4)).toEqual(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]));
    expect(result.elf.symbols.some((s) => s.name === 'f' && s.binding === 'global')).toBe(true);
  });

  it('passes extra arguments to GNU as', () => {
    const result = gnuAssemble('\t.quad VALUE\n', { args: ['--defsym', 'VALUE=0x1234'] });
    if (!result.ok) throw new Error(result.stderr);
    const data = result.elf.sections.find((s) => s.name === '.text')!.data;
    expect(new DataView(data.buffer, data.byteOffset).getBigUint64(0, true)).toBe(0x1234n);
  });

  it('returns the diagnostics for bad input', () => {
    const result = gnuAssemble('\tnot_an_instruction x0\n', { file: 'bad.s' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.stderr).toMatch(/bad\.s:1: Error: unknown mnemonic/);
  });
});

describe.runIf(requireOracle(GNU_LD))('gnuLink', () => {
  it('throws with the linker diagnostics on undefined symbols', () => {
    const unresolved = writeRelocatableObject({
      sections: [
        {
          name: '.text',
          type: 'progbits',
          flags: { alloc: true, write: false, exec: true },
          align: 4,
          data: new Uint8Array([0, 0, 0, 0x94]),
          size: 4,
          relocs: [{ offset: 0, type: R_AARCH64_CALL26, symbol: 'missing_function', addend: 0n }],
        },
      ],
      symbols: [global('_start', '.text', 'func'), global('missing_function')],
    });
    expect(() => gnuLink([unresolved], ['-e', '_start'])).toThrow(/undefined reference to `missing_function'/);
  });
});
