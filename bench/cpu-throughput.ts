/**
 * Interpreter throughput: guest instructions per second on (a) a tight
 * integer ALU loop, (b) a load/store loop over a small buffer, beside the
 * same ELF under QEMU TCG measured in the same run (when QEMU is installed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/asm/assembler.js';
import { linkFlat } from '../src/asm/link-flat.js';
import { writeExecutable } from '../src/elf/write-executable.js';
import { createVirtMachine } from '../src/machine/virt.js';
import { Cpu } from '../src/cpu/cpu.js';
import { CORTEX_A57 } from '../src/cpu/cpu-model.js';
import { run } from '../src/cpu/interpreter.js';
import { readFileSync } from 'node:fs';
import { projectRoot } from '../src/cli/start.js';

const BASE = 0x40080000n;
const POWER_OFF = `
  movz w0, #0x8400, lsl #16
  movk w0, #8
  smc #0
`;

export const ALU_LOOP = (iterations: number) => `
_start:
  movz x1, #${iterations & 0xffff}
  movk x1, #${(iterations >>> 16) & 0xffff}, lsl #16
  movz x2, #0x1234
  movz x0, #0
loop:
  add x0, x0, x1, lsl #1
  eor x3, x0, x2, ror #7
  subs x1, x1, #1
  b.ne loop
${POWER_OFF}`;

export const LOAD_STORE_LOOP = (iterations: number) => `
_start:
  movz x1, #${iterations & 0xffff}
  movk x1, #${(iterations >>> 16) & 0xffff}, lsl #16
  adr x4, buffer
  movz x0, #0
loop:
  and x5, x1, #0x38
  ldr x6, [x4, x5]
  add x6, x6, x1
  str x6, [x4, x5]
  subs x1, x1, #1
  b.ne loop
${POWER_OFF}
  .balign 64
buffer: .skip 64
`;

/**
 * (c) The documents' init_kernel_el (asm/head-init-kernel-el.S) in a loop: EL2
 * calls it, it ERETs to EL1 at the return address, EL1 HVCs back into the
 * harness's __hyp_stub_vectors (which the routine installs), and the handler
 * starts the next round at EL2. About a hundred instructions per round,
 * including an exception entry and an exception return.
 */
export const INIT_KERNEL_EL_LOOP = (iterations: number) => `
#include <asm/assembler.h>
${readFileSync(join(projectRoot(), 'asm', 'head-init-kernel-el.S'), 'utf8')}
	.text
	.globl	_start
_start:
	movz	x19, #${iterations & 0xffff}
	movk	x19, #${(iterations >>> 16) & 0xffff}, lsl #16
round:
	mov	x0, #0
	bl	init_kernel_el
	hvc	#0
__hyp_idmap_text_start:
__hyp_text_end:
dcache_clean_poc:
	ret
	.balign	2048
__hyp_stub_vectors:
	.skip	0x400
	subs	x19, x19, #1
	b.ne	round
${POWER_OFF}`;

function build(source: string): { flat: Uint8Array; elf: Uint8Array } {
  const r = assemble(source, { file: source.includes('#include') ? 'bench.S' : 'bench.s', includeDirs: [join(projectRoot(), 'asm', 'include')] });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
  const img = linkFlat(r, BASE);
  const elf = writeExecutable({ entry: BASE, segments: [{ vaddr: BASE, data: img.bytes, memsz: BigInt(img.bytes.length), flags: 'rwx' }] });
  return { flat: img.bytes, elf };
}

/** Runs on our interpreter; CPU time (user+sys) is the measure a loaded machine distorts least. */
function ours(flat: Uint8Array, insns: number): { seconds: number; wallSeconds: number; retired: number } {
  const m = createVirtMachine({});
  m.memory.writeBytes(Number(BASE), flat);
  const cpu = new Cpu(m.memory, CORTEX_A57);
  cpu.setPc(BASE);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  run(cpu, insns);
  const wallSeconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { seconds: (c.user + c.system) / 1e6, wallSeconds, retired: cpu.retired };
}

function qemuSeconds(elf: Uint8Array): number | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-bench-'));
  try {
    const file = join(dir, 'prog.elf');
    writeFileSync(file, elf);
    const t0 = performance.now();
    const r = spawnSync('qemu-system-aarch64', ['-M', 'virt,virtualization=on', '-cpu', 'cortex-a57', '-m', '128M', '-nographic',
      '-display', 'none', '-monitor', 'none', '-serial', 'none', '-nic', 'none', '-no-reboot', '-kernel', file], { timeout: 120_000 });
    const t = (performance.now() - t0) / 1000;
    if (r.error || r.status !== 0) return undefined;
    return t;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function qemuStartup(): number | undefined {
  // An image that powers off at once: QEMU's start-up cost, subtracted from the timed runs.
  return qemuSeconds(build(`_start:\n${POWER_OFF}`).elf);
}

export async function runCpuBench(): Promise<void> {
  const startup = qemuStartup();
  for (const [name, make, iterations, perIter] of [
    ['(a) ALU loop', ALU_LOOP, 50_000_000, 4],
    ['(b) load/store loop', LOAD_STORE_LOOP, 10_000_000, 6],
    ['(c) init_kernel_el', INIT_KERNEL_EL_LOOP, 100_000, 200],
  ] as const) {
    const { flat, elf } = build(make(iterations));
    const budget = iterations * perIter + 20;
    ours(build(make(Math.max(10, Math.floor(iterations / 100)))).flat, Math.floor(iterations / 100) * perIter); // warm-up
    const r = ours(flat, budget);
    const rate = r.retired / r.seconds;
    let line = `${name.padEnd(22)} ours ${(rate / 1e6).toFixed(1).padStart(7)} M insn/s CPU (${(r.retired / r.wallSeconds / 1e6).toFixed(1)} wall; ${r.retired} insns)`;
    const q = startup !== undefined ? qemuSeconds(elf) : undefined;
    if (q !== undefined && startup !== undefined) {
      const qrate = r.retired / Math.max(q - startup, 1e-3);
      line += `   QEMU TCG ${(qrate / 1e6).toFixed(0)} M insn/s   ours/QEMU = ${(rate / qrate).toFixed(3)}`;
    } else {
      line += '   QEMU: not available or did not power off';
    }
    console.log(line);
  }
  console.log('  target: (a) >= 100 M insn/s');
}
