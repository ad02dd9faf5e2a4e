/**
 * Helpers for the system-instruction and exception tests: assemble a program
 * with our assembler, load it at 0x4008_0000 into a virt machine and run it on
 * the interpreter, collecting exception events and UNDEFINED reports.
 */
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { createVirtMachine } from '../../src/machine/virt.js';
import { Cpu, type StopReason } from '../../src/cpu/cpu.js';
import { CORTEX_A57, type CpuModel } from '../../src/cpu/cpu-model.js';
import { run } from '../../src/cpu/interpreter.js';
import type { ExceptionEvent } from '../../src/cpu/exceptions.js';

export const BASE = 0x40080000n;

export interface AsmRun {
  cpu: Cpu;
  stop: StopReason;
  exceptions: ExceptionEvent[];
  undefineds: { word: number; name: string }[];
  symbols: Map<string, bigint>;
  sys: (name: string) => bigint;
}

export function assembleAt(src: string, base = BASE): { bytes: Uint8Array; symbols: Map<string, bigint> } {
  // The CPU decides what exists; let the assembler take every name the tests use.
  const r = assemble(`.arch armv8.2-a\n.arch_extension ssbs\n${src}`, { file: 'test.s' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => d.message).join('\n'));
  const img = linkFlat(r, base);
  return { bytes: img.bytes, symbols: img.symbols };
}

export function runAsm(src: string, opts: { model?: CpuModel; budget?: number; setup?: (cpu: Cpu) => void } = {}): AsmRun {
  const { bytes, symbols } = assembleAt(src);
  const m = createVirtMachine({});
  m.memory.writeBytes(Number(BASE), bytes);
  const cpu = new Cpu(m.memory, opts.model ?? CORTEX_A57);
  const exceptions: ExceptionEvent[] = [];
  const undefineds: { word: number; name: string }[] = [];
  cpu.onException = (e) => exceptions.push(e);
  cpu.onUndefined = (word, name) => undefineds.push({ word, name });
  cpu.setPc(symbols.get('_start') ?? BASE);
  opts.setup?.(cpu);
  const stop = run(cpu, opts.budget ?? 10_000);
  return { cpu, stop, exceptions, undefineds, symbols, sys: (name) => cpu.sys.getBig(name) };
}

/** The PSCI SYSTEM_OFF sequence that ends every program. */
export const POWER_OFF = 'movz w0, #0x8400, lsl #16\nmovk w0, #8\nsmc #0\n';

/**
 * A program skeleton: EL2 and EL1 vector tables whose synchronous handlers
 * record ESR/ELR/FAR/SPSR (EL2: x20..x23, count in x24; EL1: x10..x13, count
 * in x14) and return past the faulting instruction (SVC/HVC already return
 * after it). `el2` runs first at EL2h; `el1`/`el0` are entered by helpers:
 * `to_el1`/`to_el0` eret there (EL1h / EL0t, DAIF masked). `hvc #0xfff` from EL1 resumes
 * at EL2 at `el2_resume`, or at the address in x19 when it is nonzero; `svc #0xfff` from EL0
 * resumes at EL1 at `el1_resume` (at EL2 like `hvc #0xfff` when HCR_EL2.TGE routes it there).
 */
export function program(parts: { el2?: string; el1?: string; el0?: string; hcr?: string }): string {
  let el2 = parts.el2 ?? '', el1 = parts.el1 ?? '';
  if (!el2.includes('el2_resume:')) el2 += '\nel2_resume:';
  if (!el1.includes('el1_resume:')) el1 += '\nel1_resume:';
  return `
.globl _start
_start:
  adr x9, vec2
  msr vbar_el2, x9
  adr x9, vec1
  msr vbar_el1, x9
  ${parts.hcr ?? 'mov x9, #(1 << 31)'}
  msr hcr_el2, x9
  ${el2}
  ${POWER_OFF}
to_el1:
  mov x9, #0x3c5
  msr spsr_el2, x9
  adr x9, el1_code
  msr elr_el2, x9
  eret
el1_code:
  ${el1}
  hvc #0xfff              // back to EL2: the EL2 handler resumes at el2_resume
to_el0:
  mov x9, #0x3c0
  msr spsr_el1, x9
  adr x9, el0_code
  msr elr_el1, x9
  eret
el0_code:
  ${parts.el0 ?? ''}
  svc #0xfff              // back to EL1: the EL1 handler resumes at el1_resume
.balign 0x800
vec2:
  b handler2
.org vec2 + 0x200
  b handler2
.org vec2 + 0x400
  b handler2
.org vec2 + 0x600
handler2:
  mrs x20, esr_el2
  mrs x21, elr_el2
  mrs x22, far_el2
  mrs x23, spsr_el2
  bic x9, x23, #(1 << 20)   // return with PSTATE.IL clear
  msr spsr_el2, x9
  add x24, x24, #1
  movz x9, #0x5a00, lsl #16
  movk x9, #0xfff
  cmp x20, x9
  b.eq el2_resume_now
  movz x9, #0x5600, lsl #16   // svc #0xfff from EL0 under HCR_EL2.TGE
  movk x9, #0xfff
  cmp x20, x9
  b.eq el2_resume_now
  lsr x9, x20, #26
  cmp x9, #0x15
  b.eq 1f
  cmp x9, #0x16
  b.eq 1f
  add x9, x21, #4
  msr elr_el2, x9
1:
  eret
el2_resume_now:
  mov x9, #0x3c9
  msr spsr_el2, x9
  adr x9, el2_resume
  cbz x19, 2f
  mov x9, x19
2:
  msr elr_el2, x9
  eret
.balign 0x800
vec1:
  b handler1
.org vec1 + 0x200
  b handler1
.org vec1 + 0x400
  b handler1
.org vec1 + 0x600
handler1:
  mrs x10, esr_el1
  mrs x11, elr_el1
  mrs x12, far_el1
  mrs x13, spsr_el1
  bic x9, x13, #(1 << 20)
  msr spsr_el1, x9
  add x14, x14, #1
  movz x9, #0x5600, lsl #16
  movk x9, #0xfff
  cmp x10, x9
  b.eq el1_resume_now
  lsr x9, x10, #26
  cmp x9, #0x15
  b.eq 1f
  cmp x9, #0x16
  b.eq 1f
  add x9, x11, #4
  msr elr_el1, x9
1:
  eret
el1_resume_now:
  mov x9, #0x3c5
  msr spsr_el1, x9
  adr x9, el1_resume
  msr elr_el1, x9
  eret
`;
}
