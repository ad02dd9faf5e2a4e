import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LoadError, loadElfExecutable, loadElfObject, loadFlatBinary, loadImage } from '../../src/machine/loader.js';
import { createVirtMachine } from '../../src/machine/virt.js';
import { readElf } from '../../src/elf/read.js';
import { requireOracle } from '../helpers/oracle.js';

const IMAGE_BASE = 0x4008_0000;

function newMachine() {
  return createVirtMachine({ uartSink: () => {} });
}

/** Expects `fn` to throw a LoadError whose message matches `pattern`. */
function expectLoadError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(LoadError);
  expect((caught as Error).message).toMatch(pattern);
}

interface TestSegment {
  paddr: bigint;
  vaddr?: bigint;
  data: Uint8Array;
  memsz?: bigint;
}

/** A minimal ELF64 AArch64 file with program headers only, for malformed-input tests. */
function minimalElf(options: { type?: number; machine?: number; entry: bigint; segments: TestSegment[] }): Uint8Array {
  const headerSize = 64 + 56 * options.segments.length;
  const total = headerSize + options.segments.reduce((n, s) => n + s.data.length, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setUint16(16, options.type ?? 2, true);
  view.setUint16(18, options.machine ?? 183, true);
  view.setUint32(20, 1, true);
  view.setBigUint64(24, options.entry, true);
  view.setBigUint64(32, 64n, true); // e_phoff
  view.setUint16(52, 64, true); // e_ehsize
  view.setUint16(54, 56, true);
  view.setUint16(56, options.segments.length, true);
  view.setUint16(58, 64, true);
  let dataOffset = headerSize;
  options.segments.forEach((segment, i) => {
    const at = 64 + 56 * i;
    view.setUint32(at, 1, true); // PT_LOAD
    view.setUint32(at + 4, 5, true); // R+X
    view.setBigUint64(at + 8, BigInt(dataOffset), true);
    view.setBigUint64(at + 16, segment.vaddr ?? segment.paddr, true);
    view.setBigUint64(at + 24, segment.paddr, true);
    view.setBigUint64(at + 32, BigInt(segment.data.length), true);
    view.setBigUint64(at + 40, segment.memsz ?? BigInt(segment.data.length), true);
    view.setBigUint64(at + 48, 0x1000n, true);
    bytes.set(segment.data, dataOffset);
    dataOffset += segment.data.length;
  });
  return bytes;
}

describe('flat binary loader', () => {
  it('copies the bytes and starts at the load address', () => {
    const machine = newMachine();
    const code = Uint8Array.from([0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6]); // nop; ret
    const image = loadFlatBinary(machine.memory, code, IMAGE_BASE, { symbols: new Map([['start', IMAGE_BASE]]) });
    expect(image.entry).toBe(IMAGE_BASE);
    expect(machine.memory.read32(IMAGE_BASE) >>> 0).toBe(0xd503_201f);
    expect(machine.memory.read32(IMAGE_BASE + 4) >>> 0).toBe(0xd65f_03c0);
    expect(image.symbols.format(IMAGE_BASE + 4)).toBe('start+0x4');
    expect(image.segments).toEqual([{ name: 'flat', base: IMAGE_BASE, size: 8 }]);
    expect(loadImage(machine.memory, code, IMAGE_BASE + 0x100).entry).toBe(IMAGE_BASE + 0x100);
  });

  it('rejects images and entry points outside RAM', () => {
    const machine = newMachine();
    expectLoadError(() => loadFlatBinary(machine.memory, new Uint8Array(16), 0x0900_0000), /outside RAM.*pl011/);
    const end = machine.ramBase + machine.ramSize;
    expectLoadError(() => loadFlatBinary(machine.memory, new Uint8Array(16), end - 8), /outside RAM/);
    expectLoadError(() => loadFlatBinary(machine.memory, new Uint8Array(4), IMAGE_BASE, { entry: 0x100 }), /entry point 0x100 is outside RAM/);
    expect(machine.memory.read32(IMAGE_BASE)).toBe(0); // nothing written by a failed load
    expectLoadError(() => loadImage(machine.memory, new Uint8Array(4)), /needs a load address/);
  });

  it('makes the chunk holding the entry point the fast window', () => {
    const machine = createVirtMachine({ ramSize: 2 * 2 ** 30, uartSink: () => {} });
    const high = 0x4000_0000 + 2 ** 30 + 0x1000;
    loadFlatBinary(machine.memory, new Uint8Array([1, 2, 3, 4]), high);
    expect(machine.memory.ramBase).toBe(0x4000_0000 + 2 ** 30);
    expect(machine.memory.ram32[0x1000 / 4]).toBe(0x0403_0201);
  });
});

describe('ELF loader input checking', () => {
  const text = Uint8Array.from([0x1f, 0x20, 0x03, 0xd5]);

  it('loads PT_LOAD segments at their physical addresses with zero fill', () => {
    const machine = newMachine();
    machine.memory.writeBytes(IMAGE_BASE, new Uint8Array(64).fill(0xee));
    const elf = minimalElf({
      entry: 0xffff_8000_0000_0000n,
      segments: [{ paddr: BigInt(IMAGE_BASE), vaddr: 0xffff_8000_0000_0000n, data: text, memsz: 32n }],
    });
    const image = loadElfExecutable(machine.memory, elf);
    expect(image.entry).toBe(IMAGE_BASE); // e_entry translated through the segment
    expect(machine.memory.read32(IMAGE_BASE) >>> 0).toBe(0xd503_201f);
    expect(machine.memory.read32(IMAGE_BASE + 4)).toBe(0);
    expect(machine.memory.read32(IMAGE_BASE + 28)).toBe(0);
    expect(machine.memory.read8(IMAGE_BASE + 32)).toBe(0xee);
    expect(loadImage(machine.memory, elf).entry).toBe(IMAGE_BASE);
  });

  it('rejects corrupt, truncated and foreign files with LoadError', () => {
    const { memory } = newMachine();
    const good = minimalElf({ entry: BigInt(IMAGE_BASE), segments: [{ paddr: BigInt(IMAGE_BASE), data: text }] });
    expectLoadError(() => loadElfExecutable(memory, new Uint8Array(0)), /bad ELF file: not an ELF file/);
    expectLoadError(() => loadElfExecutable(memory, Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1])), /bad ELF file: truncated/);
    expectLoadError(() => loadElfExecutable(memory, good.slice(0, 80)), /bad ELF file: truncated program header/);
    expectLoadError(() => loadElfExecutable(memory, good.slice(0, good.length - 2)), /bad ELF file: truncated segment/);
    expectLoadError(
      () => loadElfExecutable(memory, minimalElf({ machine: 62, entry: 0n, segments: [] })),
      /not AArch64/,
    );
    expectLoadError(() => loadElfExecutable(memory, minimalElf({ type: 3, entry: 0n, segments: [] })), /ET_DYN/);
    expectLoadError(() => loadElfExecutable(memory, minimalElf({ type: 1, entry: 0n, segments: [] })), /ET_REL/);
    expectLoadError(() => loadElfObject(memory, good, IMAGE_BASE), /expected an ELF relocatable object/);
    expectLoadError(() => loadElfExecutable(memory, minimalElf({ entry: 0n, segments: [] })), /no PT_LOAD/);
    // Random garbage after a valid magic number.
    const noise = Uint8Array.from({ length: 200 }, (_, i) => (i * 73 + 11) & 0xff);
    noise.set([0x7f, 0x45, 0x4c, 0x46]);
    expectLoadError(() => loadElfExecutable(memory, noise), /bad ELF file/);
  });

  it('rejects segments and entry points outside RAM', () => {
    const { memory } = newMachine();
    expectLoadError(
      () => loadElfExecutable(memory, minimalElf({ entry: 0x1000n, segments: [{ paddr: 0x1000n, data: text }] })),
      /segment 0 \[0x1000, 0x1004\) is outside RAM: 0x1000 is 'flash'/,
    );
    expectLoadError(
      () =>
        loadElfExecutable(
          memory,
          minimalElf({ entry: BigInt(IMAGE_BASE), segments: [{ paddr: 0x4800_0000n - 2n, data: text }] }),
        ),
      /outside RAM: 0x48000000 is unmapped/,
    );
    expectLoadError(
      () => loadElfExecutable(memory, minimalElf({ entry: 0x0900_0000n, segments: [{ paddr: BigInt(IMAGE_BASE), data: text }] })),
      /entry point 0x9000000 is outside RAM/,
    );
    expectLoadError(
      () =>
        loadElfExecutable(memory, minimalElf({ entry: 0n, segments: [{ paddr: 1n << 50n, data: text }] })),
      /outside the 48-bit physical address space/,
    );
    expectLoadError(
      () =>
        loadElfExecutable(
          memory,
          minimalElf({ entry: BigInt(IMAGE_BASE), segments: [{ paddr: BigInt(IMAGE_BASE), data: text, memsz: 2n }] }),
        ),
      /file size 0x4 exceeds memory size 0x2/,
    );
    expect(memory.read32(IMAGE_BASE)).toBe(0);
  });
});

// ---------------------------------------------------------------- with GNU binutils

const AS = 'aarch64-linux-gnu-as';
const LD = 'aarch64-linux-gnu-ld';
const haveBinutils = requireOracle(AS) && requireOracle(LD);

describe.runIf(haveBinutils)('ELF loaders against GNU as/ld', () => {
  const work = haveBinutils ? mkdtempSync(join(tmpdir(), 'machine-loader-')) : '';
  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  function assemble(name: string, source: string): string {
    const sourcePath = join(work, `${name}.s`);
    const objectPath = join(work, `${name}.o`);
    writeFileSync(sourcePath, source);
    execFileSync(AS, [sourcePath, '-o', objectPath], { stdio: 'pipe' });
    return objectPath;
  }

  function link(name: string, objectPath: string, args: string[]): Uint8Array {
    const out = join(work, `${name}.elf`);
    // stdio piped: ld's RWX-segment warning is expected for these tiny images.
    execFileSync(LD, [...args, objectPath, '-o', out], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(out));
  }

  const PROGRAM = `
    .text
    .globl _start
_start:
    ldr x0, =message
    bl  print
    b   .
print:
    ret
    .data
message: .asciz "hello"
    .bss
    .balign 16
scratch: .space 256
`;

  it('loads an executable linked at 0x40080000', () => {
    const object = assemble('exec', PROGRAM);
    const bytes = link('exec', object, ['-Ttext=0x40080000']);
    const { memory } = newMachine();
    // Dirty the area so the .bss zero fill is visible.
    memory.writeBytes(IMAGE_BASE, new Uint8Array(0x2_0000).fill(0xa5));
    const image = loadElfExecutable(memory, bytes);
    const elf = readElf(bytes);
    expect(image.entry).toBe(IMAGE_BASE);
    expect(image.symbols.get('_start')).toBe(IMAGE_BASE);
    for (const name of ['.text', '.data']) {
      const section = elf.sections.find((s) => s.name === name)!;
      expect(memory.readBytes(Number(section.addr), section.size)).toEqual(section.data);
    }
    const scratch = image.symbols.get('scratch')!;
    expect(memory.readBytes(scratch, 256)).toEqual(new Uint8Array(256));
    expect(image.symbols.format(image.symbols.get('print')! + 0)).toBe('print');
    expect(image.symbols.format(IMAGE_BASE + 4)).toBe('_start+0x4');
    expect([...image.symbols.keys()].some((name) => name.startsWith('$'))).toBe(false);
  });

  it('rejects an executable linked outside RAM', () => {
    const object = assemble('low', PROGRAM);
    const bytes = link('low', object, ['-Ttext=0x100000']);
    expectLoadError(() => loadElfExecutable(newMachine().memory, bytes), /outside RAM: 0x[0-9a-f]+ is 'flash'/);
  });

  const RELOCS = `
    .text
    .globl _start
_start:
    adrp x0, data_word
    add  x0, x0, :lo12:data_word
    ldr  x1, [x0, #:lo12:data_word]
    ldr  w2, [x0, #:lo12:data_word32]
    ldrh w3, [x0, #:lo12:data_half]
    ldrb w4, [x0, #:lo12:data_byte]
    ldr  q0, [x0, #:lo12:data_quad]
    adr  x5, far_func
    ldr  x6, far_literal
    b.eq far_func
    tbz  x0, #3, far_func
    bl   far_func
    b    far_func
    movz x7, #:abs_g3:data_word
    movk x7, #:abs_g2_nc:data_word
    movk x7, #:abs_g1_nc:data_word
    movk x7, #:abs_g0_nc:data_word
    movz x8, #:abs_g0:ext_small
    movz x9, #:abs_g1:ext_mid
    movz x10, #:abs_g2:ext_mid
    movz x11, #:abs_g0_s:ext_neg
    movz x12, #:abs_g1_s:ext_neg
    bl   ext_func
    .section .text.other, "ax"
    .balign 8
far_literal:
    .quad 0x1122334455667788
far_func:
    ret
    .data
    .balign 16
data_quad: .quad 1, 2
data_word: .quad _start
data_word32: .word far_func
data_prel: .word far_func - .
data_half: .hword ext_small
data_byte: .byte 7
    .balign 8
data_prel64: .quad ext_func - .
    .bss
    .balign 8
bss_space: .space 64
    .comm common_blob, 32, 16
`;

  it('relocates an object exactly as GNU ld links it at the same addresses', () => {
    const objectPath = assemble('relocs', RELOCS);
    const object = new Uint8Array(readFileSync(objectPath));
    // A base that is not page aligned makes ADRP's page arithmetic matter.
    const base = 0x4010_0ff0;
    const externals = new Map<string, number>([
      ['ext_small', 0x1234],
      ['ext_mid', 0x1234_5678],
      ['ext_neg', -5],
      ['ext_func', 0x4030_0000],
    ]);
    const { memory } = newMachine();
    const image = loadElfObject(memory, object, base, { externalSymbols: externals });
    expect(image.entry).toBe(base);
    expect(image.segments.map((s) => s.name)).toEqual(['.text', '.data', '.bss', '.text.other', 'COMMON']);

    // Place each section where the loader put it and let ld do the same link.
    const placement = image.segments
      .map((s) => (s.name === 'COMMON' ? `  .common 0x${s.base.toString(16)} : { *(COMMON) }` : `  ${s.name} 0x${s.base.toString(16)} : { *(${s.name}) }`))
      .join('\n');
    const symbols = [...externals].map(([name, value]) => `${name} = ${value};`).join('\n');
    const script = join(work, 'relocs.ld');
    writeFileSync(script, `ENTRY(_start)\n${symbols}\nSECTIONS {\n${placement}\n}\n`);
    const linked = readElf(link('relocs', objectPath, ['-T', script]));

    for (const segment of image.segments) {
      const outputName = segment.name === 'COMMON' ? '.common' : segment.name;
      const section = linked.sections.find((s) => s.name === outputName)!;
      expect(Number(section.addr), outputName).toBe(segment.base);
      const expected = section.type === 8 ? new Uint8Array(section.size) : section.data;
      expect(memory.readBytes(segment.base, segment.size), outputName).toEqual(expected);
    }
    // Symbols resolve across sections.
    const linkedSymbol = (name: string) => Number(linked.symbols.find((s) => s.name === name)!.value);
    for (const name of ['_start', 'far_func', 'data_word', 'bss_space', 'common_blob']) {
      expect(image.symbols.get(name), name).toBe(linkedSymbol(name));
    }
  });

  it('reports undefined symbols and out-of-range relocations', () => {
    const object = new Uint8Array(readFileSync(assemble('undef', RELOCS)));
    const { memory } = newMachine();
    expectLoadError(
      () => loadElfObject(memory, object, IMAGE_BASE),
      /undefined symbols: 'ext_func', 'ext_mid', 'ext_neg', 'ext_small'/,
    );
    const far = new Map<string, number>([
      ['ext_small', 0x1234],
      ['ext_mid', 0x1234_5678],
      ['ext_neg', -5],
      ['ext_func', IMAGE_BASE + 0x1000_0000], // beyond BL's ±128 MiB
    ]);
    expectLoadError(
      () => loadElfObject(memory, object, IMAGE_BASE, { externalSymbols: far }),
      /R_AARCH64_CALL26 at \.text\+0x58 against 'ext_func': displacement .* out of range/,
    );
    const tooWide = new Map(far).set('ext_func', IMAGE_BASE + 0x1000).set('ext_small', 0x1_0000);
    expectLoadError(
      () => loadElfObject(memory, object, IMAGE_BASE, { externalSymbols: tooWide }),
      /R_AARCH64_MOVW_UABS_G0 .* does not fit in 16 unsigned bits/,
    );
    expect(memory.read32(IMAGE_BASE)).toBe(0); // a failed load writes nothing
  });
});
