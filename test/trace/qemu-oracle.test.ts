/**
 * Oracle test (issue 6 verification): QEMU 7.2 runs an image built around a
 * routine from asm/ (and a longer program exercising loops, loads/stores,
 * flags, EL changes, exceptions of several kinds, aborted fetches and
 * FP/SIMD); its `-d exec,cpu,int,nochain -singlestep` log is imported and
 * diffed against our own recorded run of the same image: zero divergences,
 * with QEMU's deviations tolerated by name. The command line agrees, and a
 * perturbed QEMU log is caught at the right instruction.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qemuAvailable, runQemu } from '../helpers/qemu.js';
import { diffTraces } from '../../src/trace/diff.js';
import { convertTrace } from '../../src/trace/convert.js';
import { POWER_OFF, ROOT, buildImage, readJsonl, recordImage, tempDir } from './trace-support.js';

const { dir, cleanup } = tempDir('trace-qemu-');
afterAll(cleanup);
const CLI = join(ROOT, 'dist/src/cli/main.js');

/**
 * init_kernel_el (asm/head-init-kernel-el.S, the kernel's first EL2 code)
 * called from a harness at EL2 with x0 = 0 (MMU off, no cache cleaning), as
 * the primary boot path does; it returns to the harness at EL1 with an ERET.
 * The symbols it leaves undefined are provided here.
 */
const INIT_KERNEL_EL = `
#include "head-init-kernel-el.S"
	.text
	.globl	_start
_start:
	mov	x0, #0
	bl	init_kernel_el
	mov	x19, x0			// BOOT_CPU_MODE_EL2, at EL1 now
	mrs	x20, CurrentEL
	${POWER_OFF}
	.globl	dcache_clean_poc, __hyp_idmap_text_start, __hyp_text_end
dcache_clean_poc:
	ret
__hyp_idmap_text_start:
__hyp_text_end:
	.balign	2048
	.globl	__hyp_stub_vectors
__hyp_stub_vectors:
	.skip	0x400
	${POWER_OFF}
`;

/** Loops, loads/stores, flags, EL2->EL1, SVC/HVC, a data abort, a PC-alignment fault, an aborted fetch, FP. */
const WORKOUT = `
.globl _start
_start:
  adr x1, el2_vectors
  msr vbar_el2, x1
  adr x1, el1_vectors
  msr vbar_el1, x1
  mov x1, #(1 << 31)
  msr hcr_el2, x1
  movz x2, #0x4010, lsl #16
  mov x3, #150
1:
  str x3, [x2], #8
  ldr x4, [x2, #-8]
  adds x5, x5, x4
  eor x6, x6, x5, lsl #3
  ldp x7, x8, [x2, #-16]
  stp x8, x7, [x2, #496]
  subs x3, x3, #1
  b.ne 1b
  fmov d1, #1.5
  fadd d2, d1, d1
  fmul d3, d2, d1
  movz x9, #0x1234, lsl #48
  mov v3.d[1], x9
  // a data abort at EL2 (nothing at 4 GiB): ISV differs in QEMU's ESR
  adr x20, 2f
  movz x10, #0x1, lsl #32
  ldr x11, [x10]
2:
  // a misaligned branch target: PC alignment fault (QEMU logs the attempt)
  adr x20, 3f
  adr x12, 3f
  add x12, x12, #2
  cmp x12, #0
  br x12
3:
  // a fetch beyond the PA size: instruction abort (QEMU logs no attempt; we fold ours)
  adr x20, 4f
  movz x12, #1, lsl #48
  br x12
4:
  mov x1, #0x3c5
  msr spsr_el2, x1
  adr x1, el1_entry
  msr elr_el2, x1
  eret
el1_entry:
  mov x13, #5
5:
  svc #0x21
  subs x13, x13, #1
  b.ne 5b
  hvc #0x12
  cmn x13, #1
  ${POWER_OFF}

.balign 2048
el2_vectors:
.org el2_vectors + 0x200      // current EL, SP_ELx: faults at EL2 resume at x20
  mrs x14, esr_el2
  mrs x15, far_el2
  msr elr_el2, x20
  eret
.org el2_vectors + 0x400      // lower EL: the HVC
  mrs x16, esr_el2
  adds x17, x16, #1
  eret

.balign 2048
el1_vectors:
.org el1_vectors + 0x200      // SVC at EL1
  mrs x18, esr_el1
  add x19, x19, #1
  eret
`;

describe.runIf(qemuAvailable())('trace diff: our runs against QEMU 7.2', () => {
  function compare(name: string, source: string, file: string, fpu = false) {
    const image = buildImage(source, file);
    const q = runQemu(image.elf, { keepLog: true, fpu, maxInsns: 20_000 });
    expect(q.stopReason).toBe('system-off');
    const log = join(dir, `${name}.log`);
    writeFileSync(log, q.log!);
    const ours = join(dir, `${name}.bin`);
    const r = recordImage(image.elf, ours);
    expect(r.reason.kind).toBe('psci-off');
    const lines: string[] = [];
    const s = diffTraces(ours, log, { context: 3 }, (l) => lines.push(l));
    return { s, out: lines.join('\n'), log, ours, q, image };
  }

  it('init_kernel_el from asm/: zero divergences', () => {
    const { s, out, q } = compare('init-kernel-el', INIT_KERNEL_EL, 'harness.S');
    expect(out).toMatch(/the traces agree/);
    expect(s.divergences).toBe(0);
    expect(s.compared).toBe(q.instructions);
    expect(s.compared).toBeGreaterThan(50);
    // It ends at EL1 with BOOT_CPU_MODE_EL2 in w0 (0xe12), after an eret from EL2.
    expect(s.boundaries).toBeGreaterThanOrEqual(1);
  });

  it('a longer program with exceptions of several kinds and FP/SIMD (-d fpu): zero divergences, deviations tolerated by name', () => {
    const { s, out, q } = compare('workout', WORKOUT, 'workout.s', true);
    expect(out).toMatch(/the traces agree/);
    expect(s.divergences).toBe(0);
    expect(s.compared).toBe(q.instructions);
    expect(s.compared).toBeGreaterThan(1200);
    // the data abort's ESR (event and the mrs), NZCV cleared by QEMU at entries before flags were written again
    expect(s.tolerated['qemu-isv-el2-data-abort']).toBe(2);
    expect(s.tolerated['qemu-nzcv-exception-entry']).toBeGreaterThanOrEqual(1);
    expect(Object.keys(s.tolerated).sort()).toEqual(['qemu-isv-el2-data-abort', 'qemu-nzcv-exception-entry']);
    // data abort, PC alignment, instruction abort, 5 SVCs, HVC and their returns, and the eret to EL1
    expect(s.boundaries).toBe(3 * 2 + 5 * 2 + 2 + 1);
  });

  it('the command line agrees (exit 0), converts the QEMU log, and catches a perturbed log (exit 1)', () => {
    if (!existsSync(CLI)) return;
    const { log, ours } = compare('cli', WORKOUT, 'workout.s');
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'trace', ...args], { encoding: 'utf8', timeout: 120_000 });
    const ok = cli('diff', ours, log);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/the traces agree/);
    // The QEMU log as one of our traces, then diffed again.
    const conv = join(dir, 'qemu-as-ours.jsonl');
    expect(cli('convert', log, conv).status).toBe(0);
    const first = readJsonl(conv)[0]!;
    expect(first).toMatchObject({ event: 'start', source: 'qemu', pc: '0x40080000', el: 2, pstate: '0x3c9' });
    expect(cli('diff', ours, conv).status).toBe(0);
    // X05 perturbed in the 100th dump: the divergence is the instruction before it.
    const text = readFileSync(log, 'utf8').split('\n');
    let dumps = 0, at = -1;
    for (let k = 0; k < text.length; k++) if (text[k]!.startsWith('Trace ') && ++dumps === 100) { at = k; break; }
    const x05 = text.findIndex((l, k) => k > at && /X05=/.test(l));
    text[x05] = text[x05]!.replace(/X05=([0-9a-f]{15})([0-9a-f])/, (_m, a: string, d: string) => `X05=${a}${((parseInt(d, 16) + 1) % 16).toString(16)}`);
    const bad = join(dir, 'perturbed.log');
    writeFileSync(bad, text.join('\n'));
    const r = cli('diff', ours, bad, '--context', '1');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first divergence \(registers\) at A#98 \/ B#98 /);
    expect(r.stdout).toMatch(/\n {4}x5 +A 0x[0-9a-f]{16} +B 0x[0-9a-f]{16}/);
    // --ignore x5 lets it through, until control flow or other registers depend on it (they do not here: x5 only feeds x6).
    expect(cli('diff', ours, bad, '--ignore', 'x5,x6').status).toBe(0);
  });

  it('the recorded text listing of the QEMU log reads like ours', () => {
    const { log } = compare('listing', INIT_KERNEL_EL, 'harness.S');
    const txt = join(dir, 'listing.txt');
    convertTrace(log, txt, { to: 'text' });
    const lines = readFileSync(txt, 'utf8').split('\n');
    expect(lines[0]).toMatch(/^# trace from qemu/);
    expect(lines.some((l) => /-> eret EL2->EL1/.test(l))).toBe(true);
  });
});
