/**
 * The boot flow's supporting assembly on its own:
 *  - the linux-6.1 build of every source of the kernel image (PKVM_LAB_PROFILE_LINUX_6_1)
 *    against host cpp + GNU as (the default build is covered by test/asm/asm-routines);
 *  - the kernel-image link: the hyp sections page-aligned, the idmap text in one page, the
 *    gen-hyprel list;
 *  - the hyp stub's calls (HVC_SET_VECTORS, HVC_RESET_VECTORS, HVC_SOFT_RESTART, a bad
 *    call) on the interpreter, from the state early boot leaves;
 *  - __kvm_handle_stub_hvc once __kvm_hyp_init is installed: HVC_RESET_VECTORS puts the
 *    stub back, and with the protected-mode alternative patched in, HCR_EL2 too;
 *  - dcache_clean_poc: one DC CVAC per line over the range, then DSB SY.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../../src/asm/assembler.js';
import { toObjectModel } from '../../src/asm/object-file.js';
import { writeRelocatableObject } from '../../src/elf/write-object.js';
import { readElf } from '../../src/elf/read.js';
import { buildKernelImage, KERNEL_IMAGE_SOURCES } from '../../src/pkvm/kernel-image.js';
import { runBoot } from '../../src/pkvm/boot-flow.js';
import { Emulator } from '../../src/machine/emulator.js';
import { GNU_AS, compareObjects, gnuAssemble, requireOracle } from '../helpers/oracle.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INCLUDE = join(ROOT, 'asm', 'include');
const HVC_STUB_ERR = 0xbadca11n;

describe.runIf(requireOracle(GNU_AS) && requireOracle('gcc'))('the linux-6.1 build of the image sources against GNU as', () => {
  for (const f of KERNEL_IMAGE_SOURCES) {
    it(f, () => {
      const source = readFileSync(join(ROOT, 'asm', f), 'utf8');
      const ours = assemble(source, { file: f, includeDirs: [join(ROOT, 'asm'), INCLUDE], defines: { PKVM_LAB_PROFILE_LINUX_6_1: '1' } });
      expect(ours.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const cpp = spawnSync('gcc', ['-E', '-P', '-x', 'assembler-with-cpp', '-D__ASSEMBLY__', '-D__aarch64__', '-DPKVM_LAB_PROFILE_LINUX_6_1=1', '-I', INCLUDE, '-'], { input: source, encoding: 'utf8' });
      expect(cpp.status).toBe(0);
      const gnu = gnuAssemble(cpp.stdout, { file: f.replace(/\.S$/, '.s') });
      expect(gnu.ok).toBe(true);
      expect(compareObjects(readElf(writeRelocatableObject(toObjectModel(ours))), gnu.elf!)).toEqual([]);
    });
  }
});

describe('the kernel image', () => {
  for (const profile of ['android', 'linux-6.1'] as const) {
    it(`${profile}: laid out like vmlinux`, () => {
      const img = buildKernelImage({ root: ROOT, profile });
      const s = (n: string): bigint => img.symbols.get(n)!;
      expect(img.base).toBe(0x4008_0000n);
      expect(img.entry).toBe(s('primary_entry'));
      expect(s('_text')).toBe(img.base);
      for (const n of ['__hyp_idmap_text_start', '__hyp_text_start', '__hyp_rodata_start', '__per_cpu_start', '__hyp_bss_start', '__bss_start']) {
        expect(s(n) % 4096n, n).toBe(0n);
      }
      expect(s('__hyp_idmap_text_end') - s('__hyp_idmap_text_start')).toBeLessThanOrEqual(4096n);
      expect(s('__kvm_hyp_init')).toBe(s('__hyp_idmap_text_start'));
      expect(s('__kvm_hyp_init') % 2048n).toBe(0n);
      expect(s('__kvm_hyp_host_vector') % 2048n).toBe(0n);
      expect(s('__hyp_stub_vectors') % 2048n).toBe(0n);
      // gen-hyprel: the literals of ___kvm_hyp_init, __host_hvc and __hyp_do_panic.
      expect(img.hypRelocs).toHaveLength(3);
      const view = new DataView(img.bytes.buffer);
      const targets = img.hypRelocs.map((p) => view.getBigUint64(Number(p - img.base), true));
      expect(targets.sort()).toEqual([s('__kvm_hyp_host_vector'), s('nvhe_hyp_panic_handler'), s('__kvm_handle_stub_hvc')].sort());
    });
  }
});

/** An emulator with the image loaded, run through early boot to the first C call (EL1, stub vectors installed). */
function afterEarlyBoot(): { emu: Emulator; s: (n: string) => bigint } {
  const img = buildKernelImage({ root: ROOT, profile: 'android' });
  const emu = new Emulator({ ramSize: 512 * 1024 * 1024 });
  emu.load(img.bytes, { address: img.base, entry: img.entry });
  const s = (n: string): bigint => img.allSymbols.get(n)!;
  const bp = emu.addBreakpoint(s('kvm_hyp_reserve'));
  expect(emu.run({ maxInsns: 10_000 }).reason.kind).toBe('breakpoint');
  bp();
  expect(emu.reg('el')).toBe(1n);
  expect(emu.reg('vbar_el2')).toBe(s('__hyp_stub_vectors'));
  return { emu, s };
}

/** Calls `fn` at EL1 and runs until it returns to `ret` (a breakpoint). */
function call(emu: Emulator, fn: bigint, x: Record<number, bigint>, ret: bigint): void {
  for (const [n, v] of Object.entries(x)) emu.setReg(`x${n}`, v);
  emu.setReg('x30', ret);
  emu.setReg('pc', fn);
  const bp = emu.addBreakpoint(ret);
  const r = emu.run({ maxInsns: 10_000 });
  bp();
  expect(r.reason.kind).toBe('breakpoint');
}

describe('the hyp stub (asm/hyp-stub.S) on the interpreter', () => {
  it('HVC_SET_VECTORS, HVC_RESET_VECTORS, and HVC_FINALISE_EL2 refused (no VHE for pKVM)', () => {
    const { emu, s } = afterEarlyBoot();
    const back = s('kvm_hyp_reserve');
    call(emu, s('__hyp_set_vectors'), { 0: s('__kvm_hyp_init') }, back);
    expect(emu.reg('vbar_el2')).toBe(s('__kvm_hyp_init'));
    call(emu, s('__hyp_set_vectors'), { 0: s('__hyp_stub_vectors') }, back);
    call(emu, s('__hyp_reset_vectors'), {}, back);
    expect(emu.reg('x0')).toBe(0n);
    expect(emu.reg('vbar_el2')).toBe(s('__hyp_stub_vectors'));
    // finalise_el2(BOOT_CPU_MODE_EL2): no VHE for pKVM.
    call(emu, s('finalise_el2'), { 0: 0xe12n }, back);
    expect(emu.reg('x0')).toBe(HVC_STUB_ERR);
    expect(emu.reg('el')).toBe(1n);
  });

  it('a call the stub does not know: HVC_STUB_ERR', () => {
    const { emu } = afterEarlyBoot();
    const at = 0x4001_0000n;
    // hvc #0; b .
    emu.writeMemory(at, new Uint8Array([0x02, 0x00, 0x00, 0xd4, 0x00, 0x00, 0x00, 0x14]));
    emu.setReg('x0', 0xc600_0002n); // a kvm_call_hyp() with no hypervisor installed
    emu.setReg('pc', at);
    const bp = emu.addBreakpoint(at + 4n);
    expect(emu.run({ maxInsns: 100 }).reason.kind).toBe('breakpoint');
    bp();
    expect(emu.reg('x0')).toBe(HVC_STUB_ERR);
    expect(emu.reg('el')).toBe(1n);
  });

  it('HVC_SOFT_RESTART jumps to x1 at EL2 with x0..x2 = x2..x4', () => {
    const { emu, s } = afterEarlyBoot();
    // hvc #0; b . — in free RAM below the image.
    const at = 0x4001_0000n;
    emu.writeMemory(at, new Uint8Array([0x02, 0x00, 0x00, 0xd4, 0x00, 0x00, 0x00, 0x14]));
    const target = s('kvm_hyp_reserve');
    for (const [n, v] of [[0, 1n], [1, target], [2, 0x22n], [3, 0x33n], [4, 0x44n]] as const) emu.setReg(`x${n}`, v);
    emu.setReg('pc', at);
    const bp = emu.addBreakpoint(target);
    expect(emu.run({ maxInsns: 100 }).reason.kind).toBe('breakpoint');
    bp();
    expect(emu.reg('el')).toBe(2n);
    expect([emu.reg('x0'), emu.reg('x1'), emu.reg('x2')]).toEqual([0x22n, 0x33n, 0x44n]);
  });
});

describe('__kvm_handle_stub_hvc (asm/hyp-init.S) once __kvm_hyp_init is installed', () => {
  it('HVC_RESET_VECTORS: MMU off, HCR_EL2 back to the host flags (protected-mode alternative), stub vectors', () => {
    let hvcAt = 0n;
    const r = runBoot({
      root: ROOT,
      observe: ({ emulator, image }) => {
        const start = image.allSymbols.get('cpu_hyp_init')!;
        for (let a = start; ; a += 4n) {
          if (new DataView(image.bytes.buffer).getUint32(Number(a - image.base), true) === 0xd4000002) { hvcAt = a; break; }
        }
        const remove = emulator.addCodeHook(hvcAt, (e) => { remove(); e.stop('snapshot'); });
      },
    });
    expect(r.end.reason).toBe('snapshot');
    const emu = r.emulator;
    const s = (n: string): bigint => r.image.allSymbols.get(n)!;
    expect(emu.reg('vbar_el2')).toBe(s('__kvm_hyp_init'));
    // Make the pending HVC a HVC_RESET_VECTORS instead of __kvm_hyp_init, and set HCR_EL2 as KVM would have.
    emu.setReg('x0', 2n);
    emu.setReg('hcr_el2', 0x0100_0300_8008_0000n);
    const bp = emu.addBreakpoint(hvcAt + 4n);
    expect(emu.run({ maxInsns: 1000 }).reason.kind).toBe('breakpoint');
    bp();
    expect(emu.reg('el')).toBe(1n);
    expect(emu.reg('x0')).toBe(0n);
    expect(emu.reg('vbar_el2')).toBe(s('__hyp_stub_vectors'));
    expect(emu.reg('sctlr_el2') & 1n).toBe(0n);
    // HCR_HOST_NVHE_FLAGS as the CPU keeps it (API/APK/ATA are RES0 on a cortex-a57): TSC is gone.
    expect(emu.reg('hcr_el2')).toBe(0x8000_0000n);
  });
});

describe('dcache_clean_poc (asm/cache.S) on the interpreter', () => {
  it('one DC CVAC per line of [start, end), from the line holding start, then DSB SY', () => {
    const { emu, s } = afterEarlyBoot();
    const fn = s('dcache_clean_poc');
    let dcs = 0;
    const dcAt: bigint[] = [];
    // Find the dc cvac and dsb in the function (a57: CTR_EL0.DminLine = 4 → 64-byte lines).
    for (let a = fn; a < fn + 64n; a += 4n) {
      const b = emu.readMemory(a, 4);
      const w = new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
      if (((w & 0xffffffe0) >>> 0) === 0xd50b7a20) dcAt.push(a); // dc cvac, xN
    }
    expect(dcAt).toHaveLength(1);
    emu.addCodeHook(dcAt[0]!, () => { dcs++; });
    call(emu, fn, { 0: 0x4800_0010n, 1: 0x4800_0100n }, s('kvm_hyp_reserve'));
    expect(dcs).toBe(4); // lines at 0x..00, 0x..40, 0x..80, 0x..c0
    expect((emu.reg('ctr_el0') >> 16n) & 0xfn).toBe(4n);
  });
});
