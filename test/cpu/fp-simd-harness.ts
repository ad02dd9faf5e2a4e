/**
 * Test support for the FP/SIMD suites: assemble a program, run it on a fresh
 * virt machine until the `end` label (or an exception), and read V registers
 * as bigints. Also the QEMU differential runner (state compared at every
 * instruction: X, SP, PC, NZCV, V0-V31, FPCR, FPSR).
 */
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { createVirtMachine } from '../../src/machine/virt.js';
import { Cpu } from '../../src/cpu/cpu.js';
import { CORTEX_A57 } from '../../src/cpu/cpu-model.js';
import { run } from '../../src/cpu/interpreter.js';
import { disassemble } from '../../src/isa/disasm.js';
import type { ExceptionEvent } from '../../src/cpu/exceptions.js';
import type { PhysicalMemory } from '../../src/machine/physical-memory.js';
import { buildImage, PSCI_SYSTEM_OFF_ASM, runQemu } from '../helpers/qemu.js';
import { isInsnRecord, type QemuInsnRecord } from '../../src/trace/qemu-log.js';

export const BASE = 0x40080000;

export interface Program {
  cpu: Cpu;
  memory: PhysicalMemory;
  symbols: Map<string, bigint>;
  exceptions: ExceptionEvent[];
  undefined: string[];
}

/** Assembles `source` at BASE and prepares a CPU at EL2 with PC at the start. */
export function load(source: string): Program {
  const r = assemble(source, { file: 'test.s' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => d.message).join('\n'));
  const img = linkFlat(r, BigInt(BASE));
  const m = createVirtMachine({});
  m.memory.writeBytes(BASE, img.bytes);
  const cpu = new Cpu(m.memory, CORTEX_A57);
  cpu.setPc(BigInt(BASE));
  const p: Program = { cpu, memory: m.memory, symbols: img.symbols, exceptions: [], undefined: [] };
  cpu.onException = (e) => {
    p.exceptions.push(e);
    if (e.kind === 'exception') cpu.stopRequest = { kind: 'stopped', why: `exception ec=0x${e.ec.toString(16)}` };
  };
  cpu.onUndefined = (_w, name) => p.undefined.push(name);
  return p;
}

/** Runs until PC reaches `end` (or `maxSteps`, or an exception stops it). */
export function runToEnd(p: Program, maxSteps = 10_000): Program {
  const end = p.symbols.get('end');
  for (let n = 0; n < maxSteps; n++) {
    if (end !== undefined && p.cpu.getPc() === end) return p;
    const stop = run(p.cpu, 1);
    if (stop.kind !== 'budget') return p;
  }
  return p;
}

/** load + runToEnd, with `setup` applied before running. */
export function runProgram(source: string, setup?: (cpu: Cpu, p: Program) => void): Program {
  const p = load(source);
  setup?.(p.cpu, p);
  return runToEnd(p);
}

export const hex = (v: bigint, digits = 32): string => '0x' + v.toString(16).padStart(digits, '0');

// ---- QEMU differential --------------------------------------------------------------------------

export interface DiffResult {
  /** Instructions compared. */
  compared: number;
  mismatches: string[];
}

function describeState(cpu: Cpu, rec: QemuInsnRecord, memory: PhysicalMemory): string[] {
  const out: string[] = [];
  if (cpu.getPc() !== rec.pc) out.push(`pc ours ${hex(cpu.getPc(), 16)} qemu ${hex(rec.pc, 16)}`);
  for (let i = 0; i < 31; i++) {
    if (cpu.getX(i) !== rec.x[i]) out.push(`x${i} ours ${hex(cpu.getX(i), 16)} qemu ${hex(rec.x[i]!, 16)}`);
  }
  if (cpu.getSp() !== rec.sp) out.push(`sp ours ${hex(cpu.getSp(), 16)} qemu ${hex(rec.sp, 16)}`);
  if (cpu.nzcv !== rec.nzcv) out.push(`nzcv ours ${cpu.nzcv.toString(2).padStart(4, '0')} qemu ${rec.nzcv.toString(2).padStart(4, '0')}`);
  if (cpu.el !== rec.el) out.push(`el ours ${cpu.el} qemu ${rec.el}`);
  if (rec.q) {
    for (let i = 0; i < 32; i++) {
      if (cpu.getV(i) !== rec.q[i]) out.push(`v${i} ours ${hex(cpu.getV(i))} qemu ${hex(rec.q[i]!)}`);
    }
    if (cpu.fpcr !== rec.fpcr) out.push(`fpcr ours ${cpu.fpcr.toString(16)} qemu ${rec.fpcr!.toString(16)}`);
    if ((cpu.fpsr >>> 0) !== rec.fpsr) out.push(`fpsr ours ${(cpu.fpsr >>> 0).toString(16)} qemu ${rec.fpsr!.toString(16)}`);
  }
  void memory;
  return out;
}

/**
 * Runs `body` (gas source, entered at _start) under QEMU and on our CPU,
 * comparing the full register state before every instruction, up to the
 * PSCI SYSTEM_OFF sequence appended at the end. `data` is appended after it.
 */
export function diffWithQemu(body: string, data = '', maxInsns = 50_000): DiffResult {
  const source = `_start:\n${body}\n${PSCI_SYSTEM_OFF_ASM}\n${data}\n`;
  const img = buildImage(source, BigInt(BASE));
  const q = runQemu(img.elf, { fpu: true, maxInsns: maxInsns + 16 });
  const records = q.records.filter(isInsnRecord);
  const m = createVirtMachine({});
  m.memory.writeBytes(BASE, img.flat);
  const cpu = new Cpu(m.memory, CORTEX_A57);
  cpu.setPc(img.entry);
  const mismatches: string[] = [];
  let compared = 0;
  for (let k = 0; k < records.length; k++) {
    const rec = records[k]!;
    const word = m.memory.read32(Number(cpu.getPc()));
    const diffs = describeState(cpu, rec, m.memory);
    if (diffs.length > 0) {
      const prev = k > 0 ? records[k - 1]! : undefined;
      const prevWord = prev ? m.memory.read32(Number(prev.pc)) : 0;
      mismatches.push(`after #${k - 1} ${prev ? disassemble(prevWord).text : '(start)'} @${prev ? hex(prev.pc, 8) : ''}: ${diffs.join('; ')}`);
      if (mismatches.length >= 20) break;
      // Continue from QEMU's state so that one difference is reported once.
      for (let i = 0; i < 31; i++) cpu.setX(i, rec.x[i]!);
      cpu.nzcv = rec.nzcv;
      if (rec.q) for (let i = 0; i < 32; i++) cpu.setV(i, rec.q[i]!);
      if (rec.fpsr !== undefined) cpu.fpsr = rec.fpsr | 0;
      if (rec.fpcr !== undefined) cpu.fpcr = rec.fpcr | 0;
    }
    compared++;
    if ((word >>> 0) === 0xd4000003) break; // smc #0: the power-off call ends the comparison
    const undef: string[] = [];
    cpu.onUndefined = (_w, name) => undef.push(name);
    run(cpu, 1);
    if (undef.length > 0) {
      mismatches.push(`#${k} ${disassemble(word).text}: UNDEFINED on our CPU (${undef[0]})`);
      break;
    }
  }
  if (!q.exitedCleanly) mismatches.push(`QEMU did not reach SYSTEM_OFF (${q.stopReason})`);
  return { compared, mismatches };
}
