import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import {
  isInsnRecord,
  parseQemuLog,
  QemuLogError,
  QemuLogParser,
  readQemuLog,
  type QemuEvent,
  type QemuExceptionEvent,
  type QemuInsnRecord,
  type QemuRecord,
} from '../../src/trace/qemu-log.js';
import { buildImage, PSCI_SYSTEM_OFF_ASM, qemuAvailable, runQemu, streamQemu } from '../helpers/qemu.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/qemu/${name}`, import.meta.url), 'utf8');
const insns = (records: QemuRecord[]) => records.filter(isInsnRecord);
const events = (records: QemuRecord[]) => records.filter((r): r is QemuEvent => !isInsnRecord(r));
const BASE = 0x40080000n;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectLogError(text: string, line: number, message: RegExp, opts = {}): QemuLogError {
  let caught: unknown;
  try {
    parseQemuLog(text, opts);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(QemuLogError);
  const err = caught as QemuLogError;
  expect(err.line).toBe(line);
  expect(err.message).toMatch(message);
  expect(err.message).toMatch(new RegExp(`^QEMU log line ${line}: `));
  return err;
}

describe('parseQemuLog on captured QEMU 7.2 logs', () => {
  test('basic.log: initial state, registers, NZCV, SPSel and the PSCI SYSTEM_OFF', () => {
    const records = parseQemuLog(fixture('basic.log'));
    const steps = insns(records);
    expect(steps).toHaveLength(17);
    expect(records).toHaveLength(18);

    // QEMU's reset state for -kernel at EL2 (see QEMU-NOTES.md).
    const first = steps[0];
    expect(first).toEqual({
      line: 1,
      cpu: 0,
      pc: BASE,
      el: 2,
      spsel: 'h',
      pstate: 0x400003c9,
      nzcv: 0b0100,
      x: new Array(31).fill(0n),
      sp: 0n,
    });
    // State *before* each instruction: record i+1 shows the effect of instruction i.
    steps.forEach((r, i) => expect(r.pc).toBe(BASE + BigInt(4 * i)));
    expect(steps[1].x[1]).toBe(5n); // mov x1, #5
    expect(steps[2].x[2]).toBe(0n); // subs x2, x1, #5
    expect(steps[2].nzcv).toBe(0b0110); // Z C
    expect(steps[3].x[3]).toBe(0xffffffffffffffffn); // mov x3, #-1
    expect(steps[4].nzcv).toBe(0b0110); // adds x4, x3, #1: Z C
    expect(steps[5].x[5]).toBe(0x7fffffffffffffffn);
    expect(steps[6].nzcv).toBe(0b1001); // adds x6, x5, #1: N V
    expect(steps[6].x[6]).toBe(0x8000000000000000n);
    expect(steps[7].nzcv).toBe(0b1000); // cmp x1, #6: N, borrow
    expect(steps[9].sp).toBe(0x40080090n); // mov sp, x7 (stack_top)
    expect(steps[10].sp).toBe(0x40080080n); // stp pre-index
    // msr spsel, #0: EL2t, the dump shows SP_EL0.
    expect(steps[11]).toMatchObject({ spsel: 't', pstate: 0x800003c8, sp: 0n, el: 2 });
    expect(steps[12].sp).toBe(0xffffffffffffffffn); // mov sp, x3 wrote SP_EL0
    expect(steps[13]).toMatchObject({ spsel: 'h', sp: 0x40080080n }); // back to SP_EL2
    expect(steps[14]).toMatchObject({ sp: 0x40080090n, x: expect.arrayContaining([]) });
    expect(steps[14].x[8]).toBe(5n); // ldp x8, x9, [sp], #16
    expect(steps[14].x[9]).toBe(0n);
    expect(steps[16].x[0]).toBe(0x84000008n);

    expect(records[17]).toEqual({
      event: 'psci',
      line: 17 * 13 + 1,
      cpu: 0,
      number: 13,
      name: 'Secure Monitor Call',
      from_el: 2,
      to_el: 3, // QEMU's built-in firmware counts as EL3
      ec: 0x17,
      esr: 0x5e000000,
    });
  });

  test('exceptions.log: data abort with FAR, eret to EL1, svc, hvc and their returns', () => {
    const records = parseQemuLog(fixture('exceptions.log'));
    expect(insns(records)).toHaveLength(29);
    expect(events(records).map((e) => e.event)).toEqual([
      'exception', 'eret', 'eret', 'exception', 'eret', 'exception', 'eret', 'psci',
    ]);
    const at = (pc: bigint) => insns(records).find((r) => r.pc === pc)!;
    const idx = (e: QemuRecord) => records.indexOf(e);
    const [abort, svc, hvc] = events(records).filter((e): e is QemuExceptionEvent => e.event === 'exception');

    // ldr x3, [x2] with x2 = 4 GiB: nothing there, a synchronous external abort at EL2.
    expect(abort).toEqual({
      event: 'exception',
      line: 8 * 13 + 1,
      cpu: 0,
      number: 4,
      name: 'Data Abort',
      from_el: 2,
      to_el: 2,
      ec: 0x25,
      esr: 0x97c38010, // ISV=1 on a plain ldr: one of QEMU's deviations
      far: 0x100000000n,
      elr: 0x4008001cn,
      pc: 0x40080a00n,
      pstate: 0x3c9, // NZCV cleared on entry (QEMU deviation; Z was set)
    });
    const faulting = records[idx(abort) - 1] as QemuInsnRecord;
    expect(faulting).toMatchObject({ pc: 0x4008001cn, nzcv: 0b0100 });
    expect(faulting.x[2]).toBe(0x100000000n);
    expect(records[idx(abort) + 1]).toMatchObject({ pc: 0x40080a00n, el: 2, spsel: 'h', pstate: 0x3c9, nzcv: 0 });

    const handlerEnd = at(0x40080a14n); // eret in the EL2 current-EL handler
    expect(handlerEnd.x[10]).toBe(0x97c38010n); // mrs x10, esr_el2
    expect(handlerEnd.x[11]).toBe(0x100000000n); // mrs x11, far_el2
    expect(handlerEnd.x[12]).toBe(0x40080020n); // elr + 4
    expect(records[idx(handlerEnd) + 1]).toEqual({ event: 'eret', line: expect.any(Number), from_el: 2, to_el: 2, pc: 0x40080020n });
    expect(at(0x40080020n).nzcv).toBe(0b0100); // SPSR restored the flags

    // eret to EL1h.
    const toEl1 = records[idx(at(0x40080030n)) + 1];
    expect(toEl1).toMatchObject({ event: 'eret', from_el: 2, to_el: 1, pc: 0x40080034n });
    expect(at(0x40080034n)).toMatchObject({ el: 1, spsel: 'h', pstate: 0x3c5 });

    expect(svc).toMatchObject({ number: 2, name: 'SVC', from_el: 1, to_el: 1, ec: 0x15, esr: 0x56000021, elr: 0x4008003cn, pc: 0x40081200n, pstate: 0x3c5 });
    expect(svc.far).toBeUndefined();
    expect(records[idx(svc) - 1]).toMatchObject({ pc: 0x40080038n });
    expect(at(0x40081204n).x[14]).toBe(0x56000021n);

    expect(hvc).toMatchObject({ number: 11, name: 'Hypervisor Call', from_el: 1, to_el: 2, ec: 0x16, esr: 0x5a000012, elr: 0x40080040n, pc: 0x40080c00n, pstate: 0x3c9 });
    expect(records[idx(hvc) - 1]).toMatchObject({ pc: 0x4008003cn, el: 1 });
    expect(records[idx(hvc) + 1]).toMatchObject({ pc: 0x40080c00n, el: 2 });
    expect(at(0x40080c04n).x[13]).toBe(0x5a000012n);
    expect(records[idx(at(0x40080c04n)) + 1]).toMatchObject({ event: 'eret', from_el: 2, to_el: 1, pc: 0x40080040n });

    expect(records[records.length - 1]).toMatchObject({ event: 'psci', from_el: 1, to_el: 3, esr: 0x5e000000 });
  });

  test('fpu.log (-d fpu): FPCR/FPSR, Q registers, and "FPU disabled" at EL1', () => {
    const steps = insns(parseQemuLog(fixture('fpu.log')));
    expect(steps).toHaveLength(16);
    expect(steps[0]).toMatchObject({ fpcr: 0, fpsr: 0, q: new Array(32).fill(0n) });
    expect(steps[1].q![1]).toBe(0x3ff8000000000000n); // fmov d1, #1.5
    expect(steps[2].q![2]).toBe(0x4008000000000000n); // fadd d2, d1, d1 = 3.0
    expect(steps[4].q![3]).toBe(0x1234000000000000n << 64n); // mov v3.d[1], x1
    expect(steps[5].q![4]).toBe(0xc0000000n); // fmov s4, #-2.0 (upper bits zeroed)
    const el1 = steps.filter((r) => r.el === 1);
    expect(el1).toHaveLength(4);
    for (const r of el1) {
      expect(r.fpDisabled).toBe(true);
      expect(r.q).toBeUndefined();
      expect(r.fpcr).toBeUndefined();
    }
    expect(steps.filter((r) => r.el === 2).every((r) => r.q?.length === 32 && r.fpDisabled === undefined)).toBe(true);
  });

  test('sve.log (-cpu max): SVCR, BTYPE, P/FFR/Z at 128-bit and 512-bit vector lengths', () => {
    const steps = insns(parseQemuLog(fixture('sve.log')));
    expect(steps).toHaveLength(8);
    for (const r of steps) {
      expect(r).toMatchObject({ svcr: 0, btype: 0, fpcr: 0, fpsr: 0, ffr: 0n });
      expect(r.z).toHaveLength(32);
      expect(r.p).toHaveLength(16);
      expect(r.q).toHaveLength(32);
    }
    // fmov d1, #1.5 executes at 0x4008000c, after ZCR_EL2.LEN = 3 took effect.
    const after = steps.find((r) => r.pc === 0x40080010n)!;
    expect(after.z![1]).toBe(0x3ff8000000000000n);
    expect(after.q![1]).toBe(0x3ff8000000000000n);
    expect(steps[0].q![1]).toBe(0n);
  });

  test('stopped-tb.log: a dump followed by "Stopped execution of TB chain" is dropped', () => {
    const steps = insns(parseQemuLog(fixture('stopped-tb.log')));
    expect(steps.map((r) => r.pc)).toEqual([0x40080000n, 0x40080004n]);
    expect(steps.map((r) => r.x[1])).toEqual([0xe4e9n, 0xe4ean]);
  });
});

describe('QemuLogParser streaming', () => {
  const names = ['basic.log', 'exceptions.log', 'fpu.log', 'sve.log', 'stopped-tb.log'];

  test.each(names)('%s split at random points parses to the same records', (name) => {
    const text = fixture(name);
    const whole = parseQemuLog(text);
    const rand = rng(name.length * 7919);
    for (let trial = 0; trial < 20; trial++) {
      const parser = new QemuLogParser();
      const got: QemuRecord[] = [];
      let pos = 0;
      while (pos < text.length) {
        // Mostly small chunks, sometimes single characters, sometimes large.
        const r = rand();
        const size = r < 0.2 ? 1 : r < 0.9 ? 1 + Math.floor(rand() * 200) : 1 + Math.floor(rand() * 5000);
        got.push(...parser.push(text.slice(pos, pos + size)));
        pos += size;
      }
      got.push(...parser.end());
      expect(got).toEqual(whole);
    }
  });

  test('one character at a time', () => {
    const text = fixture('exceptions.log');
    const parser = new QemuLogParser();
    const got: QemuRecord[] = [];
    for (const ch of text) got.push(...parser.push(ch));
    got.push(...parser.end());
    expect(got).toEqual(parseQemuLog(text));
  });

  test('records are released as soon as the next item starts', () => {
    const text = fixture('basic.log');
    const lines = text.split('\n');
    const parser = new QemuLogParser();
    // First dump (13 lines) plus the next Trace line: the first record is final.
    expect(parser.push(lines.slice(0, 13).join('\n') + '\n')).toEqual([]);
    const out = parser.push(lines[13] + '\n');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ pc: BASE });
  });

  test('readQemuLog over a byte stream with multi-chunk Buffers', async () => {
    const text = fixture('exceptions.log');
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 777) chunks.push(bytes.subarray(i, i + 777));
    const got: QemuRecord[] = [];
    for await (const r of readQemuLog(Readable.from(chunks))) got.push(r);
    expect(got).toEqual(parseQemuLog(text));
  });

  test('CRLF line ends and a missing final newline are accepted', () => {
    const text = fixture('basic.log');
    expect(parseQemuLog(text.replace(/\n/g, '\r\n'))).toEqual(parseQemuLog(text));
    expect(parseQemuLog(text.replace(/\n$/, ''))).toEqual(parseQemuLog(text));
  });
});

describe('malformed logs give QemuLogError with the line number', () => {
  const basic = fixture('basic.log');
  const lines = basic.split('\n');
  const withLine = (n: number, replacement: string | null) => {
    const copy = [...lines];
    if (replacement === null) copy.splice(n - 1, 1);
    else copy[n - 1] = replacement;
    return copy.join('\n');
  };
  const insertAfter = (n: number, text: string) => [...lines.slice(0, n), text, ...lines.slice(n)].join('\n');

  test('unrecognised text', () => {
    expectLogError(insertAfter(13, 'hello world'), 14, /unrecognised line: "hello world"/);
    expectLogError('garbage\n', 1, /unrecognised line/);
  });

  test('a register value that is not 16 hex digits', () => {
    expectLogError(withLine(3, lines[2].replace('X02=0000000000000000', 'X02=000000000000000g')), 3, /X02 is not 16 hex digits/);
    expectLogError(withLine(3, lines[2].replace('X02=0000000000000000', 'X02=000000000000000')), 3, /X02/);
  });

  test('a missing or misplaced register', () => {
    expectLogError(withLine(5, null), 5, /expected X08=/); // X08..X10 missing
    expectLogError(withLine(3, lines[3]), 3, /expected X02=/); // X05..X07 where X02..X04 belong
    expectLogError(withLine(12, lines[11].replace('  SP=0000000000000000', '')), 13, /register dump has no SP/);
  });

  test('PSTATE text that disagrees with its value', () => {
    expectLogError(withLine(13, 'PSTATE=400003c9 N--- EL2h'), 13, /NZCV letters disagree/);
    expectLogError(withLine(13, 'PSTATE=400003c9 -Z-- EL1h'), 13, /EL disagrees/);
    expectLogError(withLine(13, 'PSTATE=400003c9 -Z-- EL2t'), 13, /h\/t disagrees/);
    expectLogError(withLine(13, 'PSTATE=400003c9 -Z-- EL2h  bogus'), 13, /after the PSTATE EL field/);
  });

  test('Trace PC and PC= disagree', () => {
    expectLogError(withLine(1, lines[0].replace('/0000000040080000/', '/0000000040080004/')), 13, /differs from the Trace line's PC/);
  });

  test('a dump cut short by the next item', () => {
    const text = [...lines.slice(0, 6), ...lines.slice(13)].join('\n');
    expectLogError(text, 7, /register dump cut short/);
  });

  test('a log that ends inside a dump, and allowTruncatedTail', () => {
    const cut = basic.slice(0, basic.indexOf('X10=', basic.indexOf('PC=0000000040080008')));
    expectLogError(cut, 27, /log ends inside the register dump/);
    const parser = new QemuLogParser({ allowTruncatedTail: true });
    const got = [...parser.push(cut), ...parser.end()];
    expect(parser.truncatedTail).toBe(true);
    expect(got.map((r) => (r as QemuInsnRecord).pc)).toEqual([BASE, BASE + 4n]);
    // A cut exactly at a line end inside a dump is also incomplete.
    const atLine = lines.slice(0, 20).join('\n') + '\n';
    expectLogError(atLine, 14, /log ends inside the register dump/);
  });

  test('exception entries: out of place or incomplete', () => {
    const exc = fixture('exceptions.log').split('\n');
    const at = exc.findIndex((l) => l.startsWith('Taking exception 4'));
    // "...with ELR" missing.
    const noElr = [...exc.slice(0, at + 4), ...exc.slice(at + 5)].join('\n');
    expectLogError(noElr, at + 5, /no ELR line/);
    // Entry interrupted by a Trace line.
    const interrupted = [...exc.slice(0, at + 3), ...exc.slice(at + 6)].join('\n');
    expectLogError(interrupted, at + 4, /exception entry interrupted/);
    // Detail line with no entry.
    expectLogError(insertAfter(13, '...with ESR 0x16/0x5a000012'), 14, /outside an exception entry/);
    // ESR whose EC disagrees with the printed class.
    const badEsr = [...exc];
    badEsr[at + 2] = '...with ESR 0x16/0x97c38010';
    expectLogError(badEsr.join('\n'), at + 3, /EC/);
    // Log ends in the middle of an entry.
    expectLogError(exc.slice(0, at + 3).join('\n') + '\n', at + 1, /ends inside the exception entry/);
    expectLogError('Exception return from AArch64 EL2 to EL1 PC 0x40080000\n', 1, /malformed "Exception return"/);
  });

  test('"Stopped execution" that does not follow its dump', () => {
    expectLogError(`${basic}Stopped execution of TB chain before 0x7f00 [0000000040080000] \n`, 226, /does not follow a dump of the same PC/);
    // Mid-log, the PC must match the dump just printed.
    expectLogError(insertAfter(13, 'Stopped execution of TB chain before 0x7f00 [0000000040080008] '), 14, /same PC/);
  });

  test('unknownLines: keep and skip', () => {
    const text = insertAfter(13, 'guest wrote something');
    const kept = parseQemuLog(text, { unknownLines: 'keep' });
    expect(kept.find((r) => !isInsnRecord(r) && r.event === 'text')).toEqual({ event: 'text', line: 14, text: 'guest wrote something' });
    // Same records apart from line numbers after the insertion.
    const noLine = (rs: QemuRecord[]) => rs.map(({ line: _, ...rest }) => rest);
    expect(noLine(insns(kept))).toEqual(noLine(insns(parseQemuLog(basic))));
    expect(noLine(parseQemuLog(text, { unknownLines: 'skip' }))).toEqual(noLine(parseQemuLog(basic)));
  });

  test('random corruption never escapes as anything but QemuLogError', () => {
    const sources = ['basic.log', 'exceptions.log', 'fpu.log', 'sve.log'].map(fixture);
    const rand = rng(12345);
    let errors = 0;
    for (let trial = 0; trial < 400; trial++) {
      const src = sources[trial % sources.length].split('\n');
      const n = Math.floor(rand() * src.length);
      switch (Math.floor(rand() * 5)) {
        case 0: src.splice(n, 1); break;
        case 1: src.splice(n, 0, src[Math.floor(rand() * src.length)]); break;
        case 2: src[n] = src[n].slice(0, Math.floor(rand() * src[n].length)); break;
        case 3: {
          const i = Math.floor(rand() * src[n].length);
          src[n] = src[n].slice(0, i) + String.fromCharCode(32 + Math.floor(rand() * 95)) + src[n].slice(i + 1);
          break;
        }
        case 4: src.length = n; break;
      }
      try {
        parseQemuLog(src.join('\n'));
      } catch (err) {
        if (!(err instanceof QemuLogError)) throw err;
        expect(err.line).toBeGreaterThan(0);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(200);
  });

  test('push() after end()', () => {
    const parser = new QemuLogParser();
    parser.end();
    expect(() => parser.push('x')).toThrow(QemuLogError);
  });
});

describe('buildImage', () => {
  test('links at the base with symbols and the _start entry', () => {
    const img = buildImage('.globl _start\nnop\n_start:\n  mov x1, #1\n' + PSCI_SYSTEM_OFF_ASM);
    expect(img.entry).toBe(BASE + 4n);
    expect(img.symbols.get('_start')).toBe(BASE + 4n);
    expect(img.flat.length).toBe(20);
    expect(Array.from(img.elf.subarray(0, 4))).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  });

  test('reports assembly errors', () => {
    expect(() => buildImage('  bogus x1\n')).toThrow(/assembly failed/);
  });
});

describe.runIf(qemuAvailable())('runQemu / streamQemu against qemu-system-aarch64', () => {
  test('basic.s: same records as the captured fixture, clean PSCI power-off', () => {
    const run = runQemu(buildImage(fixture('basic.s')).elf);
    expect(run.exitedCleanly).toBe(true);
    expect(run.stopReason).toBe('system-off');
    expect(run.exitStatus).toBe(0);
    expect(run.instructions).toBe(17);
    // QEMU is deterministic here: the fixture and a fresh run agree record for record.
    expect(run.records).toEqual(parseQemuLog(fixture('basic.log')));
  });

  test('exceptions.s on cortex-a76 behaves as on cortex-a57', () => {
    const elf = buildImage(fixture('exceptions.s')).elf;
    const a57 = runQemu(elf);
    const a76 = runQemu(elf, { cpu: 'cortex-a76' });
    expect(a57.exitedCleanly && a76.exitedCleanly).toBe(true);
    expect(a76.records).toEqual(a57.records);
  });

  test('fpu option logs FP/SIMD state', () => {
    const run = runQemu(buildImage(fixture('fpu.s')).elf, { fpu: true });
    expect(run.exitedCleanly).toBe(true);
    expect(run.records).toEqual(parseQemuLog(fixture('fpu.log')));
  });

  test('serial output from the PL011', () => {
    const src = `
      .globl _start
      _start:
        movz x1, #0x0900, lsl #16
        mov w2, #'h'
        strb w2, [x1]
        mov w2, #'i'
        strb w2, [x1]
        mov w2, #10
        strb w2, [x1]
        ${PSCI_SYSTEM_OFF_ASM}`;
    const run = runQemu(buildImage(src).elf, { serial: true });
    expect(run.exitedCleanly).toBe(true);
    expect(run.serialOutput).toBe('hi\n');
    expect(runQemu(buildImage(src).elf).serialOutput).toBeUndefined();
  });

  test('a program that never powers off stops at maxInsns', () => {
    const t0 = Date.now();
    const run = runQemu(buildImage(fixture('loop.s')).elf, { maxInsns: 2000 });
    expect(run.exitedCleanly).toBe(false);
    expect(run.stopReason).toBe('max-insns');
    expect(run.instructions).toBe(2000);
    const last = run.records[run.records.length - 1] as QemuInsnRecord;
    expect(last.pc).toBe(BASE + 4n); // b _start: records alternate between the two instructions
    expect(last.x[1]).toBe(1000n);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  test('a program that waits forever is killed at the timeout', () => {
    const src = '.globl _start\n_start:\n  wfi\n  b _start\n';
    const t0 = Date.now();
    const run = runQemu(buildImage(src).elf, { timeoutMs: 1500 });
    expect(run.stopReason).toBe('timeout');
    expect(run.exitedCleanly).toBe(false);
    expect(run.instructions).toBeGreaterThanOrEqual(1);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  test('powering off without SYSTEM_OFF in w0 is not a clean exit', () => {
    // PSCI SYSTEM_RESET: QEMU exits too (-no-reboot), but that is not our protocol.
    const src = '.globl _start\n_start:\n  movz w0, #0x8400, lsl #16\n  movk w0, #9\n  smc #0\n';
    const run = runQemu(buildImage(src).elf, { timeoutMs: 10_000 });
    expect(run.exitedCleanly).toBe(false);
    expect(run.stopReason).toBe('exit');
    expect(run.records[run.records.length - 1]).toMatchObject({ event: 'psci' });
  });

  // QEMU runs any non-ELF file as a raw image, but rejects an ELF for another machine.
  const x86Elf = () => {
    const elf = buildImage(fixture('basic.s')).elf.slice();
    elf[18] = 62; // e_machine = EM_X86_64
    return elf;
  };

  test('QEMU refusing the image is an error', () => {
    expect(() => runQemu(x86Elf())).toThrow(/qemu-system-aarch64 failed \(status 1\)/);
  });

  test('streamQemu delivers the same records as runQemu', async () => {
    const elf = buildImage(fixture('exceptions.s')).elf;
    const streamed: QemuRecord[] = [];
    const result = await streamQemu(elf, {}, (r) => {
      streamed.push(r);
    });
    expect(result).toMatchObject({ exitedCleanly: true, stopReason: 'system-off', instructions: 29, exitStatus: 0 });
    expect(streamed).toEqual(runQemu(elf).records);
  });

  test('streamQemu stops at maxInsns, when onRecord returns false, and at the timeout', async () => {
    const loop = buildImage(fixture('loop.s')).elf;
    let n = 0;
    const limited = await streamQemu(loop, { maxInsns: 5000 }, () => void n++);
    expect(limited).toMatchObject({ exitedCleanly: false, stopReason: 'max-insns', instructions: 5000 });
    expect(n).toBe(5000);

    let seen = 0;
    const early = await streamQemu(loop, {}, (r) => isInsnRecord(r) && ++seen < 300);
    expect(early).toMatchObject({ stopReason: 'max-insns', instructions: 300 });

    const wfi = buildImage('.globl _start\n_start:\n  wfi\n  b _start\n').elf;
    const timedOut = await streamQemu(wfi, { timeoutMs: 1000 }, () => {});
    expect(timedOut).toMatchObject({ exitedCleanly: false, stopReason: 'timeout' });
  });

  test('streamQemu reports QEMU failing before it opens its log', async () => {
    await expect(streamQemu(x86Elf(), { timeoutMs: 20_000 }, () => {})).rejects.toThrow(/failed \(status 1\)/);
  });
});
