/**
 * Differential test against QEMU 7.2 (cortex-a57, virtualization=on) for the
 * EL1&0 regime without stage 2: TTBR0 with 4 KiB pages (39-bit VA) and
 * TTBR1 with 64 KiB pages and a 512 MiB block (42-bit VA), 16-bit ASIDs and
 * non-global pages, a fault in the gap between the ranges, stale entries
 * shown before and gone after TLBI VAE1IS / ASIDE1IS / VAAE1IS / VMALLE1IS
 * issued at EL1, UXN and PXN instruction aborts at EL1 and EL0, EL0
 * permission faults, AT S1E0R/W, and SVC back to EL1.
 *
 * (QEMU keeps no ASID tags and flushes more than the architecture requires,
 * so this program only shows stale entries that both must still hold, and
 * invalidations both must perform; what must survive a TLBI is covered by
 * the unit tests.)
 */
import { describe, expect, it } from 'vitest';
import { CORTEX_A57 } from '../../src/cpu/cpu-model.js';
import { qemuAvailable, PSCI_SYSTEM_OFF_ASM } from '../helpers/qemu.js';
import { compareMmuProgram } from './qemu-compare.js';

export const EL1_PROGRAM = `
_start:
  ldr x0, =0x80000000           // HCR_EL2.RW
  msr hcr_el2, x0
  mov x0, #0xff
  msr mair_el1, x0
  ldr x0, =0x12f5163519         // TCR_EL1: T0SZ 25 (4 KiB), T1SZ 22 (64 KiB), AS (16-bit ASIDs), IPS 40 bits
  msr tcr_el1, x0
  adr x0, s1_l1
  movk x0, #5, lsl #48          // ASID 5
  msr ttbr0_el1, x0
  adr x0, t1_l2
  msr ttbr1_el1, x0
  adr x0, el1_vectors
  msr vbar_el1, x0
  ldr x0, =0x30d00801
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
  // TTBR1: a 64 KiB page, and the image through a 512 MiB block.
  movz x1, #0xfc00, lsl #32
  movk x1, #0xffff, lsl #48
  ldr x2, [x1, #8]
  movz x3, #0x2008, lsl #16
  add x3, x1, x3
  ldr w4, [x3]
  // Between the ranges: translation fault, level 0.
  movz x5, #0xf000, lsl #32
  movk x5, #0xffff, lsl #48
  ldr x6, [x5]
  // A non-global page of ASID 5: stale after a remap, new after TLBI VAE1IS with ASID 5.
  movz x7, #0x4020, lsl #16
  ldr x8, [x7]
  adr x9, s1_l3
  adr x10, data_d
  add x10, x10, #0xf03
  str x10, [x9]
  dsb ishst
  ldr x11, [x7]
  lsr x12, x7, #12
  movk x12, #5, lsl #48
  tlbi vae1is, x12
  dsb ish
  isb
  ldr x11, [x7]
  // Back, with TLBI ASIDE1IS.
  adr x10, data_a
  add x10, x10, #0xf03
  str x10, [x9]
  dsb ishst
  ldr x13, [x7]
  movz x12, #5, lsl #48
  tlbi aside1is, x12
  dsb ish
  isb
  ldr x13, [x7]
  // A global page: TLBI VAAE1IS, then TLBI VALE1IS, then TLBI VMALLE1IS.
  add x14, x7, #0x4000
  ldr x15, [x14]
  adr x10, data_b
  add x10, x10, #0x703
  str x10, [x9, #32]
  dsb ishst
  ldr x16, [x14]
  lsr x12, x14, #12
  tlbi vaae1is, x12
  dsb ish
  isb
  ldr x16, [x14]
  adr x10, data_c
  add x10, x10, #0x703
  str x10, [x9, #32]
  dsb ishst
  tlbi vale1is, x12
  dsb ish
  isb
  ldr x17, [x14]
  adr x10, data_d
  add x10, x10, #0x703
  str x10, [x9, #32]
  dsb ishst
  tlbi vmalle1is
  dsb ish
  isb
  ldr x17, [x14]
  // UXN page: EL1 may execute it; PXN page: EL1 may not.
  add x18, x7, #0x2000
  blr x18
  add x18, x7, #0x3000
  blr x18
  // AT for EL0: no EL0 access to an AP = 00 page; EL0 may write an AP = 01 page.
  at s1e0r, x7
  isb
  mrs x19, par_el1
  add x18, x7, #0x1000
  at s1e0w, x18
  isb
  mrs x20, par_el1
  // To EL0.
  adr x0, el0_code
  msr elr_el1, x0
  msr spsr_el1, xzr
  eret
el0_code:
  add x18, x7, #0x1000
  ldr x21, [x18]
  str x21, [x18, #8]
  ldr x22, [x7]                 // AP = 00: permission fault, to EL1
  add x18, x7, #0x3000
  blr x18                       // PXN page: EL0 may execute it
  add x18, x7, #0x2000
  blr x18                       // UXN: instruction abort to EL1
  svc #0
el1_after:
${PSCI_SYSTEM_OFF_ASM}

  .balign 2048
el1_vectors:
  .skip 0x200
  // Current EL with SP_ELx: record, then skip the instruction (instruction aborts return to the caller).
  mrs x24, esr_el1
  mrs x25, far_el1
  lsr x26, x24, #26
  cmp x26, #0x21
  b.eq 1f
  mrs x26, elr_el1
  add x26, x26, #4
  msr elr_el1, x26
  eret
1:
  msr elr_el1, x30
  eret
  .balign 0x200
  // Lower EL (AArch64), synchronous.
  mrs x24, esr_el1
  mrs x25, far_el1
  lsr x26, x24, #26
  cmp x26, #0x15
  b.eq 2f
  cmp x26, #0x20
  b.eq 1b
  mrs x26, elr_el1
  add x26, x26, #4
  msr elr_el1, x26
  eret
2:
  adr x26, el1_after
  msr elr_el1, x26
  mov x26, #0x3c5
  msr spsr_el1, x26
  eret

  .balign 4096
s1_l1:
  .quad 0
  .quad s1_l2 + 3
  .fill 510, 8, 0
s1_l2:
  .quad 0x40000000 + 0x701      // the image: a 2 MiB block, EL1 read/write
  .quad s1_l3 + 3
  .fill 510, 8, 0
s1_l3:                          // VA 0x4020_0000 + n * 4 KiB
  .quad data_a + 0xf03          // nG, EL1 read/write
  .quad data_b + 0xf43          // nG, AP = 01: EL0 read/write
  .quad ret_page + 0x7c3 + (1 << 54)   // AP = 11, UXN
  .quad ret_page + 0x7c3 + (1 << 53)   // AP = 11, PXN
  .quad data_c + 0x703          // global
  .fill 507, 8, 0
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
ret_page:
  ret
  .balign 65536
t1_l2:                          // TTBR1, 64 KiB granule, level 2 (VA bits [41:29])
  .quad t1_l3 + 3
  .quad 0x40000000 + 0x701      // a 512 MiB block
  .fill 8190, 8, 0
t1_l3:
  .quad data64 + 0x703
  .fill 8191, 8, 0
data64:
  .quad 0x6464646464646464, 0x4646464646464646
  .balign 65536
`;

describe.runIf(qemuAvailable())('EL1&0 regime against QEMU 7.2', () => {
  it('matches QEMU instruction by instruction: TTBR1 64 KiB pages, ASIDs and EL1 TLBIs, UXN/PXN, EL0', () => {
    const r = compareMmuProgram(EL1_PROGRAM, CORTEX_A57);
    expect(r.mismatches).toEqual([]);
    expect(r.qemuStop).toBe('system-off');
    expect(r.ourStop).toBe('psci-off');
    expect(r.exceptions).toBe(5);
    expect(r.finalX[2]).toBe(0x4646464646464646n);
    expect(r.finalX[11]).toBe(0xddddddddddddddddn);
    expect(r.finalX[13]).toBe(0xaaaaaaaaaaaaaaaan);
    expect(r.finalX[16]).toBe(0xbbbbbbbbbbbbbbbbn);
    expect(r.finalX[17]).toBe(0xddddddddddddddddn);
  });
});
