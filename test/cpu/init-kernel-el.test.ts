/**
 * `init_kernel_el` from asm/head-init-kernel-el.S (the documents' head.S
 * routine), assembled by our assembler with -I asm/include and linked with a
 * small harness, run from EL2 (issue 3, verification):
 *
 *   - on our interpreter it reaches EL1h at the label its ERET targets (the
 *     harness's return address), with SCTLR_EL1, HCR_EL2, SPSR_EL2, ELR_EL2,
 *     SCTLR_EL2, VBAR_EL2 and the other EL2 registers init_el2_state writes
 *     as the code sets them (the constants are taken from asm/include by
 *     assembling them, then passed through the CPU model's RES0/RES1 masks),
 *     and w0 = BOOT_CPU_MODE_EL2;
 *   - the same image under QEMU 7.2 gives the same per-instruction trace
 *     (PC, X0-X30, SP, NZCV, EL, SPSel) and the same exception entries.
 *
 * Both entry paths run: x0 = 0 (booted with the MMU off) and x0 = 1 (the
 * primary path with the MMU on: dcache_clean_poc over the hypervisor text,
 * then SCTLR_EL2 reset).
 *
 * The harness provides the routine's external symbols: __hyp_idmap_text_start
 * and __hyp_text_end (around a dummy hypervisor text), dcache_clean_poc (a
 * stub that records its arguments and returns) and __hyp_stub_vectors (a
 * vector table whose lower-EL synchronous entry copies the EL2 state into
 * X20-X28, so that QEMU's trace shows it too, and powers off). At the ERET
 * target, EL1 code copies its own view (w0, CurrentEL, SCTLR_EL1, DAIF) into
 * X15-X19 and calls `hvc #0` into the stub vectors.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { formatDiagnostic } from '../../src/common/diagnostics.js';
import { writeExecutable } from '../../src/elf/write-executable.js';
import { Emulator } from '../../src/machine/emulator.js';
import { sysregId } from '../../src/cpu/sysregs/system-registers.js';
import type { BuiltImage } from '../helpers/qemu.js';
import { requireOracle } from '../helpers/oracle.js';
import { exceptionSummary, IMAGE_BASE, runImageBothWays } from './differential/differential.js';

const ASM_DIR = fileURLToPath(new URL('../../asm/', import.meta.url));
const INCLUDE_DIRS = [ASM_DIR, `${ASM_DIR}include`];

/** Assembles a .S source with the documents' include tree and links it at IMAGE_BASE. */
function buildS(source: string, file = 'harness.S'): BuiltImage {
  const r = assemble(source, { file, includeDirs: INCLUDE_DIRS });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`assembly failed:\n${errors.map(formatDiagnostic).join('\n')}`);
  const image = linkFlat(r, IMAGE_BASE);
  const entry = image.symbols.get('_start') ?? IMAGE_BASE;
  const elf = writeExecutable({
    entry,
    segments: [{ vaddr: IMAGE_BASE, data: image.bytes, memsz: BigInt(image.bytes.length), flags: 'rwx' }],
    symbols: [...image.symbols].map(([name, value]) => ({ name, value, size: 0n, type: 'notype' as const })),
  });
  return { elf, flat: image.bytes, symbols: image.symbols, entry };
}

/** The values of preprocessor constants from asm/include, by assembling `.quad NAME` for each. */
function headerConstants<T extends string>(names: readonly T[]): Record<T, bigint> {
  const source = [
    '#include <asm/kvm_arm.h>',
    '#include <asm/ptrace.h>',
    '#include <asm/sysreg.h>',
    '#include <asm/virt.h>',
    '.data',
    ...names.map((n) => `.quad ${n}`),
  ].join('\n');
  const r = assemble(source, { file: 'constants.S', includeDirs: INCLUDE_DIRS });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const data = linkFlat(r, 0n).bytes;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = {} as Record<T, bigint>;
  names.forEach((n, i) => (out[n] = view.getBigUint64(8 * i, true)));
  return out;
}

const C = headerConstants([
  'INIT_SCTLR_EL1_MMU_OFF', 'INIT_SCTLR_EL2_MMU_OFF', 'HCR_HOST_NVHE_FLAGS', 'INIT_PSTATE_EL1',
  'BOOT_CPU_MODE_EL2', 'HCR_RW', 'HCR_E2H',
] as const);

function harness(bootWithMmu: 0 | 1): string {
  return `
	.text
	.globl	_start
_start:
	adr	x0, boot_stack_top
	mov	sp, x0
	mov	x0, #${bootWithMmu}
	bl	init_kernel_el
	// init_kernel_el returns here by ERET, at EL1h
el1_entry:
	mov	x19, x0				// boot mode
	mrs	x18, CurrentEL
	mrs	x17, sctlr_el1
	mrs	x16, daif
	mov	x15, sp
	hvc	#0				// into __hyp_stub_vectors
	b	.

	// dcache_clean_poc(start, end): records its arguments
dcache_clean_poc:
	mov	x10, x0
	mov	x11, x1
	ret

	// A hypervisor text for the clean to cover
	.balign	4096
__hyp_idmap_text_start:
	.space	256
__hyp_text_end:

	.balign	2048
__hyp_stub_vectors:
	.rept	8
	.balign	128
	b	.				// current EL: must not happen
	.endr
	.balign	128				// lower EL, AArch64, synchronous
	mrs	x20, hcr_el2
	mrs	x21, spsr_el2
	mrs	x22, elr_el2
	mrs	x23, sctlr_el2
	mrs	x24, esr_el2
	mrs	x25, vbar_el2
	mrs	x26, cptr_el2
	mrs	x27, mdcr_el2
	mrs	x28, cnthctl_el2
	movz	w0, #0x8400, lsl #16
	movk	w0, #8
	smc	#0
	.rept	7
	.balign	128
	b	.
	.endr

	.data
	.balign	16
	.space	512
boot_stack_top:
	.quad	0

#include "head-init-kernel-el.S"
`;
}

/** A value written by MSR as the CPU keeps it: RES0 bits clear, RES1 bits set. */
function asKept(emu: Emulator, name: string, written: bigint): bigint {
  const k = sysregId(name) * 2;
  const sys = emu.cpu.sys;
  const half = (a: Int32Array) => (BigInt(a[k + 1]! >>> 0) << 32n) | BigInt(a[k]! >>> 0);
  return (written & ~half(sys.res0)) | half(sys.res1);
}

describe('init_kernel_el (asm/head-init-kernel-el.S) from EL2', () => {
  it('the header constants are the documented values', () => {
    expect(C.INIT_SCTLR_EL1_MMU_OFF).toBe(0x30500800n);
    expect(C.INIT_SCTLR_EL2_MMU_OFF).toBe(0x30c50830n);
    expect(C.HCR_HOST_NVHE_FLAGS).toBe(0x0100030080000000n);
    expect(C.INIT_PSTATE_EL1).toBe(0x3c5n);
    expect(C.BOOT_CPU_MODE_EL2).toBe(0xe12n);
  });

  for (const model of ['cortex-a57', 'cortex-a76'] as const) {
    for (const boot of [0, 1] as const) {
      it(`${model}, x0 = ${boot}: ERET to EL1h at the caller's return address with the registers the code sets`, () => {
        const image = buildS(harness(boot));
        const emu = new Emulator({ cpu: model });
        emu.load(image.elf);
        expect(emu.reg('el')).toBe(2n);
        const removeBreakpoint = emu.addBreakpoint('el1_entry');
        const stop = emu.run({ maxInsns: 10_000 });
        expect(stop.reason.kind).toBe('breakpoint');
        const el1Entry = image.symbols.get('el1_entry')!;
        expect(emu.reg('pc')).toBe(el1Entry);
        expect(emu.reg('el')).toBe(1n);
        expect(emu.cpu.spsel).toBe(1); // EL1h
        expect(emu.cpu.daif).toBe(0xf);
        expect(emu.reg('w0')).toBe(C.BOOT_CPU_MODE_EL2);
        expect(emu.reg('x0')).toBe(C.BOOT_CPU_MODE_EL2); // no BOOT_CPU_FLAG_E2H: E2H is 0
        expect(emu.reg('sctlr_el1')).toBe(asKept(emu, 'sctlr_el1', C.INIT_SCTLR_EL1_MMU_OFF));
        expect(emu.reg('hcr_el2')).toBe(asKept(emu, 'hcr_el2', C.HCR_HOST_NVHE_FLAGS));
        expect(emu.reg('hcr_el2') & C.HCR_RW).toBe(C.HCR_RW);
        expect(emu.reg('hcr_el2') & C.HCR_E2H).toBe(0n);
        expect(emu.reg('spsr_el2')).toBe(C.INIT_PSTATE_EL1);
        expect(emu.reg('elr_el2')).toBe(el1Entry);
        expect(emu.reg('vbar_el2')).toBe(image.symbols.get('__hyp_stub_vectors'));
        expect(emu.reg('sctlr_el2')).toBe(asKept(emu, 'sctlr_el2', C.INIT_SCTLR_EL2_MMU_OFF));
        expect(emu.reg('cptr_el2')).toBe(asKept(emu, 'cptr_el2', 0x33ffn));
        expect(emu.reg('cnthctl_el2') & 3n).toBe(3n);
        expect(emu.reg('vttbr_el2')).toBe(0n);
        expect(emu.reg('hstr_el2')).toBe(0n);
        expect(emu.reg('vpidr_el2')).toBe(emu.reg('midr_el1'));
        expect(emu.reg('vmpidr_el2')).toBe(emu.reg('mpidr_el1'));
        if (boot === 1) {
          // dcache_clean_poc(__hyp_idmap_text_start's page, __hyp_text_end)
          expect(emu.reg('x10')).toBe(image.symbols.get('__hyp_idmap_text_start')! & ~0xfffn);
          expect(emu.reg('x11')).toBe(image.symbols.get('__hyp_text_end'));
        }
        // On to the stub vectors and the power-off.
        removeBreakpoint();
        const end = emu.run({ maxInsns: 1000 });
        expect(end.reason.kind).toBe('psci-off');
        expect(emu.reg('x19')).toBe(C.BOOT_CPU_MODE_EL2);
        expect(emu.reg('x18')).toBe(1n << 2n); // CurrentEL = EL1
        expect(emu.reg('x20')).toBe(emu.reg('hcr_el2'));
      });
    }
  }

  describe.runIf(requireOracle('qemu-system-aarch64'))('the same image under QEMU 7.2', () => {
    for (const model of ['cortex-a57', 'cortex-a76'] as const) {
      for (const boot of [0, 1] as const) {
        it(`${model}, x0 = ${boot}: the same per-instruction trace`, () => {
          const image = buildS(harness(boot));
          const run = runImageBothWays(image, { cpu: model, maxInsns: 5_000 });
          const c = run.comparison;
          expect(c.mismatches.map((m) => m.text).join('\n')).toBe('');
          expect(run.qemuStop).toBe('system-off');
          expect(run.ourStop).toBe('psci-off');
          // The ERET to EL1 and the HVC back: nothing else.
          expect(c.erets).toBe(1);
          expect(exceptionSummary(run.qemuItems)).toEqual(['16:1->2']);
          const eret = run.qemuItems.find((i) => i.kind === 'eret');
          expect(eret?.kind === 'eret' && eret.ret.pc).toBe(image.symbols.get('el1_entry'));
          console.log(`init_kernel_el ${model} x0=${boot}: ${c.states} instructions match QEMU; tolerated ${JSON.stringify(c.tolerated)}`);
        });
      }
    }
  });
});
