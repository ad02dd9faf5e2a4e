/**
 * The library API: load, registers, memory, hooks, host functions, run/step/stop.
 */
import { describe, expect, it } from 'vitest';
import { Emulator, EmulatorError } from '../../src/machine/emulator.js';
import { LoadError } from '../../src/machine/loader.js';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { toObjectModel } from '../../src/asm/object-file.js';
import { writeRelocatableObject } from '../../src/elf/write-object.js';

const BASE = 0x40080000n;
function flat(source: string): Uint8Array {
  const r = assemble(source, { file: 'prog.s' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return linkFlat(r, BASE).bytes;
}
function object(source: string): Uint8Array {
  const r = assemble(source, { file: 'prog.s' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return writeRelocatableObject(toObjectModel(r));
}
const OFF = 'movz w0, #0x8400, lsl #16\n movk w0, #8\n smc #0\n';

describe('Emulator', () => {
  it('starts like QEMU virt: EL2h, DAIF masked, Z set, registers zero', () => {
    const emu = new Emulator();
    expect(emu.reg('el')).toBe(2n);
    expect(emu.reg('nzcv')).toBe(4n);
    expect(emu.reg('daif')).toBe(0x3c0n);
    expect(emu.reg('x5')).toBe(0n);
    expect(emu.reg('sp')).toBe(0n);
    expect(emu.reg('currentel')).toBe(8n);
  });

  it('runs a flat image to PSCI SYSTEM_OFF and reads registers as bigint', () => {
    const emu = new Emulator({ uartSink: () => {} });
    emu.load(flat(`movz x1, #3\n mov x2, #-1\n add x3, x1, x1, lsl #4\n${OFF}`));
    const r = emu.run();
    expect(r.reason.kind).toBe('psci-off');
    expect(r.insns).toBe(6);
    expect(emu.reg('x3')).toBe(51n);
    expect(emu.reg('x2')).toBe(0xffffffffffffffffn);
    expect(emu.reg('w2')).toBe(0xffffffffn);
  });

  it('loads a relocatable object at a base and resolves symbols for hooks', () => {
    const emu = new Emulator({ uartSink: () => {} });
    const img = emu.load(object(`.globl _start\n_start: bl helper\n${OFF}\nhelper: movz x9, #7\n ret\n`), { base: BASE });
    expect(img.symbols.get('helper')).toBeGreaterThan(Number(BASE));
    const seen: bigint[] = [];
    emu.addCodeHook('helper', (e) => seen.push(e.reg('pc')));
    expect(emu.run().reason.kind).toBe('psci-off');
    expect(seen).toEqual([emu.resolve('helper')]);
    expect(emu.reg('x9')).toBe(7n);
  });

  it('host functions take AAPCS64 arguments and return to the caller', () => {
    const emu = new Emulator({ uartSink: () => {} });
    emu.load(object(`.globl _start\n_start: movz x0, #40\n movz x1, #2\n bl add_c\n mov x20, x0\n${OFF}\nadd_c: brk #1\n`), { base: BASE });
    const calls: bigint[][] = [];
    emu.hostFunction('add_c', (args) => { calls.push(args.slice(0, 2)); return args[0]! + args[1]!; });
    expect(emu.run().reason.kind).toBe('psci-off');
    expect(calls).toEqual([[40n, 2n]]);
    expect(emu.reg('x20')).toBe(42n);
  });

  it('breakpoints stop before the instruction; step executes one', () => {
    const emu = new Emulator({ uartSink: () => {} });
    emu.load(object(`.globl _start\n_start: movz x1, #1\nhere: movz x1, #2\n movz x1, #3\n${OFF}`), { base: BASE });
    const remove = emu.addBreakpoint('here');
    const r = emu.run();
    expect(r.reason.kind).toBe('breakpoint');
    expect(emu.reg('pc')).toBe(emu.resolve('here'));
    expect(emu.reg('x1')).toBe(1n);
    remove();
    emu.step();
    expect(emu.reg('x1')).toBe(2n);
    expect(emu.run().reason.kind).toBe('psci-off');
    expect(emu.reg('x1')).toBe(3n);
  });

  it('reports UNDEFINED instructions by name and takes the exception', () => {
    const emu = new Emulator({ uartSink: () => {} });
    emu.load(flat(`adr x0, vectors\n msr vbar_el2, x0\n udf #7\n.balign 2048\nvectors: .skip 0x200\n mrs x5, esr_el2\n${OFF}`));
    const reported: string[] = [];
    emu.onUndefined((_w, name) => reported.push(name));
    expect(emu.run().reason.kind).toBe('psci-off');
    expect(reported.length).toBe(1);
    expect(reported[0]).toMatch(/udf/);
    expect(emu.reg('x5') >> 26n).toBe(0n); // EC 0: unknown reason
  });

  it('bad input: unknown CPU, entry outside RAM, unknown symbol', () => {
    expect(() => new Emulator({ cpu: 'cortex-z9' })).toThrow(EmulatorError);
    const emu = new Emulator();
    expect(() => emu.load(new Uint8Array(8), { address: 0x1000n })).toThrow(LoadError);
    expect(() => emu.resolve('nothing_here')).toThrow(EmulatorError);
    expect(() => emu.load(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 1]))).toThrow(LoadError);
  });
});
