import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ET_EXEC,
  PF_R,
  PF_W,
  PF_X,
  PT_LOAD,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_NOBITS,
  SHT_PROGBITS,
} from '../../src/elf/constants.js';
import { findSection, readElf } from '../../src/elf/read.js';
import { writeExecutable, type ExecutableImage } from '../../src/elf/write-executable.js';
import { GDB, GNU_OBJDUMP, GNU_READELF, QEMU_SYSTEM, gnuObjdump, gnuReadelf, requireOracle } from '../helpers/oracle.js';

const LOAD_ADDRESS = 0x40080000n;

/** Little-endian bytes of 32-bit instruction words. */
function words(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((w, i) => view.setUint32(i * 4, w, true));
  return bytes;
}

/** PSCI SYSTEM_OFF through SMC, then spin in case the call returns. */
const POWER_OFF_PROGRAM = words(
  0x52b08000, // movz w0, #0x8400, lsl #16
  0x72800100, // movk w0, #8          -> w0 = 0x84000008 (PSCI SYSTEM_OFF)
  0xd4000003, // smc #0
  0x14000000, // b .
);

function powerOffImage(): ExecutableImage {
  return {
    entry: LOAD_ADDRESS,
    segments: [
      { vaddr: LOAD_ADDRESS, data: POWER_OFF_PROGRAM, memsz: BigInt(POWER_OFF_PROGRAM.length), flags: 'rx' },
      { vaddr: LOAD_ADDRESS + 0x10000n, data: words(0xdeadbeef, 0xcafef00d), memsz: 0x100n, flags: 'rw' },
    ],
    symbols: [
      { name: '_start', value: LOAD_ADDRESS, size: 12n, type: 'func' },
      { name: 'spin', value: LOAD_ADDRESS + 12n, size: 4n, type: 'func' },
      { name: 'boot_data', value: LOAD_ADDRESS + 0x10000n, size: 8n, type: 'object' },
      { name: 'boot_bss', value: LOAD_ADDRESS + 0x10008n, size: 0xf8n, type: 'object' },
    ],
  };
}

function withTempFile<T>(name: string, bytes: Uint8Array, fn: (dir: string, path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'pkvm-elf-exec-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return fn(dir, path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('writeExecutable', () => {
  it('round-trips program headers, sections and symbols through readElf', () => {
    const elf = readElf(writeExecutable(powerOffImage()));
    expect(elf.type).toBe(ET_EXEC);
    expect(elf.entry).toBe(LOAD_ADDRESS);
    expect(elf.programHeaders).toHaveLength(2);
    const [code, data] = elf.programHeaders;
    expect(code).toMatchObject({ type: PT_LOAD, flags: PF_R | PF_X, vaddr: LOAD_ADDRESS, paddr: LOAD_ADDRESS, filesz: 16, memsz: 16n });
    expect([...code.data]).toEqual([...POWER_OFF_PROGRAM]);
    expect(code.offset % 0x1000).toBe(Number(LOAD_ADDRESS % 0x1000n));
    expect(data).toMatchObject({ flags: PF_R | PF_W, filesz: 8, memsz: 0x100n });

    expect(findSection(elf, '.text')).toMatchObject({ type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: LOAD_ADDRESS, size: 16 });
    expect(findSection(elf, '.data')).toMatchObject({ type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, size: 8 });
    expect(findSection(elf, '.bss')).toMatchObject({ type: SHT_NOBITS, addr: LOAD_ADDRESS + 0x10008n, size: 0xf8 });

    const byName = new Map(elf.symbols.map((s) => [s.name, s]));
    expect(byName.get('_start')).toMatchObject({ value: LOAD_ADDRESS, type: 'func', binding: 'global', section: '.text' });
    expect(byName.get('boot_data')).toMatchObject({ section: '.data', type: 'object' });
    expect(byName.get('boot_bss')).toMatchObject({ section: '.bss' });
  });

  it('uses paddr when given and names segments on request', () => {
    const elf = readElf(
      writeExecutable({
        entry: 0xffff800010000000n,
        segments: [
          { vaddr: 0xffff800010000000n, paddr: 0x40200000n, data: words(0xd503201f), memsz: 4n, flags: 'rx', name: '.hyp.text' },
          { vaddr: 0xffff800010001000n, data: new Uint8Array(0), memsz: 0x2000n, flags: 'rw' },
        ],
      }),
    );
    expect(elf.programHeaders[0]).toMatchObject({ vaddr: 0xffff800010000000n, paddr: 0x40200000n });
    expect(findSection(elf, '.hyp.text')!.addr).toBe(0xffff800010000000n);
    expect(findSection(elf, '.data')).toMatchObject({ type: SHT_NOBITS, size: 0x2000 });
    expect(elf.symbols).toEqual([]);
  });

  it('rejects overlapping segments and memsz below the data size', () => {
    expect(() =>
      writeExecutable({
        entry: 0n,
        segments: [
          { vaddr: 0x1000n, data: new Uint8Array(16), memsz: 0x100n, flags: 'rx' },
          { vaddr: 0x1080n, data: new Uint8Array(16), memsz: 16n, flags: 'rw' },
        ],
      }),
    ).toThrow(/overlap/);
    expect(() =>
      writeExecutable({ entry: 0n, segments: [{ vaddr: 0n, data: new Uint8Array(16), memsz: 8n, flags: 'r' }] }),
    ).toThrow(/memsz/);
  });
});

describe.runIf(requireOracle(GNU_READELF) && requireOracle(GNU_OBJDUMP))('our executables in binutils', () => {
  it('readelf -a accepts them without warnings', () => {
    const run = gnuReadelf(writeExecutable(powerOffImage()), ['-a', '-W']);
    expect(run.stderr).not.toMatch(/warning|error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/LOAD\s+0x[0-9a-f]+ 0x0000000040080000 0x0000000040080000 0x000010 0x000010 R E/);
    expect(run.stdout).toContain('Entry point address:               0x40080000');
  });

  it('objdump -d disassembles at the load address with symbol names', () => {
    const listing = gnuObjdump(writeExecutable(powerOffImage()), ['-d']);
    expect(listing).toMatch(/0000000040080000 <_start>:/);
    expect(listing).toMatch(/40080000:\s+52b08000\s+mov\s+w0, #0x84000000/);
    expect(listing).toMatch(/40080008:\s+d4000003\s+smc\s+#0x0/);
    expect(listing).toMatch(/000000004008000c <spin>:/);
  });
});

describe.runIf(requireOracle(GDB))('our executables in gdb', () => {
  it('gdb resolves addresses to our symbols', () => {
    const output = withTempFile('prog.elf', writeExecutable(powerOffImage()), (dir, path) => {
      const run = spawnSync(GDB, ['-batch', '-nx', '-ex', `file ${path}`, '-ex', 'info symbol 0x40080004', '-ex', 'info symbol 0x40090000'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
      return run.stdout + run.stderr;
    });
    expect(output).toMatch(/_start \+ 4 in section \.text/);
    expect(output).toMatch(/boot_data in section \.data/);
  });
});

describe.runIf(requireOracle(QEMU_SYSTEM))('our executables in QEMU', () => {
  it('qemu-system-aarch64 -kernel runs the program, which powers off via PSCI', () => {
    const result = withTempFile('prog.elf', writeExecutable(powerOffImage()), (dir, path) =>
      spawnSync(
        QEMU_SYSTEM,
        [
          '-M', 'virt,virtualization=on',
          '-cpu', 'cortex-a57',
          '-m', '128M',
          '-nographic', '-display', 'none', '-monitor', 'none', '-serial', 'none', '-nic', 'none',
          '-no-reboot',
          '-kernel', path,
        ],
        { cwd: dir, encoding: 'utf8', timeout: 20_000 },
      ),
    );
    // A timeout (signal SIGTERM) means the guest never reached SYSTEM_OFF.
    expect(result.error, result.stderr).toBeUndefined();
    expect(result.signal, 'QEMU was still running after 20 s').toBeNull();
    expect(result.status, result.stderr).toBe(0);
  });
});
