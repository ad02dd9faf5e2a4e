/**
 * Hand-written programs that take and return from exceptions between EL2,
 * EL1 and EL0, against QEMU 7.2 (issue 3, verification): vector tables at EL2
 * and EL1, ERET to EL1h/EL1t/EL0 with HCR_EL2.RW=1 (and EL2 -> EL0 with
 * HCR_EL2.TGE=1), SVC/HVC/BRK/UNDEFINED, data and instruction aborts on
 * unmapped physical memory (synchronous external aborts with the MMU off),
 * PC alignment faults, an illegal exception return and its Illegal
 * Execution state exception, each handler returning with ERET. (SP alignment
 * faults are left out: QEMU 7.2 does not implement SCTLR_ELx.SA/SA0 checks,
 * see the last test.)
 *
 * Per-instruction state (PC, X0-X30, SP, NZCV, EL, SPSel) and every exception
 * entry (EL, ESR, ELR, FAR when QEMU reports one, vector address) and return
 * are compared with src/trace/compare-states.ts. QEMU's documented
 * deviations are accepted only by name and only where they apply
 * (nzcv-cleared-on-entry from an entry until the handler writes NZCV;
 * isv-on-el2-data-abort for a data abort EL2 -> EL2). Each test also checks
 * which exceptions happened, so a program that silently stops exercising
 * something fails.
 *
 * The handlers copy ESR/ELR/SPSR (and FAR for aborts) into registers, so the
 * syndrome values are compared a second time through X20-X23.
 */
import { describe, expect, it } from 'vitest';
import { qemuAvailable } from '../../helpers/qemu.js';
import { exceptionSummary, runBothWays, type DifferentialRun } from './differential.js';

/** Physical addresses with nothing behind them on QEMU's virt (128 MiB RAM) and on ours. */
const UNMAPPED_PA = '0x48000000'; // just past the end of RAM
const UNMAPPED_PA_HIGH = '0x800000000'; // 32 GiB: inside the 44-bit PA range, no RAM or device

/** A macro to set a 64-bit register from a constant (one movz + three movk). */
const PRELUDE = `
  .macro movq reg, val
    movz \\reg, #((\\val) & 0xffff)
    movk \\reg, #(((\\val) >> 16) & 0xffff), lsl #16
    movk \\reg, #(((\\val) >> 32) & 0xffff), lsl #32
    movk \\reg, #(((\\val) >> 48) & 0xffff), lsl #48
  .endm
  .macro power_off
    movz w0, #0x8400, lsl #16
    movk w0, #8
    smc #0
  .endm
`;

/**
 * The synchronous-exception handler for EL\\el: records the syndrome, then
 * returns past SVC/HVC (ELR already points after them), to x30 for
 * instruction aborts and PC alignment faults (the faulting address is not
 * code), and past the instruction for everything else. SVC/HVC #0xff ends
 * the program: from EL2 with a power-off, from EL1 by an HVC to EL2.
 */
function syncHandler(el: number): string {
  return `
    mrs x20, esr_el${el}
    mrs x22, elr_el${el}
    mrs x23, spsr_el${el}
    mov x24, sp
    add x26, x26, #1              // exceptions taken
    lsr x25, x20, #26             // EC
    cmp x25, #0x15                // SVC
    b.eq 1f
    cmp x25, #0x16                // HVC
    b.eq 1f
    cmp x25, #0x20                // instruction abort (lower EL)
    b.eq 3f
    cmp x25, #0x21                // instruction abort (same EL)
    b.eq 3f
    cmp x25, #0x22                // PC alignment
    b.eq 3f
    cmp x25, #0x24                // data abort (lower EL)
    b.eq 4f
    cmp x25, #0x25                // data abort (same EL)
    b.eq 4f
    cmp x25, #0x0e                // Illegal Execution state
    b.eq 6f
    b 2f
  6:
    bic x23, x23, #0x100000       // clear SPSR.IL and retry the instruction
    msr spsr_el${el}, x23
    eret
  4:
    mrs x21, far_el${el}
  2:
    add x22, x22, #4              // step over the faulting instruction
    msr elr_el${el}, x22
    eret
  3:
    mrs x21, far_el${el}
    msr elr_el${el}, x30          // back to the caller of the bad branch
    eret
  1:
    and x27, x20, #0xffff         // imm16 of SVC/HVC
    cmp x27, #0xff
    b.eq 5f
    eret
  5:
    ${el === 2 ? 'power_off' : 'hvc #0xff'}
  `;
}

/** A vector table: synchronous entries run the handler, anything else powers off (must not happen). */
function vectorTable(el: number, label: string): string {
  const entries: string[] = [];
  for (let v = 0; v < 16; v++) {
    const sync = v % 4 === 0;
    entries.push(`  .balign 128\n${label}_${v}:\n${sync ? `  b ${label}_sync` : '  power_off'}`);
  }
  return `
  .balign 2048
${label}:
${entries.join('\n')}
${label}_sync:
${syncHandler(el)}
`;
}

function expectMatch(run: DifferentialRun): void {
  const c = run.comparison;
  expect(c.mismatches.map((m) => m.text).join('\n'), c.mismatches.map((m) => m.text).join('\n')).toBe('');
  expect(run.qemuStop).toBe('system-off');
  expect(run.ourStop).toBe('psci-off');
}

const EL2_AND_EL1 = `
${PRELUDE}
  .text
  .globl _start
_start:
  adr x0, vectors_el2
  msr vbar_el2, x0
  adr x0, vectors_el1
  msr vbar_el1, x0
  adr x0, stack_el2_top
  mov sp, x0
  adr x0, stack_el1_top
  msr sp_el1, x0
  adr x0, stack_el0_top
  msr sp_el0, x0
  mov x26, #0
  movz x9, #0xa000, lsl #16       // NZCV = N.C. (kept through the entries on our side)
  msr nzcv, x9

  // ---- exceptions taken at EL2, from EL2 ----
  svc #0x12                       // EC 0x15 to EL2 (current EL, SPx vector)
  brk #0x34                       // EC 0x3c
  .inst 0x00000000                // UNDEFINED (udf #0)
  movq x1, ${UNMAPPED_PA}
  ldr x2, [x1]                    // external abort: EC 0x25, ISV may differ (QEMU deviation)
  str w2, [x1, #8]
  adr x30, 1f
  br x1                           // instruction abort at EL2: EC 0x21
1:
  adr x30, 2f
  adr x3, 2f
  add x3, x3, #2
  br x3                           // PC alignment: EC 0x22
2:
  msr spsel, #0                   // EL2t: the SP0 vectors
  adr x0, stack_el0_top
  mov sp, x0
  svc #0x56                       // EC 0x15 through the current-EL SP0 entry
  msr spsel, #1

  // ---- to EL1h (HCR_EL2.RW = 1), then EL1t, then EL0 ----
  movz x0, #0x8000, lsl #16       // HCR_EL2.RW
  msr hcr_el2, x0
  movq x0, 0x30d00800             // SCTLR_EL1: RES1 bits, MMU and caches off, SA/SA0 clear
  msr sctlr_el1, x0
  isb
  mov x0, #0x3c5                  // EL1h, DAIF masked
  msr spsr_el2, x0
  adr x0, at_el1h
  msr elr_el2, x0
  eret

at_el1h:
  movz x9, #0x9000, lsl #16       // N.V
  msr nzcv, x9
  svc #0x21                       // EC 0x15 to EL1 (current EL, SPx)
  hvc #0x22                       // EC 0x16 to EL2 (lower EL, AArch64)
  brk #0x23                       // EC 0x3c to EL1
  .inst 0xffffffff                // UNDEFINED to EL1
  mrs x4, hcr_el2                 // UNDEFINED at EL1: EL2 register
  movq x1, ${UNMAPPED_PA_HIGH}
  ldp x4, x5, [x1, #16]           // external abort to EL1: EC 0x25
  stur x4, [x1, #-8]
  adr x30, 3f
  br x1                           // instruction abort to EL1: EC 0x21
3:
  // An illegal exception return (to EL2 from EL1): stays at EL1 with PSTATE.IL set, so the
  // next instruction takes an Illegal Execution state exception (QEMU does not log the return).
  mov x0, #0x3c9
  msr spsr_el1, x0
  adr x0, 6f
  msr elr_el1, x0
  eret
6:
  nop

  // EL1 -> EL1t with ERET
  mov x0, #0x3c4                  // EL1t
  msr spsr_el1, x0
  adr x0, at_el1t
  msr elr_el1, x0
  eret
at_el1t:
  svc #0x31                       // EC 0x15 through the current-EL SP0 entry
  brk #0x32
  hvc #0x33                       // to EL2 from EL1t

  // EL1t -> EL0 with ERET
  mov x0, #0x3c0                  // EL0t, DAIF masked
  msr spsr_el1, x0
  adr x0, at_el0
  msr elr_el1, x0
  eret

at_el0:
  movz x9, #0x3000, lsl #16       // C.V
  msr nzcv, x9
  svc #0x41                       // EC 0x15 to EL1 (lower EL, AArch64)
  hvc #0x42                       // UNDEFINED at EL0: EC 0 to EL1
  brk #0x43                       // EC 0x3c to EL1
  mrs x8, sctlr_el1               // UNDEFINED at EL0
  .inst 0x00000000
  movq x1, ${UNMAPPED_PA}
  ldrb w8, [x1, #3]               // external abort from EL0: EC 0x24
  adr x30, 4f
  br x1                           // instruction abort from EL0: EC 0x20
4:
  adr x30, 5f
  adr x3, 5f
  add x3, x3, #1
  blr x3                          // PC alignment from EL0: EC 0x22 (x30 is rewritten by blr)
5:
  svc #0xff                       // the end: EL1 handler -> HVC #0xff -> EL2 handler -> SYSTEM_OFF

${vectorTable(2, 'vectors_el2')}
${vectorTable(1, 'vectors_el1')}

  .data
  .balign 16
  .space 1024
stack_el2_top:
  .space 1024
stack_el1_top:
  .space 1024
stack_el0_top:
  .quad 0
`;

const TGE_EL0 = `
${PRELUDE}
  .text
  .globl _start
_start:
  adr x0, vectors_el2
  msr vbar_el2, x0
  adr x0, stack_el0_top
  msr sp_el0, x0
  mov x26, #0
  // HCR_EL2.{RW,TGE} (no E2H): EL0's exceptions are routed to EL2.
  movz x0, #0x8800, lsl #16
  msr hcr_el2, x0
  isb
  mov x0, #0x3c0                  // EL0t, DAIF masked
  msr spsr_el2, x0
  adr x0, at_el0
  msr elr_el2, x0
  eret

at_el0:
  movz x9, #0xf000, lsl #16
  msr nzcv, x9
  svc #0x51                       // EC 0x15 to EL2 (TGE routing)
  brk #0x52                       // EC 0x3c to EL2
  .inst 0x00000000                // UNDEFINED to EL2
  movq x1, ${UNMAPPED_PA}
  ldr w2, [x1, #4]                // external abort from EL0 to EL2: EC 0x24
  str x3, [x1, #32]
  adr x30, 1f
  br x1                           // instruction abort from EL0 to EL2: EC 0x20
1:
  svc #0xff

${vectorTable(2, 'vectors_el2')}

  .data
  .balign 16
  .space 512
stack_el0_top:
  .quad 0
`;

/** SCTLR_EL2.SA = 1, then a load with SP = 8 (mod 16): the architecture takes an SP alignment fault. */
const SP_ALIGNMENT_EL2 = `
${PRELUDE}
  .text
  .globl _start
_start:
  adr x0, vectors_el2
  msr vbar_el2, x0
  movq x0, 0x30c50838             // SCTLR_EL2: RES1 bits, SA set, MMU off
  msr sctlr_el2, x0
  isb
  adr x0, stack_top
  sub x0, x0, #8
  mov sp, x0
  ldr x1, [sp]                    // EC 0x26 (SP alignment) here; QEMU 7.2 just loads
  add sp, sp, #8
  power_off

${vectorTable(2, 'vectors_el2')}

  .data
  .balign 16
  .space 64
stack_top:
  .quad 0
`;

/** STP whose two elements are both unmapped: which element's address is reported. */
const STP_BOTH_UNMAPPED = `
${PRELUDE}
  .text
  .globl _start
_start:
  adr x0, vectors_el2
  msr vbar_el2, x0
  mov x26, #0
  movq x1, ${UNMAPPED_PA}
  stp x2, x3, [x1, #32]           // both 0x48000020 and 0x48000028 are unmapped
  power_off

${vectorTable(2, 'vectors_el2')}
`;

describe.runIf(qemuAvailable())('exceptions between EL2, EL1 and EL0 against QEMU 7.2', () => {
  it('EL2 -> EL2, EL2 -> EL1h -> EL1t -> EL0 and back: SVC, HVC, BRK, UNDEFINED, external aborts, alignment faults', () => {
    const run = runBothWays(EL2_AND_EL1, { maxInsns: 20_000 });
    expectMatch(run);
    expect(run.comparison.exceptions).toBe(30);
    expect(run.comparison.erets).toBe(31); // 28 handler returns + EL2->EL1h, EL1h->EL1t, EL1t->EL0 (the illegal one is not logged)
    console.log(`EL2/EL1/EL0 program: ${run.comparison.states} instructions, ${run.comparison.exceptions} exceptions, ${run.comparison.erets} returns; tolerated ${JSON.stringify(run.comparison.tolerated)}`);
    expect(exceptionSummary(run.qemuItems)).toEqual([
      // at EL2
      '15:2->2', '3c:2->2', '0:2->2', '25:2->2', '25:2->2', '21:2->2', '22:2->2', '15:2->2',
      // at EL1h
      '15:1->1', '16:1->2', '3c:1->1', '0:1->1', '0:1->1', '25:1->1', '25:1->1', '21:1->1', 'e:1->1',
      // at EL1t
      '15:1->1', '3c:1->1', '16:1->2',
      // at EL0
      '15:0->1', '0:0->1', '3c:0->1', '0:0->1', '0:0->1', '24:0->1', '20:0->1', '22:0->1',
      // the end
      '15:0->1', '16:1->2',
    ]);
  });

  it('EL2 -> EL0 with HCR_EL2.TGE: EL0 exceptions routed to EL2', () => {
    const run = runBothWays(TGE_EL0, { maxInsns: 5_000 });
    expectMatch(run);
    console.log(`TGE program: ${run.comparison.states} instructions, ${run.comparison.exceptions} exceptions; tolerated ${JSON.stringify(run.comparison.tolerated)}`);
    expect(exceptionSummary(run.qemuItems)).toEqual(['15:0->2', '3c:0->2', '0:0->2', '24:0->2', '24:0->2', '20:0->2', '15:0->2']);
  });

  it('QEMU 7.2 deviation: no SP alignment checking (SCTLR_ELx.SA/SA0); we take the architecture\'s EC 0x26', () => {
    const run = runBothWays(SP_ALIGNMENT_EL2, { maxInsns: 1_000 });
    // QEMU loads through the misaligned SP; we take the SP alignment fault: the traces part there.
    expect(exceptionSummary(run.qemuItems)).toEqual([]);
    const m = run.comparison.mismatches[0];
    expect(m?.diffs.join('\n')).toMatch(/ours: exception EC 0x26 ESR 0x9a000000 EL2->EL2/);
  });

  // Known difference, filed: with both elements of an STP unmapped, QEMU (and the access order of
  // the Arm pseudocode: element 1, then element 2) reports the first element's address in FAR;
  // our STP checks the second element before writing the first and reports its address
  // (src/cpu/exec/loadstore-pair.ts). Remove '.fails' once it is fixed.
  it('STP with both elements unmapped reports the first element in FAR, as QEMU does', () => {
    const run = runBothWays(STP_BOTH_UNMAPPED, { maxInsns: 1_000 });
    expectMatch(run);
  });
});
