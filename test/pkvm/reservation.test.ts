/**
 * The reservation model against the real kernel: Debian's arm64 Linux 6.1 booted under
 * QEMU virt with kvm-arm.mode=protected, as recorded by scripts/kernel-reservation-check.mjs
 * in test/fixtures/pkvm/kernel-reservations.json. With the linux-6.1 profile the model must
 * print the kernel's own line (N MiB and the base) for every recorded RAM size.
 *
 * PKVM_KERNEL_CHECK=1 additionally boots the kernel now (needs apt, dpkg and QEMU; the
 * package is cached under $PKVM_KERNEL_CACHE or the temp dir).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEBIAN_6_1_CLOUD_ARM64, virtMemblockAtHypReserve, virtUnflattenedDtBytes } from '../../src/pkvm/early-memblock.js';
import { kvmHypReserve, kvmHypReserveOnVirt, PMD_SIZE, ReservationError } from '../../src/pkvm/reservation.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(ROOT, 'scripts/kernel-reservation-check.mjs');

interface RecordedBoot {
  size: string;
  ramBytes: number;
  required: boolean;
  reservedMiB?: number;
  base?: string;
  failed?: boolean;
  line: string;
  memblockDebug?: {
    earlyPageTablePages: number | null;
    unflattenedDtBytes: number | null;
    nodeData: { base: string; bytes: number } | null;
    hypAllocCalls: { bytes: number; align: string }[];
    reservedMiB?: number;
    base?: string;
    failed?: boolean;
  };
}

interface Recording {
  qemu: { version: string; command: string };
  kernel: { package: string; debianVersion: string; imageSize: string; textOffset: string };
  boots: RecordedBoot[];
}

const recording = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/pkvm/kernel-reservations.json'), 'utf8')) as Recording;
const REQUIRED = ['512M', '768M', '1G', '1536M', '2G', '3G', '4G', '6G', '8G'];

/** The model's line for a RAM size, or its failure, in the kernel's words. */
function modelLine(ramSize: number, pagingInitTablePages?: number): string {
  try {
    const opts = pagingInitTablePages === undefined ? { ramSize } : { ramSize, pagingInitTablePages };
    const early = virtMemblockAtHypReserve(opts);
    return kvmHypReserve(early.memblock, { profile: 'linux-6.1' }).log;
  } catch (e) {
    if (e instanceof ReservationError) return e.kernelMessage;
    throw e;
  }
}

describe('the recording', () => {
  it('covers every size from 512 MiB to 8 GiB, from the image the model describes', () => {
    expect(recording.boots.filter((b) => b.required).map((b) => b.size)).toEqual(REQUIRED);
    expect(recording.kernel.package).toMatch(/^linux-image-6\.1\.0-\d+-cloud-arm64-unsigned$/);
    expect(recording.qemu.command).toContain('kvm-arm.mode=protected');
    // The image facts the early-memblock model uses are this image's.
    expect(Number(recording.kernel.imageSize)).toBe(DEBIAN_6_1_CLOUD_ARM64.imageSize);
    expect(Number(recording.kernel.textOffset)).toBe(0);
  });
});

describe('kvm_hyp_reserve, linux-6.1 profile, against Debian 6.1 under QEMU', () => {
  for (const boot of recording.boots) {
    it(`${boot.size}: ${boot.line}`, () => {
      expect(modelLine(boot.ramBytes)).toBe(boot.line);
    });
  }

  it('the required sizes land PMD-aligned with the printed MiB equal to the pool size', () => {
    for (const size of REQUIRED) {
      const boot = recording.boots.find((b) => b.size === size)!;
      const { reservation } = kvmHypReserveOnVirt({ ramSize: boot.ramBytes, profile: 'linux-6.1' });
      expect(reservation.alignment).toBe(PMD_SIZE);
      expect(reservation.hypMemSize).toBe(boot.reservedMiB! * 1024 * 1024);
      expect(reservation.hypMemBase).toBe(Number(boot.base));
    }
  });
});

describe('memblock before kvm_hyp_reserve, against the memblock=debug boots', () => {
  for (const boot of recording.boots) {
    const dbg = boot.memblockDebug;
    if (!dbg) continue;
    it(`${boot.size}: paging_init tables, unflattened DT, NODE_DATA and the allocation calls`, () => {
      const early = virtMemblockAtHypReserve({ ramSize: boot.ramBytes });
      // One more page than modelled happens when KASLR puts the image across a 1 GiB
      // boundary (an extra PMD table); it varies from boot to boot of the same kernel.
      expect(dbg.earlyPageTablePages).not.toBeNull();
      expect([early.pagingInitTablePages, early.pagingInitTablePages + 1]).toContain(dbg.earlyPageTablePages);
      expect(dbg.unflattenedDtBytes).toBe(virtUnflattenedDtBytes(1));

      // Replaying that boot's own page-table count, everything below it matches exactly.
      const replay = virtMemblockAtHypReserve({ ramSize: boot.ramBytes, pagingInitTablePages: dbg.earlyPageTablePages! });
      const nodeData = replay.earlyAllocations.find((a) => a.label === 'NODE_DATA(0)')!;
      expect({ base: `0x${nodeData.base.toString(16)}`, bytes: nodeData.size }).toEqual(dbg.nodeData);
      let attempts;
      try {
        attempts = kvmHypReserve(replay.memblock, { profile: 'linux-6.1' }).attempts;
      } catch (e) {
        expect(e).toBeInstanceOf(ReservationError);
        expect(dbg.failed).toBe(true);
        attempts = null;
      }
      // The bytes asked for reveal hyp_mem_pages exactly on the PAGE_SIZE fallback path.
      const calls = dbg.hypAllocCalls.map((c) => ({ bytes: c.bytes, align: Number(c.align) }));
      if (attempts) expect(attempts.map((a) => ({ bytes: a.bytes, align: a.align }))).toEqual(calls);
      expect(modelLine(boot.ramBytes, dbg.earlyPageTablePages!)).toBe(
        dbg.failed ? 'kvm [0]: Failed to reserve hyp memory' : `kvm [0]: Reserved ${dbg.reservedMiB} MiB at ${dbg.base}`,
      );
    });
  }
});

describe('bad input', () => {
  it('a memory size too small for the reservation names the cause, as the kernel fails at 32 MiB', () => {
    expect(recording.boots.find((b) => b.size === '32M')?.failed).toBe(true);
    let error: unknown;
    try {
      kvmHypReserveOnVirt({ ramSize: 32 * 1024 * 1024, profile: 'linux-6.1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReservationError);
    const re = error as ReservationError;
    expect(re.message).toMatch(/memory too small for the hypervisor: kvm_hyp_reserve needs 1090 pages .* 32 MiB of RAM/);
    expect(re.kernelMessage).toBe('kvm [0]: Failed to reserve hyp memory');
  });

  it('RAM that cannot hold the kernel image and DTB is refused before kvm_hyp_reserve', () => {
    expect(() => kvmHypReserveOnVirt({ ramSize: 16 * 1024 * 1024 })).toThrow(/16 MiB of RAM cannot hold the kernel image/);
  });
});

describe.runIf(process.env.PKVM_KERNEL_CHECK === '1')('live: boot the kernel now (PKVM_KERNEL_CHECK=1)', () => {
  it('prints what the model prints', { timeout: 900_000 }, () => {
    const sizes = process.env.PKVM_KERNEL_CHECK_SIZES ?? REQUIRED.join(',');
    const out = execFileSync('node', [SCRIPT, '--print', '--no-debug', '--sizes', sizes, '--extra-sizes', ''], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 << 20,
    });
    const live = JSON.parse(out) as Recording;
    for (const boot of live.boots) expect(`${boot.size}: ${modelLine(boot.ramBytes)}`).toBe(`${boot.size}: ${boot.line}`);
  });
});
