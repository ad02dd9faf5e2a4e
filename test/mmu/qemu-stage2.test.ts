/**
 * Differential test against QEMU 7.2 (cortex-a57, virtualization=on): EL2
 * sets up a stage 2 (40-bit IPA from level 1 with two concatenated tables)
 * and an EL1 stage 1 (39-bit VA), tables as data in the image, and drops to
 * EL1, which then takes: stage-2 permission, translation and access-flag
 * data aborts to EL2 (with ISV and the instruction syndrome, HPFAR_EL2), a
 * stage-1 translation fault to EL1, a stage-2 fault on its stage-1 walk
 * (S1PTW), a stage-2 execute-never instruction abort; runs AT S1E1R/W and
 * S1E0R at EL1 (one of them faulting on the walk into EL2, CM = 1), asks EL2
 * (HVC) for AT S12E1R/W, and sees a stale combined translation until EL2
 * issues TLBI IPAS2E1IS + VMALLE1IS. The handlers copy ESR, FAR, HPFAR and
 * PAR into X registers, so all of them are compared instruction by
 * instruction.
 */
import { describe, expect, it } from 'vitest';
import { CORTEX_A57 } from '../../src/cpu/cpu-model.js';
import { qemuAvailable, PSCI_SYSTEM_OFF_ASM } from '../helpers/qemu.js';
import { compareMmuProgram } from './qemu-compare.js';

export const STAGE2_PROGRAM = `
_start:
  adr x0, el2_vectors
  msr vbar_el2, x0
  // Stage 2 leaves the page holding s1_l3x unmapped (for the S1PTW fault).
  adr x0, s1_l3x
  ubfx x1, x0, #12, #9
  adr x2, s2_l3
  str xzr, [x2, x1, lsl #3]
  ldr x0, =0x80043558           // VTCR_EL2: T0SZ 24, SL0 1 (level 1), WB inner shareable walks, 4 KiB, PS 44 bits
  msr vtcr_el2, x0
  adr x0, s2_l1
  msr vttbr_el2, x0
  ldr x0, =0x80000001           // HCR_EL2: RW, VM
  msr hcr_el2, x0
  mov x0, #0xff
  msr mair_el1, x0
  ldr x0, =0x280803519          // TCR_EL1: T0SZ 25, EPD1, 4 KiB, IPS 40 bits
  msr tcr_el1, x0
  adr x0, s1_l1
  msr ttbr0_el1, x0
  adr x0, el1_vectors
  msr vbar_el1, x0
  ldr x0, =0x30d00801           // SCTLR_EL1: RES1 bits and M
  msr sctlr_el1, x0
  tlbi alle1
  dsb ish
  isb
  mov x0, #0x3c5
  msr spsr_el2, x0
  adr x0, el1_code
  msr elr_el2, x0
  eret

el1_code:
  movz x1, #0x4020, lsl #16     // VA = IPA 0x4020_0000: data_a
  ldr x2, [x1]
  add x3, x1, #0x1000           // read-only at stage 2
  ldr x4, [x3]
  str x4, [x3]                  // stage-2 permission fault (ISV, WnR)
  add x5, x1, #0x2000
  ldr w6, [x5]                  // stage-2 translation fault, level 3 (ISV, SAS 2, SF 0)
  add x5, x1, #0x4000
  ldrb w6, [x5, #1]             // stage-2 access flag fault
  add x5, x1, #0x7000
  ldr x6, [x5]                  // stage-1 translation fault: to EL1
  movz x5, #0x8000, lsl #16
  ldr x6, [x5]                  // stage-2 fault on the stage-1 walk (S1PTW)
  add x7, x1, #0x3000
  blr x7                        // stage-2 execute-never: instruction abort to EL2
  add x7, x1, #0x5000
  blr x7                        // the same code, executable
  at s1e1r, x1
  isb
  mrs x8, par_el1
  at s1e1w, x5                  // its walk faults at stage 2: a Data Abort to EL2 with CM = 1
  isb
  mrs x9, par_el1
  add x10, x1, #0x7000
  at s1e0r, x10                 // stage-1 translation fault, in PAR_EL1
  isb
  mrs x10, par_el1
  mov x0, #1
  hvc #0                        // EL2: AT S12E1R x1 -> x26, AT S12E1W x3 -> x27
  add x11, x1, #0x6000
  ldr x12, [x11]                // data_d (now cached)
  mov x0, #2
  hvc #0                        // EL2 remaps IPA 0x4020_6000 to data_e, without TLBI
  ldr x13, [x11]                // stale: data_d
  mov x0, #3
  hvc #0                        // EL2: TLBI IPAS2E1IS, TLBI VMALLE1IS
  ldr x14, [x11]                // data_e
${PSCI_SYSTEM_OFF_ASM}

  .balign 2048
el2_vectors:
  .skip 0x400
  // Lower EL (AArch64), synchronous.
  mrs x20, esr_el2
  mrs x21, far_el2
  mrs x22, hpfar_el2
  lsr x23, x20, #26
  cmp x23, #0x16
  b.eq hvc_service
  cmp x23, #0x20
  b.eq 1f
  mrs x23, elr_el2
  add x23, x23, #4
  msr elr_el2, x23
  eret
1:
  msr elr_el2, x30
  eret
hvc_service:
  cmp x0, #1
  b.ne 2f
  at s12e1r, x1
  isb
  mrs x26, par_el1
  at s12e1w, x3
  isb
  mrs x27, par_el1
  eret
2:
  cmp x0, #2
  b.ne 3f
  adr x28, s2_l3t
  adr x29, data_e
  add x29, x29, #0x7ff
  str x29, [x28, #48]
  dsb ishst
  eret
3:
  movz x28, #0x4, lsl #16
  movk x28, #0x0206             // IPA 0x4020_6000 >> 12
  tlbi ipas2e1is, x28
  dsb ish
  tlbi vmalle1is
  dsb ish
  isb
  eret

  .balign 2048
el1_vectors:
  .skip 0x200
  // Current EL with SP_ELx, synchronous: record ESR and FAR, skip the instruction.
  mrs x24, esr_el1
  mrs x25, far_el1
  mrs x23, elr_el1
  add x23, x23, #4
  msr elr_el1, x23
  eret

  .balign 8192
s2_l1:                          // two concatenated level-1 tables (IPA bits [39:30])
  .quad 0
  .quad s2_l2 + 3               // IPA 0x4000_0000
  .fill 1022, 8, 0
s2_l2:
  .quad s2_l3 + 3               // IPA 0x4000_0000-0x401f_ffff, 4 KiB pages
  .quad s2_l3t + 3              // IPA 0x4020_0000: the test pages
  .fill 510, 8, 0
s2_l3:                          // identity, Normal WB, read/write
  .set page, 0x40000000
  .rept 512
  .quad page + 0x7ff
  .set page, page + 0x1000
  .endr
s2_l3t:
  .quad data_a + 0x7ff
  .quad data_b + 0x77f          // S2AP = 01: read-only
  .quad 0
  .quad xn_page + 0x7ff + (1 << 54)
  .quad data_c + 0x3ff          // AF = 0
  .quad xn_page + 0x7ff
  .quad data_d + 0x7ff
  .fill 505, 8, 0
s1_l1:
  .quad 0
  .quad s1_l2 + 3               // VA 0x4000_0000
  .quad s1_l2x + 3              // VA 0x8000_0000: its level-3 table is not mapped at stage 2
  .fill 509, 8, 0
s1_l2:
  .quad 0x40000000 + 0x701      // identity 2 MiB block (the image)
  .quad s1_l3t + 3
  .fill 510, 8, 0
s1_l3t:                         // VA 0x4020_0000 + n * 4 KiB = IPA, n = 0..6; 7 invalid
  .quad 0x40200703
  .quad 0x40201703
  .quad 0x40202703
  .quad 0x40203703
  .quad 0x40204703
  .quad 0x40205703
  .quad 0x40206703
  .fill 505, 8, 0
s1_l2x:
  .quad s1_l3x + 3
  .fill 511, 8, 0
s1_l3x:
  .quad 0x40200703
  .fill 511, 8, 0
data_a:
  .quad 0xaaaaaaaaaaaaaaaa
  .balign 4096
data_b:
  .quad 0xbbbbbbbbbbbbbbbb
  .balign 4096
data_c:
  .quad 0xcccccccccccccccc
  .balign 4096
data_d:
  .quad 0xdddddddddddddddd
  .balign 4096
data_e:
  .quad 0xeeeeeeeeeeeeeeee
  .balign 4096
xn_page:
  ret
  .balign 4096
`;

describe.runIf(qemuAvailable())('EL1 under stage 2 against QEMU 7.2', () => {
  it('matches QEMU instruction by instruction: stage-2 and stage-1 faults, S1PTW, AT, HPFAR, stale entries and TLBI', () => {
    const r = compareMmuProgram(STAGE2_PROGRAM, CORTEX_A57);
    expect(r.mismatches).toEqual([]);
    expect(r.qemuStop).toBe('system-off');
    expect(r.ourStop).toBe('psci-off');
    expect(r.isvTolerated).toBe(0);
    expect(r.exceptions).toBe(10);
    expect(r.finalX[12]).toBe(0xddddddddddddddddn);
    expect(r.finalX[13]).toBe(0xddddddddddddddddn);
    expect(r.finalX[14]).toBe(0xeeeeeeeeeeeeeeeen);
  });
});
