/**
 * Differential test against QEMU 7.2 (cortex-a57, virtualization=on): a
 * program at EL2 turns on its stage-1 MMU (4 KiB granule, 39-bit VA from
 * level 1, tables as data in the image), reads and writes mapped pages and a
 * 2 MiB block, takes permission, translation (levels 0, 1, 3), access-flag
 * and address-size data aborts and an execute-never instruction abort, runs
 * AT S1E2R/W, and shows a stale translation before TLBI VAE2IS and the new
 * one after, for data and for code (fetch goes through the TLB; decoded
 * instructions are keyed by physical address). Every instruction's registers (including the ESR/FAR/PAR values
 * the program copies into X registers) and every exception entry must match.
 */
import { describe, expect, it } from 'vitest';
import { CORTEX_A57, CORTEX_A76 } from '../../src/cpu/cpu-model.js';
import { qemuAvailable, PSCI_SYSTEM_OFF_ASM } from '../helpers/qemu.js';
import { compareMmuProgram } from './qemu-compare.js';

export const EL2_PROGRAM = `
_start:
  adr x0, vectors
  msr vbar_el2, x0
  mov x0, #0xff                 // MAIR: attr0 Normal WB, attr1 Device-nGnRnE
  msr mair_el2, x0
  ldr x0, =0x80843519           // TCR_EL2: T0SZ 25, WB/WB inner shareable walks, 4 KiB, PS 44 bits
  msr tcr_el2, x0
  adr x0, s1_l1
  msr ttbr0_el2, x0
  isb
  mrs x0, sctlr_el2
  orr x0, x0, #1
  msr sctlr_el2, x0
  isb
  // A read/write page.
  movz x1, #0x8000, lsl #16
  ldr x2, [x1]
  add x2, x2, #1
  str x2, [x1, #8]
  ldr x3, [x1, #8]
  // Read-only: the read works, the write is a permission fault at level 3.
  add x4, x1, #0x1000
  ldr x5, [x4]
  str x5, [x4]
  // Invalid page (translation, level 3); access flag clear; output address beyond 44 bits (address size, level 3).
  add x6, x1, #0x2000
  ldr x7, [x6]
  add x6, x1, #0x3000
  ldr x7, [x6]
  add x6, x1, #0x6000
  ldr x7, [x6]
  // No level-1 entry (translation, level 1); beyond the 39-bit input range (translation, level 0).
  movz x6, #0xc000, lsl #16
  str x7, [x6]
  movz x6, #0x80, lsl #32
  ldr x7, [x6]
  // A 2 MiB block.
  movz x8, #0x8020, lsl #16
  ldr x9, [x8, #16]
  // Execute-never: an instruction abort; the executable alias of the same page runs.
  add x10, x1, #0x5000
  blr x10
  add x10, x1, #0x7000
  blr x10
  // AT S1E2R/W: success and fault formats in PAR_EL1.
  at s1e2r, x1
  isb
  mrs x11, par_el1
  at s1e2w, x4
  isb
  mrs x12, par_el1
  add x13, x1, #0x2000
  at s1e2r, x13
  isb
  mrs x13, par_el1
  at s1e2r, x8
  isb
  mrs x14, par_el1
  add x15, x1, #0x4000
  at s1e2w, x15
  isb
  mrs x15, par_el1
  // Remap VA 0x8000_0000 without TLBI: the cached translation is still used; after TLBI VAE2IS the new one.
  adr x15, s1_l3b
  adr x16, data_c
  add x16, x16, #0x703
  str x16, [x15]
  dsb ishst
  ldr x17, [x1]
  lsr x18, x1, #12
  tlbi vae2is, x18
  dsb ish
  isb
  ldr x18, [x1]
  // And back with TLBI ALLE2.
  adr x16, data_a
  add x16, x16, #0x703
  str x16, [x15]
  dsb ishst
  tlbi alle2
  dsb ish
  isb
  ldr x19, [x1]
  // Code: remap the executable page at VA 0x8000_7000 to other code. The cached translation
  // still runs the old code; after TLBI VALE2IS the new code runs.
  add x10, x1, #0x7000
  blr x10                       // caches the translation of the code page
  adr x16, code_b
  add x16, x16, #0x703
  str x16, [x15, #56]
  dsb ishst
  blr x10
  mov x27, x28
  lsr x16, x10, #12
  tlbi vale2is, x16
  dsb ish
  isb
  blr x10
  mov x26, x28
${PSCI_SYSTEM_OFF_ASM}

  .balign 2048
vectors:
  .skip 0x200
  // Current EL with SP_ELx, synchronous: record ESR and FAR, skip the faulting instruction
  // (or return to the caller for an instruction abort).
  mrs x20, esr_el2
  mrs x21, far_el2
  lsr x23, x20, #26
  cmp x23, #0x21
  b.eq 1f
  mrs x22, elr_el2
  add x22, x22, #4
  msr elr_el2, x22
  eret
1:
  msr elr_el2, x30
  eret

  .balign 4096
s1_l1:                          // level 1: VA 0x4000_0000 and 0x8000_0000 (1 GiB each)
  .quad 0
  .quad s1_l2 + 3
  .quad s1_l2b + 3
  .fill 509, 8, 0
s1_l2:                          // identity 2 MiB blocks for the image
  .quad 0x40000000 + 0x701
  .quad 0x40200000 + 0x701
  .fill 510, 8, 0
s1_l2b:
  .quad s1_l3b + 3
  .quad 0x40400000 + 0x701      // VA 0x8020_0000: a 2 MiB block
  .fill 510, 8, 0
s1_l3b:
  .quad data_a + 0x703          // RW
  .quad data_b + 0x783          // AP = 10: read-only
  .quad 0                       // invalid
  .quad data_c + 0x303          // AF = 0
  .quad data_c + 0x703 + (1 << 54)
  .quad xn_page + 0x703 + (1 << 54)   // XN
  .quad 0x100000000000 + 0x703  // PA 2^44: beyond PS
  .quad xn_page + 0x703         // executable alias
  .fill 504, 8, 0
data_a:
  .quad 0x1111111111111111
  .balign 4096
data_b:
  .quad 0x2222222222222222
  .balign 4096
data_c:
  .quad 0x3333333333333333
  .balign 4096
xn_page:
  mov x28, #0xa
  ret
  .balign 4096
code_b:
  mov x28, #0xb
  ret
  .balign 4096
`;

/**
 * 16 KiB granule (cortex-a76): 36-bit VA from level 2 (2048-entry table),
 * a 32 MiB block for the image, 16 KiB pages, a permission and a
 * translation fault, AT.
 */
export const GRANULE_16K_PROGRAM = `
_start:
  adr x0, vectors
  msr vbar_el2, x0
  mov x0, #0xff
  msr mair_el2, x0
  ldr x0, =0x8082b51c           // TCR_EL2: T0SZ 28, 16 KiB granule, PS 40 bits
  msr tcr_el2, x0
  adr x0, t_l2
  msr ttbr0_el2, x0
  isb
  mrs x0, sctlr_el2
  orr x0, x0, #1
  msr sctlr_el2, x0
  isb
  movz x1, #0x4200, lsl #16
  ldr x2, [x1]
  str x2, [x1, #8]
  add x3, x1, #0x4000
  ldr x4, [x3, #16]
  str x4, [x3]
  add x5, x1, #0x8000
  ldr x6, [x5]
  at s1e2r, x1
  isb
  mrs x7, par_el1
  at s1e2w, x3
  isb
  mrs x8, par_el1
${PSCI_SYSTEM_OFF_ASM}

  .balign 2048
vectors:
  .skip 0x200
  mrs x20, esr_el2
  mrs x21, far_el2
  mrs x22, elr_el2
  add x22, x22, #4
  msr elr_el2, x22
  eret

  .balign 16384
t_l2:                           // level 2: 32 MiB per entry
  .fill 32, 8, 0
  .quad 0x40000000 + 0x701      // VA 0x4000_0000: 32 MiB block (the image)
  .quad t_l3 + 3                // VA 0x4200_0000: 16 KiB pages
  .fill 2014, 8, 0
t_l3:
  .quad page_a + 0x703
  .quad page_b + 0x783          // read-only
  .fill 2046, 8, 0
page_a:
  .quad 0x1616161616161616
  .balign 16384
page_b:
  .quad 0, 0, 0x6161616161616161
  .balign 16384
`;

describe.runIf(qemuAvailable())('EL2 stage 1 against QEMU 7.2', () => {
  it('16 KiB granule on cortex-a76 matches QEMU', () => {
    const r = compareMmuProgram(GRANULE_16K_PROGRAM, CORTEX_A76);
    expect(r.mismatches).toEqual([]);
    expect(r.qemuStop).toBe('system-off');
    expect(r.exceptions).toBe(2);
    expect(r.finalX[4]).toBe(0x6161616161616161n);
  });

  it('matches QEMU instruction by instruction, with the faults, PAR values and TLBI', () => {
    const r = compareMmuProgram(EL2_PROGRAM, CORTEX_A57);
    expect(r.mismatches).toEqual([]);
    expect(r.qemuStop).toBe('system-off');
    expect(r.ourStop).toBe('psci-off');
    expect(r.exceptions).toBe(7);
    expect(r.isvTolerated).toBe(6); // QEMU sets ISV on the six stage-1 data aborts at EL2
    // The stale read (X17) still saw data_a, the read after TLBI (X18) data_c.
    expect(r.finalX[17]).toBe(0x1111111111111111n);
    expect(r.finalX[18]).toBe(0x3333333333333333n);
    expect(r.finalX[19]).toBe(0x1111111111111111n);
    // Remapped code: the stale translation ran the old code, the new one the new code.
    expect(r.finalX[27]).toBe(0xan);
    expect(r.finalX[26]).toBe(0xbn);
  });
});
