import { describe, expect, it } from 'vitest';
import { relocTypeName, SHT_NOBITS } from '../../src/elf/constants.js';
import type { ObjectModel } from '../../src/elf/model.js';
import { ElfFormatError, findSection, readElf, relocationsFor, type ElfFile } from '../../src/elf/read.js';
import { writeExecutable } from '../../src/elf/write-executable.js';
import { writeRelocatableObject } from '../../src/elf/write-object.js';
import { GNU_AS, GNU_READELF, gnuAssemble, gnuReadelf, oracleAvailable, requireOracle } from '../helpers/oracle.js';

/** Exercises many relocation kinds, section kinds and symbol attributes. */
const RICH_SOURCE = `
	.file "rich.s"
	.text
	.globl entry
	.type entry, %function
entry:
	movz x0, #:abs_g3:far_sym
	movk x0, #:abs_g2_nc:far_sym
	movk x0, #:abs_g1_nc:far_sym
	movk x0, #:abs_g0_nc:far_sym
	movz x1, #:abs_g1_s:far_sym
	adr x2, later
	adrp x3, :got:ext_obj
	ldr x3, [x3, #:got_lo12:ext_obj]
	ldr x4, [x5, #:lo12:table]
	ldrb w4, [x5, #:lo12:table]
	ldr q0, [x5, #:lo12:table]
	tbz x0, #3, ext_label
	b.eq ext_label
	cbz x0, ext_label
	ldr x6, ext_label
	ldr x7, =far_sym + 16
	b later
later:
	ret
	.size entry, .-entry
	.section .rodata.str1.1,"aMS",%progbits,1
msg:	.asciz "boot"
	.data
	.balign 8
table:	.quad later, msg, far_sym - 8
	.word ext_label - .
	.hword 7
	.xword .
	.weak weak_ref
	.quad weak_ref
	.bss
	.balign 16
	.globl zeroes
	.hidden zeroes
zeroes:	.space 64
	.comm shared_buf, 256, 16
	.section .text.hyp,"ax",%progbits
	.protected hyp_entry
	.globl hyp_entry
hyp_entry:
	bl entry
	hvc #0
	.section .tdata,"awT",%progbits
	.word 1
	.section .note.pkvm,"a",%note
	.word 5, 4, 1
	.asciz "pkvm"
	.balign 4
	.word 0
`;

function assembleRich(): { object: Uint8Array; elf: ElfFile } {
  const result = gnuAssemble(RICH_SOURCE);
  if (!result.ok) throw new Error(`GNU as rejected the sample:\n${result.stderr}`);
  return result;
}

const READELF_SYMBOL_LINE =
  /^\s*(\d+):\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s?(.*)$/;

describe.runIf(requireOracle(GNU_AS) && requireOracle(GNU_READELF))('readElf on GNU as output agrees with readelf', () => {
  it('section names, types and sizes', () => {
    const { object, elf } = assembleRich();
    const listing = gnuReadelf(object, ['-S', '-W']).stdout;
    const rows = [...listing.matchAll(/^\s*\[\s*(\d+)\]\s(.*)$/gm)].map((m) => ({ index: Number(m[1]), rest: m[2] }));
    expect(rows.length).toBe(elf.sections.length);
    for (const row of rows) {
      const section = elf.sections[row.index];
      const [name, ...others] = section.name === '' ? ['', ...row.rest.trim().split(/\s+/)] : row.rest.trim().split(/\s+/);
      expect(name).toBe(section.name);
      // Columns after the name: Type Address Off Size ES ...
      expect(Number.parseInt(others[3], 16)).toBe(section.size);
      expect(Number.parseInt(others[2], 16)).toBe(section.offset);
    }
    expect(findSection(elf, '.bss')!.type).toBe(SHT_NOBITS);
    expect(findSection(elf, '.bss')!.data.length).toBe(0);
  });

  it('symbol names, values, kinds and sections', () => {
    const { object, elf } = assembleRich();
    const listing = gnuReadelf(object, ['-s', '-W']).stdout;
    const rows = listing
      .split('\n')
      .map((line) => READELF_SYMBOL_LINE.exec(line))
      .filter((m): m is RegExpExecArray => m !== null);
    expect(rows.length).toBe(elf.symbols.length);
    for (const m of rows) {
      const symbol = elf.symbols[Number(m[1])];
      const ndx = m[7];
      const expectedSection = /^\d+$/.test(ndx) ? elf.sections[Number(ndx)].name : ndx;
      expect({
        name: symbol.name,
        value: symbol.value,
        size: symbol.size,
        type: symbol.type.toUpperCase(),
        binding: symbol.binding.toUpperCase(),
        visibility: symbol.visibility.toUpperCase(),
        section: symbol.section,
      }).toEqual({
        name: m[8],
        value: BigInt(`0x${m[2]}`),
        size: BigInt(m[3]),
        type: m[4],
        binding: m[5],
        visibility: m[6],
        section: expectedSection,
      });
    }
    expect(elf.symbols.find((s) => s.name === 'shared_buf')).toMatchObject({ section: 'COM', value: 16n, size: 256n });
  });

  it('relocation offsets, types, symbols and addends', () => {
    const { object, elf } = assembleRich();
    const listing = gnuReadelf(object, ['-r', '-W']).stdout;
    const blocks = listing.split(/^Relocation section '/m).slice(1);
    expect(blocks.length).toBe(elf.relocations.length);
    for (const block of blocks) {
      const tableName = block.slice(0, block.indexOf("'"));
      const table = elf.relocations.find((t) => t.name === tableName)!;
      expect(table.target).toBe(tableName.replace(/^\.rela/, ''));
      const lines = block.split('\n').filter((l) => /^[0-9a-f]{16}\s/.test(l));
      expect(lines.length).toBe(table.relocations.length);
      lines.forEach((line, i) => {
        const m = /^([0-9a-f]+)\s+([0-9a-f]+)\s+(\S+)\s+[0-9a-f]+\s+(.+?)\s+([+-])\s+([0-9a-f]+)$/.exec(line);
        expect(m, line).not.toBeNull();
        const reloc = table.relocations[i];
        const symbolName = typeof reloc.symbol === 'string' ? reloc.symbol : reloc.symbol.section;
        const addend = (m![5] === '-' ? -1n : 1n) * BigInt(`0x${m![6]}`);
        expect([reloc.offset, relocTypeName(reloc.type), symbolName, reloc.addend]).toEqual([
          BigInt(`0x${m![1]}`),
          m![3],
          m![4],
          addend,
        ]);
      });
    }
    // GNU as turns references to local symbols into section-symbol relocations.
    expect(relocationsFor(elf, '.data')[0]).toMatchObject({ symbol: { section: '.text' }, addend: 0x44n });
  });
});

describe('readElf rejects bad input with ElfFormatError', () => {
  const good = writeRelocatableObject({
    sections: [
      {
        name: '.text',
        type: 'progbits',
        flags: { alloc: true, write: false, exec: true },
        align: 4,
        data: new Uint8Array([0xc0, 0x03, 0x5f, 0xd6]),
        size: 4,
        relocs: [{ offset: 0, type: 257, symbol: 'x', addend: 0n }],
      },
    ],
    symbols: [{ name: 'x', value: 0n, size: 0n, section: 'UND', binding: 'global', type: 'notype', visibility: 'default' }],
  });

  function expectFormatError(bytes: Uint8Array, message: RegExp): void {
    let caught: unknown;
    try {
      readElf(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ElfFormatError);
    expect((caught as Error).message).toMatch(message);
  }

  function patched(edit: (bytes: Uint8Array, view: DataView) => void): Uint8Array {
    const copy = good.slice();
    edit(copy, new DataView(copy.buffer));
    return copy;
  }

  it('accepts the unmodified object', () => {
    expect(readElf(good).sections.length).toBeGreaterThan(0);
  });

  it('non-ELF, empty and foreign files', () => {
    expectFormatError(new Uint8Array(0), /not an ELF file/);
    expectFormatError(new TextEncoder().encode('#!/bin/sh\necho hi\n'), /not an ELF file/);
    expectFormatError(patched((b) => (b[4] = 1)), /ELF class 32 not supported/);
    expectFormatError(patched((b) => (b[4] = 7)), /invalid ELF class 7/);
    expectFormatError(patched((b) => (b[5] = 2)), /big-endian/);
    expectFormatError(patched((_, v) => v.setUint16(18, 62, true)), /machine 62 is not AArch64/);
  });

  it('truncated and inconsistent files', () => {
    expectFormatError(good.slice(0, 40), /truncated ELF header/);
    expectFormatError(good.slice(0, good.length - 10), /truncated section header table at 0x/);
    const shoff = Number(new DataView(good.buffer).getBigUint64(40, true));
    // Point .text's data far past the end of the file.
    expectFormatError(
      patched((_, v) => v.setBigUint64(shoff + 64 + 24, 0x100000n, true)),
      /truncated section \[1\].*extends past end of file/,
    );
    expectFormatError(patched((_, v) => v.setUint16(62, 40, true)), /section name table index 40 is out of range/);
    expectFormatError(patched((_, v) => v.setUint16(58, 40, true)), /section header entry size 40/);
  });
});

/** Small deterministic PRNG (mulberry32) so fuzz failures reproduce. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzSeeds(): Uint8Array[] {
  const model: ObjectModel = {
    sections: [
      {
        name: '.text',
        type: 'progbits',
        flags: { alloc: true, write: false, exec: true },
        align: 4,
        data: new Uint8Array(16).fill(0x1f),
        size: 16,
        relocs: [
          { offset: 0, type: 283, symbol: 'far', addend: 0n },
          { offset: 8, type: 275, symbol: { section: '.data' }, addend: 4n },
        ],
      },
      {
        name: '.data',
        type: 'progbits',
        flags: { alloc: true, write: true, exec: false },
        align: 8,
        data: new Uint8Array(8),
        size: 8,
        relocs: [{ offset: 0, type: 257, symbol: 'start', addend: -4n }],
      },
      { name: '.bss', type: 'nobits', flags: { alloc: true, write: true, exec: false }, align: 16, data: new Uint8Array(0), size: 32, relocs: [] },
    ],
    symbols: [
      { name: '$x', value: 0n, size: 0n, section: '.text', binding: 'local', type: 'notype', visibility: 'default' },
      { name: 'start', value: 0n, size: 16n, section: '.text', binding: 'global', type: 'func', visibility: 'default' },
      { name: 'far', value: 0n, size: 0n, section: 'UND', binding: 'global', type: 'notype', visibility: 'default' },
    ],
  };
  const seeds = [
    writeRelocatableObject(model),
    writeExecutable({
      entry: 0x40080000n,
      segments: [
        { vaddr: 0x40080000n, data: new Uint8Array(24).fill(0xd5), memsz: 24n, flags: 'rx' },
        { vaddr: 0x40090000n, data: new Uint8Array(8), memsz: 64n, flags: 'rw' },
      ],
      symbols: [{ name: '_start', value: 0x40080000n, size: 24n, type: 'func' }],
    }),
  ];
  if (oracleAvailable(GNU_AS)) {
    const gnu = assembleRich();
    seeds.push(gnu.object);
  }
  return seeds;
}

describe('readElf fuzzing', () => {
  it('never throws anything but ElfFormatError on truncations and bit flips of real files', () => {
    const random = prng(0x5eed);
    const seeds = fuzzSeeds();
    let parsed = 0;
    let rejected = 0;
    const attempt = (bytes: Uint8Array, description: string) => {
      try {
        readElf(bytes);
        parsed++;
      } catch (error) {
        if (!(error instanceof ElfFormatError)) {
          throw new Error(`${description}: threw ${String(error)}`);
        }
        // A wrapped internal error would mean the parser itself tripped.
        expect(error.message, description).not.toMatch(/^internal error/);
        rejected++;
      }
    };
    for (const [seedIndex, seed] of seeds.entries()) {
      // Every truncation of the headers, then a sample of the rest.
      for (let length = 0; length < Math.min(seed.length, 128); length++) {
        attempt(seed.slice(0, length), `seed ${seedIndex} truncated to ${length}`);
      }
      for (let i = 0; i < 300; i++) {
        const length = Math.floor(random() * seed.length);
        attempt(seed.slice(0, length), `seed ${seedIndex} truncated to ${length}`);
      }
      for (let i = 0; i < 1200; i++) {
        const copy = seed.slice();
        const flips = 1 + Math.floor(random() * 4);
        const where: number[] = [];
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(random() * copy.length);
          copy[at] ^= 1 << Math.floor(random() * 8);
          where.push(at);
        }
        attempt(copy, `seed ${seedIndex} with bits flipped at ${where.join(',')}`);
      }
      for (let i = 0; i < 300; i++) {
        // Large values in header-ish fields reach the overflow and range checks.
        const copy = seed.slice();
        const view = new DataView(copy.buffer);
        const at = Math.floor(random() * (copy.length - 8));
        const choice = random();
        if (choice < 0.33) view.setBigUint64(at, 0xffffffffffffff00n, true);
        else if (choice < 0.66) view.setUint32(at, 0xffffffff, true);
        else view.setUint16(at, Math.floor(random() * 0x10000), true);
        attempt(copy, `seed ${seedIndex} with a large field at ${at}`);
      }
    }
    expect(parsed + rejected).toBeGreaterThan(3000);
    expect(rejected).toBeGreaterThan(0);
  });
});
