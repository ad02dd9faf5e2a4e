/**
 * QEMU 7.2 differential tests of exception generation, exception return and
 * system-register access (see system-qemu-compare.ts for what is compared and
 * which QEMU deviations are tolerated).
 */
import { describe, expect, it } from 'vitest';
import { qemuAvailable } from '../helpers/qemu.js';
import { compareWithQemu } from './system-qemu-compare.js';
import { program } from './system-support.js';
import { CORTEX_A57, CORTEX_A76, type CpuModel } from '../../src/cpu/cpu-model.js';
import { SYSREG_DEFS } from '../../src/cpu/sysregs/definitions.js';
import { allSysregNames, lookupSysreg } from '../../src/isa/sysreg-names.js';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { writeExecutable } from '../../src/elf/write-executable.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BuiltImage } from '../helpers/qemu.js';

const ASM_DIR = fileURLToPath(new URL('../../asm/', import.meta.url));

/** Builds a .S harness (preprocessed, with the documents' include tree) into an image at 0x4008_0000. */
function buildHarness(source: string): BuiltImage {
  const base = 0x40080000n;
  const r = assemble(source, { file: 'harness.S', includeDirs: [ASM_DIR, `${ASM_DIR}include`] });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => d.message).join('\n'));
  const image = linkFlat(r, base);
  const entry = image.symbols.get('_start') ?? base;
  const elf = writeExecutable({ entry, segments: [{ vaddr: base, data: image.bytes, memsz: BigInt(image.bytes.length), flags: 'rwx' }] });
  return { elf, flat: image.bytes, symbols: image.symbols, entry };
}

const generic = (enc: number): string =>
  `s${enc >>> 14}_${(enc >>> 11) & 7}_c${(enc >>> 7) & 15}_c${(enc >>> 3) & 15}_${enc & 7}`;

function expectSame(name: string, src: string, model: CpuModel = CORTEX_A57) {
  // Our assembler checks features like GNU as: allow every name the programs use (the CPU decides).
  const r = compareWithQemu(`.arch armv8.2-a\n.arch_extension ssbs\n${src}`, { model });
  expect(r.mismatches, name).toEqual([]);
  expect(r.qemuStop, name).toBe('system-off');
  expect(r.ourStop, name).toBe('psci-off');
  expect(r.instructions).toBeGreaterThan(10);
  if (process.env.SHOW_QEMU_COUNTS) console.log(`${name}: ${r.instructions} instructions, ${r.exceptions} exceptions compared`);
  return r;
}

describe.runIf(qemuAvailable())('system instructions against QEMU 7.2', () => {
  it('ID and reset values of every register QEMU and we read at EL2 (cortex-a57, cortex-a76)', () => {
    // Timer counters and TVALs follow the host clock in QEMU and the instruction count here.
    const timer = new Set(['cntpct_el0', 'cntvct_el0', 'cntp_tval_el0', 'cntv_tval_el0', 'cnthp_tval_el2', 'cnthv_tval_el2']);
    const names = new Set<string>([...SYSREG_DEFS.filter((d) => d.encoding >= 0).map((d) => d.name), ...allSysregNames()]);
    const encodings = [...names]
      // *_EL12/*_EL02 are UNDEFINED at EL2 while HCR_EL2.E2H is 0; QEMU 7.2 lets EL2 read them anyway.
      .filter((n) => !timer.has(n) && !/_el3$|^icc_|^ich_|_el12$|_el02$/.test(n))
      .map((n) => lookupSysreg(n)!)
      .filter((e) => e !== undefined && e >>> 14 >= 2);
    // cortex-a57's IMPLEMENTATION DEFINED registers (RAZ/WI there, UNDEFINED on cortex-a76).
    encodings.push(...CORTEX_A57.impdefRaz!);
    // Every encoding of the reserved ID space too (RAZ in both).
    for (let crm = 1; crm <= 7; crm++) for (let op2 = 0; op2 < 8; op2++) encodings.push((3 << 14) | (crm << 3) | op2);
    const unique = [...new Set(encodings)];
    // mrs x1, <reg> for each; the EL2 handler turns UNDEFINED into a marker so both sides go on.
    let body = '';
    for (const e of unique) body += `  mov x1, #0\n  mrs x1, ${generic(e)}\n`;
    const src = `
      .globl _start
      _start:
        adr x9, vec
        msr vbar_el2, x9
      ${body}
        movz w0, #0x8400, lsl #16
        movk w0, #8
        smc #0
      .balign 0x800
      vec: .org vec + 0x200
        mrs x2, elr_el2
        add x2, x2, #4
        msr elr_el2, x2
        movn x1, #0x2152
        eret`;
    for (const model of [CORTEX_A57, CORTEX_A76]) {
      const r = compareWithQemu(src, { model, maxInsns: 20000 });
      expect(r.mismatches, model.name).toEqual([]);
      expect(r.qemuStop).toBe('system-off');
      expect(r.instructions).toBeGreaterThan(unique.length * 2);
      if (process.env.SHOW_QEMU_COUNTS) console.log(`${model.name} registers: ${unique.length} encodings, ${r.instructions} instructions, ${r.exceptions} exceptions compared`);
    }
  });

  it('EL2 → EL1 → EL0 and back with SVC, HVC, BRK, DAIF and SPSel changes', () => {
    expectSame('transitions', program({
      el2: `
        mov x1, #0x123
        msr daifclr, #0x3
        mrs x2, daif
        msr daifset, #0x2
        mrs x3, daif
        msr spsel, #0
        mov x9, #0x800
        mov sp, x9
        msr spsel, #1
        mov x9, #0x900
        mov sp, x9
        mrs x4, sp_el0
        mov x9, #0x500
        msr sp_el1, x9
        brk #0x42
        b to_el1
      el2_resume:
        mrs x5, currentel`,
      el1: `
        mrs x6, currentel
        mov sp, x9
        mrs x7, sp_el0
        msr spsel, #0
        svc #0x21
        msr spsel, #1
        brk #0x7
        mov x9, #(1 << 8)
        hvc #0x12
        movz x8, #0xf000, lsl #16
        msr nzcv, x8
        svc #0x22
        b to_el0
      el1_resume:
        mrs x8, spsel`,
      el0: `
        mov x15, #0x77
        msr nzcv, x15
        svc #0x31
        brk #0x32
        mrs x16, nzcv
        mrs x17, tpidr_el0
        mrs x18, tpidrro_el0`,
    }));
  });

  it('illegal exception returns (M[1], EL0 with M[0], HCR_EL2.RW = 0, to a higher EL, EL1 with TGE) and IL restored by a legal ERET', () => {
    const eret = (spsr: string, label: string) => `
        ${spsr}
        msr spsr_el2, x9
        adr x9, ${label}
        msr elr_el2, x9
        eret
      ${label}:
        mov x1, #1`;
    expectSame('illegal', program({
      el2: `
        ${eret('mov x9, #0x3c7', 'a')}
        ${eret('mov x9, #0x3c1', 'b')}
        mov x9, #0
        msr hcr_el2, x9
        ${eret('mov x9, #0x3c5', 'c')}
        ${eret('mov x9, #0x3c4', 'c0')}
        movz x9, #0x8800, lsl #16
        msr hcr_el2, x9
        ${eret('mov x9, #0x3c5', 'd')}
        mov x9, #(1 << 31)
        msr hcr_el2, x9
        b to_el1
      el2_resume:
        mov x2, #2`,
      el1: `
        mov x9, #0x3c9
        msr spsr_el1, x9
        adr x9, e
        msr elr_el1, x9
        eret
      e:
        movz x9, #0x10, lsl #16
        movk x9, #0x3c4
        msr spsr_el1, x9
        adr x9, f
        msr elr_el1, x9
        eret
      f:
        mov x3, #3`,
    }));
  });

  it('UNDEFINED instructions and register accesses at EL2, EL1 and EL0', () => {
    expectSame('undefined', program({
      el2: `
        udf #1
        hlt #3
        .inst 0xd4a00001          // dcps1
        .inst 0xd6bf03e0          // drps
        msr midr_el1, x1
        mrs x1, s3_2_c3_c3_3
        mrs x1, sctlr_el3
        sys #0, c1, c2, #3, x1
        .inst 0xd508811f          // tlbi vmalle1os (v8.4)
        mrs x1, oslar_el1
        b to_el1
      el2_resume:`,
      el1: `
        mrs x1, hcr_el2
        mrs x1, sp_el1
        msr spsel, #0
        mrs x2, sp_el0
        msr spsel, #1
        at s1e2r, x1
        tlbi alle2
        b to_el0`,
      el0: `
        mrs x1, sctlr_el1
        mrs x1, currentel
        msr spsel, #1
        msr tpidrro_el0, x1
        hvc #1
        smc #1
        eret
        ic iallu
        dc ivac, x1
        tlbi vmalle1`,
    }));
  });

  it('HCR_EL2 traps of EL1 register accesses and instructions (TVM, TRVM, TID1, TID2, TID3, TACR, TSW, TPCP, TPU, TTLB, TSC, TWI, HCD)', () => {
    const hcr = (bits: string, body: string) => `
        movz x9, #0x8000, lsl #16
        orr x9, x9, #${bits}
        msr hcr_el2, x9
        adr x19, 2f
        mov x10, #0x3c5
        msr spsr_el2, x10
        adr x9, 1f
        msr elr_el2, x9
        eret
      1:
        ${body}
        hvc #0xfff
      2:
        mov x9, #(1 << 31)
        msr hcr_el2, x9
      `;
    const cases = [
      ['(1 << 26)', 'msr sctlr_el1, x3\nmsr ttbr0_el1, x4\nmrs x5, sctlr_el1\nmsr contextidr_el1, x1'],
      ['(1 << 30)', 'mrs x5, sctlr_el1\nmrs x6, tcr_el1\nmrs x7, mair_el1\nmsr far_el1, x1'],
      ['(1 << 16)', 'mrs x5, revidr_el1\nmrs x6, aidr_el1'],
      ['(1 << 17)', 'mrs x5, ctr_el0\nmrs x6, ccsidr_el1\nmrs x7, clidr_el1\nmsr csselr_el1, x1'],
      ['(1 << 18)', 'mrs x5, id_aa64pfr0_el1\nmrs x6, id_aa64mmfr0_el1\nmrs x7, s3_0_c0_c3_7\nmrs x8, mvfr0_el1'],
      ['(1 << 21)', 'mrs x5, actlr_el1\nmsr actlr_el1, x1'],
      ['(1 << 22)', 'dc isw, x1\ndc csw, x1\ndc cisw, x1\ndc civac, x1'],
      ['(1 << 23)', 'dc civac, x1\ndc cvac, x1\ndc ivac, x1\ndc cvau, x1'],
      ['(1 << 24)', 'ic iallu\nic ialluis\nic ivau, x1\ndc cvau, x1'],
      ['(1 << 25)', 'tlbi vmalle1\ntlbi vae1is, x1\ntlbi aside1, x1'],
      ['(1 << 19)', 'smc #0x33\nmov x4, #4'],
      ['(1 << 13)', 'wfi\nmov x4, #4'],
    ];
    let el2 = '';
    for (const [bits, body] of cases) el2 += hcr(bits!, body!);
    // HCR_EL2.HCD makes HVC UNDEFINED (here at EL2).
    el2 += 'movz x9, #0xa000, lsl #16\nmsr hcr_el2, x9\nhvc #0x44\nmov x9, #(1 << 31)\nmsr hcr_el2, x9\n';
    expectSame('hcr traps', program({ el2 }));
  });

  it('CPTR_EL2, MDCR_EL2 and CNTHCTL_EL2 traps, and EL1 controls of EL0 accesses', () => {
    expectSame('cptr/mdcr/cnthctl', program({
      el2: `
        mov x9, #0x33ff
        orr x9, x9, #(1 << 31)
        msr cptr_el2, x9
        mov x9, #(1 << 6)
        msr mdcr_el2, x9
        mov x9, #0
        msr cnthctl_el2, x9
        b to_el1
      el2_resume:
        mov x9, #0x33ff
        orr x9, x9, #(1 << 10)
        msr cptr_el2, x9
        mrs x1, fpcr
        mov x9, #0x33ff
        msr cptr_el2, x9`,
      el1: `
        mrs x1, cpacr_el1
        mrs x2, pmcr_el0
        mrs x3, pmcntenset_el0
        mrs x4, cntp_ctl_el0
        mov x4, #0
        mrs x5, cntpct_el0
        mov x5, #0
        mrs x6, fpsr
        mrs x7, cntfrq_el0
        b to_el0
      el1_resume:
        mrs x8, mdscr_el1`,
      el0: `
        mrs x1, ctr_el0
        mrs x2, daif
        msr daifset, #1
        dc zva, x1
        dc cvau, x1
        ic ivau, x1
        mrs x3, cntvct_el0
        mrs x4, cntfrq_el0
        mrs x5, pmuserenr_el0
        mrs x6, fpcr
        mrs x7, dczid_el0`,
    }));
  });

  it('HCR_EL2.TGE and MDCR_EL2.TDE routing from EL0/EL1, events, barriers, DC ZVA, SP banking', () => {
    expectSame('routing', program({
      el2: `
        adr x1, buf
        mov x2, #-1
        str x2, [x1]
        str x2, [x1, #64]
        dc zva, x1
        ldr x3, [x1]
        ldr x4, [x1, #64]
        dc civac, x1
        dc cvau, x1
        ic ivau, x1
        dsb sy
        isb
        clrex
        sevl
        wfe
        sev
        wfe
        yield
        mov x9, #(1 << 8)
        msr mdcr_el2, x9
        b to_el1
      el2_resume:
        msr mdcr_el2, xzr
        // EL0 under HCR_EL2.TGE: its exceptions go to EL2.
        movz x9, #0x8800, lsl #16
        msr hcr_el2, x9
        adr x19, 3f
        mov x9, #0x3c0
        msr spsr_el2, x9
        adr x9, 2f
        msr elr_el2, x9
        eret
      2:
        svc #0x61
        brk #0x62
        udf #0x63
        mrs x5, sctlr_el1
        mrs x6, ctr_el0
        mrs x7, fpcr              // CPACR_EL1.FPEN trap, routed to EL2 as EC 0x00
        msr daifset, #2
        svc #0xfff
      3:
        mov x9, #(1 << 31)
        msr hcr_el2, x9
        b 4f
      .balign 64
      buf: .fill 128, 1, 0x5a
      4:`,
      el1: `
        brk #0x51
        mov x9, #0x1000
        msr sp_el0, x9
        msr spsel, #0
        add sp, sp, #0x10
        mov x7, sp
        msr spsel, #1
        mrs x8, sp_el0
        b to_el0
      el1_resume:`,
      el0: `
        brk #0x71
        mov x1, #1`,
    }));
  });

  it('PMU registers at EL2: SET/CLR pairs, PMCR, PMSELR-selected PMXEV* registers, OS lock', () => {
    expectSame('pmu', program({
      el2: `
        mov x1, #0x5
        msr pmcntenset_el0, x1
        mov x1, #0x6
        msr pmintenset_el1, x1
        mov x1, #0x4
        msr pmcntenclr_el0, x1
        msr pmintenclr_el1, x1
        mrs x2, pmcntenset_el0
        mrs x3, pmcntenclr_el0
        mrs x4, pmintenset_el1
        mov x9, #2
        msr pmselr_el0, x9
        mov x1, #0x11
        msr pmxevtyper_el0, x1
        mrs x5, pmevtyper2_el0
        mrs x6, pmxevtyper_el0
        mov x1, #0x79
        msr pmcr_el0, x1
        mrs x7, pmcr_el0
        mrs x8, pmceid0_el0
        mov x1, #1
        msr oslar_el1, x1
        mrs x10, oslsr_el1
        msr oslar_el1, xzr
        mrs x11, oslsr_el1
        mov x1, #0
        msr pmcr_el0, x1`,
    }));
  });

  it('virtualized MIDR/MPIDR at EL1, CCSIDR by CSSELR, DCZID_EL0.DZP, CurrentEL/SPSel/DAIF at each EL', () => {
    expectSame('identification at EL1', program({
      el2: `
        movz x9, #0x4100, lsl #16
        movk x9, #0xd034
        msr vpidr_el2, x9
        movz x9, #0x8000, lsl #16     // bit 31 is RES1 (QEMU stores it as written)
        movk x9, #0x103
        msr vmpidr_el2, x9
        mrs x1, midr_el1
        mrs x2, mpidr_el1
        mov x9, #(1 << 28)             // HCR_EL2.TDZ: DC ZVA prohibited at EL1
        orr x9, x9, #(1 << 31)
        msr hcr_el2, x9
        b to_el1
      el2_resume:
        mov x9, #(1 << 31)
        msr hcr_el2, x9`,
      el1: `
        mrs x3, midr_el1
        mrs x4, mpidr_el1
        mov x9, #1
        msr csselr_el1, x9
        mrs x5, ccsidr_el1
        mrs x6, dczid_el0
        mrs x7, currentel
        mrs x8, spsel
        mrs x15, daif
        b to_el0
      el1_resume:`,
      el0: `
        mrs x16, dczid_el0
        mrs x17, nzcv`,
    }));
  });

  it('PAN, UAO and SSBS on cortex-a76 (PSTATE forms, exception entry, SPSR)', () => {
    expectSame('a76 pstate', program({
      el2: 'b to_el1',
      el1: `
        msr pan, #1
        mrs x1, pan
        msr uao, #1
        mrs x2, uao
        msr ssbs, #1
        mrs x3, ssbs
        svc #1
        mrs x4, pan
        mrs x9, sctlr_el1
        bic x9, x9, #(1 << 23)
        msr sctlr_el1, x9
        msr pan, #0
        svc #2
        mrs x5, pan
        hvc #3`,
    }), CORTEX_A76);
  });

  it("the documents' init_kernel_el (head.S) from EL2: init_el2_state, the hypervisor stub vectors, ERET to EL1", () => {
    const harness = `
      .text
      .globl _start
      _start:
        mov x0, #0
        bl init_kernel_el
        mov x20, x0
        mrs x21, currentel
        mrs x22, sctlr_el1
        mrs x23, daif
        hvc #0                        // into the stub vectors at EL2
        movz w0, #0x8400, lsl #16
        movk w0, #8
        smc #0
      dcache_clean_poc:
        ret
      __hyp_idmap_text_start:
      __hyp_text_end:
      .balign 2048
      __hyp_stub_vectors:
        .rept 16
        .balign 128
        mrs x24, esr_el2
        mrs x25, hcr_el2
        mrs x26, mdcr_el2
        mrs x27, cptr_el2
        mrs x28, cnthctl_el2
        mrs x29, vttbr_el2
        eret
        .endr
      #include "head-init-kernel-el.S"
    `;
    const r = compareWithQemu(buildHarness(harness), { model: CORTEX_A57 });
    if (process.env.SHOW_QEMU_COUNTS) console.log(`init_kernel_el: ${r.instructions} instructions, ${r.exceptions} exceptions compared`);
    expect(r.mismatches).toEqual([]);
    expect(r.qemuStop).toBe('system-off');
    expect(r.ourStop).toBe('psci-off');
  });
});
