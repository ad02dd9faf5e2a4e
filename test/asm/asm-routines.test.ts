/**
 * The documents' routines in asm/*.S and the project's kernel-style macro
 * headers in asm/include/:
 *  - every asm/*.S assembles with our assembler (our preprocessor, -I asm/include);
 *  - the same file run through the host's cpp and GNU as gives an object
 *    equal to ours (sections, symbols, mapping symbols, relocations);
 *  - a snippet that expands every macro the headers provide is compared the
 *    same way, so macros the routines do not use are checked too;
 *  - a few facts the headers encode (alternatives layout, constants) are
 *    checked on the GNU objects, so a wrong header cannot hide behind an
 *    assembler that agrees with it.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireOracle, GNU_AS, gnuAssemble, compareObjects } from '../helpers/oracle.js';
import { assemble } from '../../src/asm/assembler.js';
import { toObjectModel } from '../../src/asm/object-file.js';
import { writeRelocatableObject } from '../../src/elf/write-object.js';
import { readElf, type ElfFile } from '../../src/elf/read.js';
import { formatDiagnostic } from '../../src/common/diagnostics.js';

const root = join(import.meta.dirname, '../..');
const asmDir = join(root, 'asm');
const includeDir = join(asmDir, 'include');
const routineFiles = readdirSync(asmDir).filter((f) => f.endsWith('.S')).sort();

const HOST_CPP = 'gcc';

/**
 * Preprocesses like the kernel's build would for assembly, with the host's
 * gcc. The host gcc targets the host, so __aarch64__ is passed explicitly.
 */
function hostPreprocess(source: string, fileForErrors: string): string {
  const run = spawnSync(
    HOST_CPP,
    ['-E', '-P', '-x', 'assembler-with-cpp', '-D__ASSEMBLY__', '-D__aarch64__', '-I', includeDir, '-'],
    { input: source, encoding: 'utf8', cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.error) throw new Error(`${HOST_CPP} could not be run: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`${HOST_CPP} -E failed on ${fileForErrors}:\n${run.stderr}`);
  return run.stdout;
}

/** Our assembler on a .S source (our preprocessor runs because of the .S name). */
function ours(source: string, file: string) {
  const result = assemble(source, { file, includeDirs: [includeDir] });
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  return { result, errors };
}

/** GNU as on the host-preprocessed text of a .S source. */
function theirs(source: string, file: string): ElfFile {
  const preprocessed = hostPreprocess(source, file);
  const gnu = gnuAssemble(preprocessed, { file: file.replace(/\.S$/, '.s') });
  if (!gnu.ok) throw new Error(`GNU as rejected ${file} after cpp:\n${gnu.stderr}`);
  return gnu.elf;
}

function compareWithGnu(source: string, file: string): string[] {
  const { result, errors } = ours(source, file);
  expect(errors).toEqual([]);
  const elf = readElf(writeRelocatableObject(toObjectModel(result)));
  return compareObjects(elf, theirs(source, file));
}

/*
 * Every macro of asm/include, expanded at least once (both halves of each
 * alternative kind included), in kernel-side and hypervisor-side flavours.
 */
const MACRO_COVERAGE_KERNEL = `
#include <linux/kconfig.h>
#include <linux/linkage.h>
#include <linux/cfi_types.h>
#include <asm/alternative.h>
#include <asm/assembler.h>
#include <asm/el2_setup.h>
#include <asm/kvm_arm.h>
#include <asm/kvm_asm.h>
#include <asm/kvm_ptrauth.h>
#include <asm/pgtable-hwdef.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

	.text
SYM_FUNC_START(cover_kernel)
	mov_q	x0, 0x1234
	mov_q	x1, -2
	mov_q	x2, 0x123456789a
	mov_q	x3, -0x123456789a
	mov_q	x4, 0x0123456789abcdef
	mov_q	x5, HCR_HOST_NVHE_PROTECTED_FLAGS
	mov_q	x6, INIT_SCTLR_EL2_MMU_ON
	mov_q	x7, HCR_HOST_VHE_FLAGS
	adr_l	x0, some_symbol
	ldr_l	x1, some_symbol
	ldr_l	w2, some_symbol, x3
	str_l	x4, some_symbol, x5
	adr_this_cpu x6, some_percpu, x7
	ldr_this_cpu x8, some_percpu, x9
	set_this_cpu_offset x10
	esb
	csdb
	clearbhb
	sb
	nops	3
	bti	c
	bti	j
	bti	jc
	pre_disable_mmu_workaround
	phys_to_ttbr x1, x2
	set_sctlr_el1 x0
	set_sctlr_el2 x0
	tcr_compute_pa_size x0, #16, x1, x2
	raw_dcache_line_size x0, x1
	dcache_line_size x0, x1
	raw_icache_line_size x0, x1
	icache_line_size x0, x1
	dcache_by_line_op civac, sy, x0, x1, x2, x3
	dcache_by_line_op cvau, ish, x0, x1, x2, x3
	dcache_by_line_op cvac, sy, x0, x1, x2, x3
	dcache_by_line_op cvap, sy, x0, x1, x2, x3
	dcache_by_line_op cvadp, sy, x0, x1, x2, x3
	invalidate_icache_by_line x0, x1, x2, x3
	msr_s	SYS_SCTLR_EL12, x1
	mrs_s	x2, SYS_ICC_SRE_EL2
	msr_s	SYS_ICH_HCR_EL2, xzr
	init_el2_state
	__init_el2_nvhe_prepare_eret
	alternative_insn "mov x0, x1", "mov x0, x2", ARM64_HAS_CNP
alternative_if_not ARM64_HAS_CNP
	mov	x0, #1
	mov	x1, #2
alternative_else
	mov	x0, #3
	mov	x1, #4
alternative_endif
alternative_if ARM64_HAS_SB
	mov	x0, #5
alternative_else
	mov	x0, #6
alternative_endif
alternative_cb ARM64_ALWAYS_SYSTEM, some_callback
	movz	x0, #0
	movk	x0, #0, lsl #16
alternative_cb_end
	mov	x0, #CurrentEL_EL2
	mov	x0, #INIT_PSTATE_EL2
	mov_q	x0, HVC_STUB_ERR
	mov	x0, #(HVC_STUB_HCALL_NR + HVC_SET_VECTORS)
	orr	x0, x0, #TTBR_CNP_BIT
	ret
SYM_FUNC_END(cover_kernel)

SYM_FUNC_START_LOCAL(cover_local)
	ventry	cover_kernel
SYM_INNER_LABEL(cover_inner, SYM_L_GLOBAL)
	ret
SYM_FUNC_END(cover_local)

SYM_CODE_START(cover_code)
	b	.
SYM_CODE_END(cover_code)

SYM_TYPED_FUNC_START(cover_typed)
	ret
SYM_FUNC_END(cover_typed)

	.data
SYM_DATA_START(cover_data)
	.quad	BOOT_CPU_FLAG_E2H | BOOT_CPU_MODE_EL2
	.quad	INIT_SCTLR_EL1_MMU_OFF
SYM_DATA_END(cover_data)
SYM_DATA_START_LOCAL(cover_local_data)
	.word	CPU_XREG_OFFSET(30), CPU_SP_EL0_OFFSET, CPU_APIAKEYLO_EL1
SYM_DATA_END(cover_local_data)
`;

const MACRO_COVERAGE_HYP = `
#include <linux/kconfig.h>
#define __KVM_NVHE_HYPERVISOR__ 1
#include <linux/linkage.h>
#include <asm/assembler.h>
#include <asm/kvm_asm.h>
#include <asm/kvm_ptrauth.h>

	.section .hyp.text, "ax"
SYM_FUNC_START(cover_hyp)
	get_host_ctxt x0, x1
	get_vcpu_ptr x2, x3
	get_loaded_vcpu x4, x5
	set_loaded_vcpu x4, x5, x6
	adr_this_cpu x6, some_percpu, x7
	save_callee_saved_regs x0
	restore_callee_saved_regs x29
	save_sp_el0 x0, x1
	restore_sp_el0 x0, x1
	ptrauth_save_state x18, x19, x20
	ptrauth_restore_state x18, x19, x20
	ret
SYM_FUNC_END(cover_hyp)
`;

describe('asm/*.S assemble with our assembler and preprocessor', () => {
  it('finds the routines', () => {
    expect(routineFiles).toEqual(expect.arrayContaining(['head-init-kernel-el.S', 'hyp-init.S', 'host.S']));
  });
  for (const name of routineFiles) {
    it(name, () => {
      const { result, errors } = ours(readFileSync(join(asmDir, name), 'utf8'), `asm/${name}`);
      expect(errors).toEqual([]);
      expect(result.sections.some((s) => s.size > 0)).toBe(true);
    });
  }
});

describe.runIf(requireOracle(GNU_AS) && requireOracle(HOST_CPP))(
  'asm/*.S objects match host cpp + GNU as',
  () => {
    for (const name of routineFiles) {
      it(name, () => {
        expect(compareWithGnu(readFileSync(join(asmDir, name), 'utf8'), `asm/${name}`)).toEqual([]);
      });
    }
    it('macro coverage (kernel side)', () => {
      expect(compareWithGnu(MACRO_COVERAGE_KERNEL, 'macros-kernel.S')).toEqual([]);
    });
    it('macro coverage (hypervisor side)', () => {
      expect(compareWithGnu(MACRO_COVERAGE_HYP, 'macros-hyp.S')).toEqual([]);
    });
  },
);

/** Facts about what the headers emit, checked on GNU's objects (independent of our assembler). */
describe.runIf(requireOracle(GNU_AS) && requireOracle(HOST_CPP))(
  'headers emit what the kernel emits',
  () => {
    const section = (elf: ElfFile, name: string) => {
      const s = elf.sections.find((x) => x.name === name);
      if (!s) throw new Error(`no section ${name}`);
      return s;
    };
    const word = (data: Uint8Array, at: number) =>
      (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
    const words = (data: Uint8Array) => Array.from({ length: data.length / 4 }, (_, i) => word(data, i * 4));

    it('hyp-init.S: CNP alternatives are NOPs inline, the ORRs in subsection 1, 12-byte records', () => {
      const elf = theirs(readFileSync(join(asmDir, 'hyp-init.S'), 'utf8'), 'asm/hyp-init.S');
      const text = words(section(elf, '.hyp.idmap.text').data);
      // __kvm_hyp_init: a 2 KiB vector table whose "Synchronous 64-bit EL1" slot (0x400) branches on.
      expect(text[0x400 / 4]! >>> 26).toBe(0b000101); // b __do_hyp_init
      // ___kvm_hyp_init: phys_to_ttbr x2, x1 + the CNP NOP + msr ttbr0_el2, x2
      const hypInit = text.indexOf(0xaa0103e2); // mov x2, x1
      expect(text.slice(hypInit, hypInit + 3)).toEqual([0xaa0103e2, 0xd503201f, 0xd51c2002]);
      // __pkvm_init_switch_pgd (the documents' version): bti c, then phys_to_ttbr x4, x5 + NOP + msr ttbr0_el2, x4
      const sw = text.indexOf(0xaa0503e4); // mov x4, x5
      expect(text.slice(sw, sw + 3)).toEqual([0xaa0503e4, 0xd503201f, 0xd51c2004]);
      expect(text.lastIndexOf(0xd503245f)).toBeLessThan(sw); // bti c at its start
      expect(text).toContain(0xb2400042); // orr x2, x2, #1 (subsection 1)
      expect(text).toContain(0xb2400084); // orr x4, x4, #1 (subsection 1)
      const alt = section(elf, '.altinstructions').data;
      const records = Array.from({ length: alt.length / 12 }, (_, i) => ({
        cap: alt[i * 12 + 8]! | (alt[i * 12 + 9]! << 8), lens: [alt[i * 12 + 10], alt[i * 12 + 11]],
      }));
      // Debian 6.1.176 numbers: HAS_CNP 13, HAS_ADDRESS_AUTH 5, BTI 2, KVM_PROTECTED_MODE 40.
      expect(records.map((r) => r.cap)).toEqual([13, 5, 2, 40, 13]);
      expect(records[0]!.lens).toEqual([4, 4]);
      expect(records[4]!.lens).toEqual([4, 4]);
    });

    it('head-init-kernel-el.S: constants as in pkvm-facts section 5', () => {
      const elf = theirs(readFileSync(join(asmDir, 'head-init-kernel-el.S'), 'utf8'), 'asm/head-init-kernel-el.S');
      const text = words(section(elf, '.idmap.text').data);
      // mov_q x0, HCR_HOST_NVHE_FLAGS = 0x0100030080000000 (4 instructions)
      const movz = text.indexOf(0xd2e02000);
      expect(text.slice(movz, movz + 4)).toEqual([0xd2e02000, 0xf2c06000, 0xf2b00000, 0xf2800000]);
      expect(text).toContain(0xd2a618a0); // movz x0, #0x30c5, lsl #16: INIT_SCTLR_EL2_MMU_OFF
      expect(text).toContain(0xd2a60a01); // movz x1, #0x3050, lsl #16: INIT_SCTLR_EL1_MMU_OFF
      expect(text).toContain(0xd2867fe0); // mov x0, #0x33ff (CPTR_EL2)
      expect(text).toContain(0xd28078a0); // mov x0, #0x3c5 (INIT_PSTATE_EL1)
      expect(text).toContain(0xd2c00022); // mov x2, #1 << 32 (BOOT_CPU_FLAG_E2H)
      expect(text).toContain(0xd51d1001); // msr sctlr_el12, x1 via msr_s
      expect(text[text.length - 1]).toBe(0xd69f03e0); // eret
    });

    it('host.S: key switch under two alternatives each, sb as an alternative, offsets from asm-offsets', () => {
      const elf = theirs(readFileSync(join(asmDir, 'host.S'), 'utf8'), 'asm/host.S');
      const alt = section(elf, '.altinstructions').data;
      const caps = Array.from({ length: alt.length / 12 }, (_, i) => alt[i * 12 + 8]! | (alt[i * 12 + 9]! << 8));
      // ADDRESS_AUTH, KVM_PROTECTED_MODE (save), ADDRESS_AUTH, KVM_PROTECTED_MODE (restore), HAS_SB,
      // then __hyp_do_panic's hyp_kimg_va: a callback (bit 15) on ARM64_ALWAYS_SYSTEM (1)
      expect(caps).toEqual([5, 40, 5, 40, 32, 0x8000 | 1]);
      const text = words(section(elf, '.hyp.text').data);
      expect(text).toContain(0x911923b2); // add x18, x29, #1608 (CPU_APIAKEYLO_EL1)
      expect(text).toContain(0xa90ef81d); // stp x29, x30, [x0, #232]
    });
  },
);
