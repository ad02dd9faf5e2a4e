/**
 * QEMU as an execution oracle for tests: build a bare-metal image with our own
 * assembler, run it single-stepped under qemu-system-aarch64 and return the
 * parsed per-instruction log (see src/trace/qemu-log.ts and
 * /work/shared/QEMU-NOTES.md for the format and QEMU's known deviations).
 *
 * Programs are expected to end with PSCI SYSTEM_OFF:
 *   movz w0, #0x8400, lsl #16; movk w0, #8; smc #0
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants as fsConstants, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../src/asm/assembler.js';
import { linkFlat } from '../../src/asm/link-flat.js';
import { formatDiagnostic } from '../../src/common/diagnostics.js';
import { writeExecutable } from '../../src/elf/write-executable.js';
import { isInsnRecord, QemuLogParser, type QemuInsnRecord, type QemuRecord } from '../../src/trace/qemu-log.js';
import { QEMU_SYSTEM, requireOracle } from './oracle.js';

export type { QemuRecord, QemuInsnRecord } from '../../src/trace/qemu-log.js';

/** The power-off sequence as raw words, for when the assembler lacks an instruction. */
export const PSCI_SYSTEM_OFF_WORDS = [0x52b08000, 0x72800100, 0xd4000003] as const;
export const PSCI_SYSTEM_OFF_ASM = 'movz w0, #0x8400, lsl #16\nmovk w0, #8\nsmc #0\n';
const PSCI_SYSTEM_OFF = 0x84000008n;

/** For `describe.runIf(qemuAvailable())`: skips loudly without QEMU, fails under CI. */
export function qemuAvailable(): boolean {
  return requireOracle(QEMU_SYSTEM);
}

export interface BuiltImage {
  elf: Uint8Array;
  flat: Uint8Array;
  symbols: Map<string, bigint>;
  entry: bigint;
}

/**
 * Assembles `source` (gas syntax, no preprocessing) with our assembler, links
 * it flat at `base` and wraps it in an ELF executable (one rwx segment).
 * The entry point is `_start` if defined, else `base`. Throws on assembly errors.
 */
export function buildImage(source: string, base = 0x40080000n): BuiltImage {
  const result = assemble(source, { file: 'prog.s' });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`buildImage: assembly failed:\n${errors.map(formatDiagnostic).join('\n')}`);
  const image = linkFlat(result, base);
  const entry = image.symbols.get('_start') ?? base;
  const elf = writeExecutable({
    entry,
    segments: [{ vaddr: base, data: image.bytes, memsz: BigInt(image.bytes.length), flags: 'rwx' }],
    // Size 0: gdb/objdump show the names; QEMU's Trace lines stay symbol-free.
    symbols: [...image.symbols].map(([name, value]) => ({ name, value, size: 0n, type: 'notype' as const })),
  });
  return { elf, flat: image.bytes, symbols: image.symbols, entry };
}

export interface RunQemuOptions {
  /** Stop (and report exitedCleanly=false) after this many instruction records. Default 100,000. */
  maxInsns?: number;
  /** Wall-clock limit; QEMU is killed after it. Default 30 s. */
  timeoutMs?: number;
  cpu?: 'cortex-a57' | 'cortex-a76';
  /** Guest RAM, QEMU `-m` syntax. Default '128M'. */
  memory?: string;
  /** Capture what the program writes to the PL011 UART (0x0900_0000). */
  serial?: boolean;
  /** Also log FP/SIMD registers (`-d fpu`): records get fpcr/fpsr/q or fpDisabled. */
  fpu?: boolean;
  /** Extra QEMU arguments (appended). */
  extraArgs?: string[];
  /** Return QEMU's raw log text too (runQemu only), e.g. to capture fixtures. */
  keepLog?: boolean;
}

export interface QemuRun {
  records: QemuRecord[];
  /** QEMU exited by itself, status 0, right after a PSCI SYSTEM_OFF from the program. */
  exitedCleanly: boolean;
  /** Why the run ended otherwise. */
  stopReason: 'system-off' | 'exit' | 'timeout' | 'max-insns';
  exitStatus: number | null;
  serialOutput?: string;
  stderr: string;
  /** Instruction records in `records`. */
  instructions: number;
  /** The raw log, with `keepLog`. */
  log?: string;
}

// Upper bound of one logged instruction in bytes (a dump is ~830 bytes, ~2.1 KB with -d fpu).
// Decides the log-size budget behind maxInsns.
const BYTES_PER_INSN = 1000;
const BYTES_PER_INSN_FPU = 2300;
// V8's string length limit is ~512 MiB; stay well below it for the sync runner.
const MAX_SYNC_LOG_BYTES = 400 * 1024 * 1024;

function qemuArgs(dir: string, logPath: string, opts: RunQemuOptions): string[] {
  return [
    '-M', 'virt,virtualization=on',
    '-cpu', opts.cpu ?? 'cortex-a57',
    '-m', opts.memory ?? '128M',
    '-nographic', '-display', 'none', '-monitor', 'none',
    '-serial', opts.serial ? `file:${join(dir, 'serial.txt')}` : 'none',
    '-nic', 'none',
    '-no-reboot',
    '-singlestep',
    '-d', opts.fpu ? 'exec,cpu,int,nochain,fpu' : 'exec,cpu,int,nochain',
    '-D', logPath,
    '-kernel', join(dir, 'prog.elf'),
    ...(opts.extraArgs ?? []),
  ];
}

/** True when the last records are the SYSTEM_OFF call: x0 = 0x84000008 then a PSCI event. */
function endedWithSystemOff(records: QemuRecord[]): boolean {
  const last = records[records.length - 1];
  if (!last || isInsnRecord(last) || last.event !== 'psci') return false;
  for (let i = records.length - 2; i >= 0; i--) {
    const r = records[i];
    if (isInsnRecord(r)) return (r.x[0] & 0xffffffffn) === PSCI_SYSTEM_OFF;
  }
  return false;
}

/** Keeps records up to and including the `max`th instruction record (and no events after it). */
function limitInsns(records: QemuRecord[], max: number): { records: QemuRecord[]; cut: boolean } {
  let n = 0;
  for (let i = 0; i < records.length; i++) {
    if (isInsnRecord(records[i]) && ++n > max) return { records: records.slice(0, i), cut: true };
  }
  return { records, cut: false };
}

function withRunDir<T>(elf: Uint8Array, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'pkvm-qemu-'));
  try {
    writeFileSync(join(dir, 'prog.elf'), elf);
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readSerial(dir: string, opts: RunQemuOptions): string | undefined {
  if (!opts.serial) return undefined;
  const path = join(dir, 'serial.txt');
  return existsSync(path) ? readFileSync(path, 'latin1') : '';
}

/**
 * Runs `elf` under QEMU (synchronously) and returns its parsed log. A program
 * that never powers off is stopped at `timeoutMs`, or once its log passes a
 * budget of about 1 KB per instruction for `maxInsns` (records beyond
 * `maxInsns` are dropped); the records up to then are still returned.
 * For very long runs use `streamQemu`.
 */
export function runQemu(elf: Uint8Array, opts: RunQemuOptions = {}): QemuRun {
  const maxInsns = opts.maxInsns ?? 100_000;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBuffer = (maxInsns + 2) * (opts.fpu ? BYTES_PER_INSN_FPU : BYTES_PER_INSN) + 64 * 1024;
  if (maxBuffer > MAX_SYNC_LOG_BYTES) {
    throw new Error(`runQemu: maxInsns ${maxInsns} needs a ${maxBuffer}-byte log in memory; use streamQemu for long runs`);
  }
  return withRunDir(elf, (dir) => {
    const logPath = join(dir, 'qemu.log');
    const fifo = join(dir, 'qemu.fifo');
    makeFifo(fifo);
    const job = { qemu: QEMU_SYSTEM, args: qemuArgs(dir, fifo, opts), fifo, out: logPath, maxBytes: maxBuffer, timeoutMs };
    // The backstop only matters if the supervisor itself wedges.
    const run = spawnSync(process.execPath, ['-e', SUPERVISOR, JSON.stringify(job)], {
      cwd: dir,
      encoding: 'utf8',
      timeout: timeoutMs + 30_000,
      killSignal: 'SIGKILL',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (run.error) throw new Error(`runQemu: the QEMU supervisor failed: ${run.error.message}\n${run.stderr ?? ''}`);
    let outcome: SupervisorOutcome;
    try {
      outcome = JSON.parse(run.stdout) as SupervisorOutcome;
    } catch {
      throw new Error(`runQemu: the QEMU supervisor failed (status ${run.status}):\n${run.stderr}`);
    }
    const stderr = run.stderr ?? '';
    if (outcome.spawnError) throw new Error(`runQemu: ${QEMU_SYSTEM} could not be run: ${outcome.spawnError}`);
    const log = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
    const killed = outcome.stopped !== undefined || outcome.signal !== null;
    // A stopped QEMU may leave a partial dump at the end; anything else malformed is an error.
    const parser = new QemuLogParser({ allowTruncatedTail: killed || outcome.status !== 0 });
    const parsed = parser.push(log);
    parsed.push(...parser.end());
    const limited = limitInsns(parsed, maxInsns);
    const records = limited.records;
    const systemOff = !killed && outcome.status === 0 && !limited.cut && endedWithSystemOff(records);
    const stopReason: QemuRun['stopReason'] =
      outcome.stopped === 'timeout' ? 'timeout'
      : outcome.stopped === 'max-bytes' || limited.cut ? 'max-insns'
      : systemOff ? 'system-off'
      : 'exit';
    if (!killed && outcome.status !== 0 && parsed.length === 0) {
      throw new Error(`runQemu: ${QEMU_SYSTEM} failed (status ${outcome.status}):\n${stderr}`);
    }
    return {
      records,
      exitedCleanly: systemOff,
      stopReason,
      exitStatus: outcome.status,
      serialOutput: readSerial(dir, opts),
      stderr,
      instructions: records.filter(isInsnRecord).length,
      ...(opts.keepLog ? { log } : {}),
    };
  });
}

function makeFifo(path: string): void {
  const mk = spawnSync('mkfifo', [path], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`mkfifo failed: ${mk.stderr || mk.error?.message}`);
}

interface SupervisorOutcome {
  status: number | null;
  signal: string | null;
  stopped?: 'timeout' | 'max-bytes';
  spawnError?: string;
}

/**
 * runQemu is synchronous, but a runaway program must be cut off as soon as
 * its log passes the byte budget (full logging writes ~100 MB/s). So a small
 * Node process supervises QEMU: it reads the log from a FIFO (QEMU cannot
 * open our stdio socket by path; logging to stderr is unbuffered and ~5x
 * slower), copies up to maxBytes to a file, stops QEMU on the budget or the
 * timeout (SIGTERM, which flushes the log; SIGKILL 5 s later), and prints the
 * outcome as JSON. Plain JS: it runs under `node -e`.
 */
const SUPERVISOR = String.raw`
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const job = JSON.parse(process.argv[1]);
const out = fs.openSync(job.out, 'w');
let bytes = 0, stopped, exited = false, opened = false, result, logEnded = false;
const child = spawn(job.qemu, job.args, { stdio: ['ignore', 'ignore', 'inherit'] });
const stop = (why) => {
  if (stopped) return;
  stopped = why;
  if (exited) return;
  child.kill('SIGTERM');
  setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000).unref();
};
const timer = setTimeout(() => stop('timeout'), job.timeoutMs);
const log = fs.createReadStream(job.fifo, { highWaterMark: 1 << 20 });
log.on('open', () => { opened = true; });
// Keep draining after the budget: QEMU blocked on a full FIFO could not shut down.
log.on('data', (b) => {
  if (bytes >= job.maxBytes) return;
  const n = Math.min(b.length, job.maxBytes - bytes);
  fs.writeSync(out, b, 0, n);
  bytes += n;
  if (bytes >= job.maxBytes) stop('max-bytes');
});
const finish = () => {
  if (!result || !logEnded) return;
  clearTimeout(timer);
  fs.closeSync(out);
  process.stdout.write(JSON.stringify({ ...result, stopped }));
  process.exit(0);
};
log.on('end', () => { logEnded = true; finish(); });
log.on('error', (e) => { logEnded = true; finish(); });
const done = (r) => {
  if (result) return;
  exited = true;
  result = r;
  // QEMU gone before opening the log: release our blocked open of the FIFO.
  const unblock = (tries) => {
    if (opened || logEnded) return;
    try { fs.closeSync(fs.openSync(job.fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); }
    catch { if (tries > 0) setTimeout(() => unblock(tries - 1), 10); }
  };
  unblock(500);
  finish();
};
child.on('exit', (status, signal) => done({ status, signal }));
child.on('error', (e) => done({ status: null, signal: null, spawnError: e.message }));
`;

export interface StreamQemuResult {
  exitedCleanly: boolean;
  stopReason: QemuRun['stopReason'];
  exitStatus: number | null;
  serialOutput?: string;
  stderr: string;
  instructions: number;
}

/**
 * Like runQemu, but hands each record to `onRecord` as QEMU produces it
 * instead of collecting them, so runs of any length fit in memory. Returning
 * false from `onRecord` stops QEMU early (stopReason 'max-insns').
 * Default maxInsns here is unlimited; default timeout 10 minutes.
 */
export async function streamQemu(
  elf: Uint8Array,
  opts: RunQemuOptions,
  onRecord: (record: QemuRecord) => boolean | void,
): Promise<StreamQemuResult> {
  const maxInsns = opts.maxInsns ?? Number.POSITIVE_INFINITY;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const dir = mkdtempSync(join(tmpdir(), 'pkvm-qemu-'));
  try {
    writeFileSync(join(dir, 'prog.elf'), elf);
    // QEMU logs into a FIFO we read as it runs: constant memory and disk,
    // and QEMU simply blocks while we are busy.
    const fifo = join(dir, 'qemu.log');
    makeFifo(fifo);
    const child = spawn(QEMU_SYSTEM, qemuArgs(dir, fifo, opts), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const log = createReadStream(fifo, { encoding: 'utf8', highWaterMark: 1 << 20 });
    const parser = new QemuLogParser({ allowTruncatedTail: true });
    let stderr = '';
    let instructions = 0;
    let stopped: 'timeout' | 'max-insns' | undefined;
    let lastInsn: QemuInsnRecord | undefined;
    let lastRecord: QemuRecord | undefined;
    let failure: unknown;
    let exited = false;
    const stop = (why: 'timeout' | 'max-insns') => {
      if (stopped) return;
      stopped = why;
      if (exited) return;
      child.kill('SIGTERM');
      // Never let a wedged QEMU hang the test run.
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 5000).unref();
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const deliver = (records: QemuRecord[]) => {
      for (const r of records) {
        if (stopped) return;
        if (isInsnRecord(r)) {
          if (instructions >= maxInsns) {
            stop('max-insns');
            return;
          }
          instructions++;
          lastInsn = r;
        }
        lastRecord = r;
        if (onRecord(r) === false) {
          stop('max-insns');
          return;
        }
      }
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => (stderr += s));
    log.on('data', (s: string | Buffer) => {
      if (stopped || failure) return;
      try {
        deliver(parser.push(typeof s === 'string' ? s : s.toString('utf8')));
      } catch (err) {
        // A malformed log or an exception from onRecord: stop QEMU, rethrow below.
        failure = err;
        stop('max-insns');
      }
    });
    let logOpened = false;
    log.on('open', () => (logOpened = true));
    const logDone = new Promise<void>((resolve, reject) => {
      log.on('end', resolve);
      log.on('error', reject);
    });
    let status: number | null = null;
    let signal: NodeJS.Signals | null = null;
    try {
      let spawnError: Error | undefined;
      [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
        child.on('error', (err) => {
          spawnError = err;
          resolve([null, null]);
        });
        child.on('exit', (c, s) => resolve([c, s]));
      });
      exited = true;
      // If QEMU died before opening the log, our open of the FIFO is still
      // blocked; opening and closing the write end releases it (then EOF).
      for (let i = 0; i < 100 && !logOpened; i++) {
        try {
          closeSync(openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 10)); // our reader is not waiting yet
        }
      }
      if (spawnError) throw new Error(`streamQemu: ${QEMU_SYSTEM} could not be run: ${spawnError.message}`);
      await logDone;
    } finally {
      clearTimeout(timer);
      log.destroy();
    }
    if (failure) throw failure;
    if (!stopped) deliver(parser.end());
    if (!stopped && signal === null && status !== 0 && instructions === 0) {
      throw new Error(`streamQemu: ${QEMU_SYSTEM} failed (status ${status}):\n${stderr}`);
    }
    const systemOff =
      !stopped && status === 0 && lastRecord !== undefined && !isInsnRecord(lastRecord) && lastRecord.event === 'psci' &&
      lastInsn !== undefined && (lastInsn.x[0] & 0xffffffffn) === PSCI_SYSTEM_OFF;
    return {
      exitedCleanly: systemOff,
      stopReason: stopped ?? (systemOff ? 'system-off' : 'exit'),
      exitStatus: status,
      serialOutput: readSerial(dir, opts),
      stderr,
      instructions,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
