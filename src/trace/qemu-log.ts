/**
 * Parser for QEMU 7.2 `qemu-system-aarch64 -singlestep -d exec,cpu,int,nochain[,fpu]`
 * logs, the execution oracle our interpreter is compared against.
 *
 * With `-singlestep` every translation block is one instruction, so each
 * `Trace` line plus the register dump after it is the CPU state *before* one
 * instruction. `-d int` adds exception entries and exception returns between
 * those dumps. The parser reports exactly what QEMU printed (including its
 * known deviations from the architecture); it only cross-checks the redundant
 * parts of each dump (Trace PC vs PC=, PSTATE value vs its decoded text) so a
 * garbled log is reported rather than silently misread.
 *
 * Line shapes (QEMU 7.2, AArch64 guest):
 *
 *   Trace 0: 0x7fb618000100 [0000000000000000/0000000040080000/00000061/ff000201] SYMBOL
 *    PC=0000000040080000 X00=0000000000000000 X01=0000000000000000
 *   X02=... X03=... X04=...            (three per line up to X28)
 *   X29=0000000000000000 X30=0000000000000000  SP=0000000000000000
 *   PSTATE=400003c9 -Z-- EL2h[  SVCR=00000000 --][  BTYPE=0][     FPCR=00000000 FPSR=00000000 | "    FPU disabled"]
 *   Q00=hi:lo Q01=hi:lo                (with -d fpu, no SVE: 16 lines)
 *   P00=... FFR=... Z00[3-2]=...:...   (with -d fpu and SVE: predicates, FFR, Z registers)
 *   Taking exception 11 [Hypervisor Call] on CPU 0
 *   ...from EL1 to EL2
 *   ...with ESR 0x16/0x5a000012
 *   ...with FAR 0x...                  (aborts only)
 *   ...with ELR 0x40080038
 *   ...to EL2 PC 0x40080c00 PSTATE 0x3c9
 *   ...handled as PSCI call            (instead of ELR/"to" lines: QEMU's built-in PSCI)
 *   Exception return from AArch64 EL2 to AArch64 EL1 PC 0x40080030
 *   Stopped execution of TB chain before 0x7f1adc000240 [0000000040080004]
 *
 * The last form means the block just traced did *not* execute (QEMU saw an
 * exit request before running it; it is traced again when it does run), so
 * the parser drops the dump it belongs to. That is why an instruction record
 * is held back until the next line that is not part of its dump.
 */

export interface QemuInsnRecord {
  /** Log line of the `Trace` line (1-based), for diagnostics. */
  line: number;
  cpu: number;
  pc: bigint;
  el: number;
  /** PSTATE.SP: 'h' = SP_ELx, 't' = SP_EL0. */
  spsel: 'h' | 't';
  /** The 32-bit PSTATE value QEMU printed (its SPSR-like packing). */
  pstate: number;
  /** N=8, Z=4, C=2, V=1. */
  nzcv: number;
  /** X0..X30. */
  x: bigint[];
  /** SP of the current EL/SPSel. */
  sp: bigint;
  /** Symbol QEMU found for the PC (only for ELF symbols with a size). */
  symbol?: string;
  /** "NS"/"S" when the CPU has EL3 (QEMU prints it only then). */
  security?: 'NS' | 'S';
  btype?: number;
  svcr?: number;
  /** With `-d fpu`: set when FP/SIMD access traps at the current EL (QEMU then prints no FP state). */
  fpDisabled?: true;
  fpcr?: number;
  fpsr?: number;
  /** With `-d fpu`: V0..V31 as 128-bit values (the low 128 bits of Z0..Z31 with SVE). */
  q?: bigint[];
  /** With `-d fpu` and SVE: full Z/P/FFR registers at the current vector length. */
  z?: bigint[];
  p?: bigint[];
  ffr?: bigint;
}

export interface QemuExceptionEvent {
  event: 'exception';
  line: number;
  cpu: number;
  /** QEMU's exception index (EXCP_*), e.g. 1 UDEF, 2 SWI, 3 prefetch abort, 4 data abort, 11 HVC. */
  number: number;
  name: string;
  from_el: number;
  to_el: number;
  /** Exception class as QEMU printed it (the ESR's EC). */
  ec: number;
  esr: number;
  far?: bigint;
  elr: bigint;
  /** Vector address the exception went to. */
  pc: bigint;
  /** PSTATE after entry (note: QEMU 7.2 clears NZCV here, the architecture keeps them). */
  pstate: number;
}

/** An SMC/HVC that QEMU's built-in PSCI firmware handled itself (no vectoring). */
export interface QemuPsciEvent {
  event: 'psci';
  line: number;
  cpu: number;
  number: number;
  name: string;
  from_el: number;
  /** QEMU reports EL3 for its firmware; nothing runs there. */
  to_el: number;
  ec: number;
  esr: number;
}

/** A semihosting call QEMU handled itself. */
export interface QemuSemihostingEvent {
  event: 'semihosting';
  line: number;
  cpu: number;
  number: number;
  name: string;
  from_el: number;
  to_el: number;
  ec?: number;
  esr?: number;
}

export interface QemuEretEvent {
  event: 'eret';
  line: number;
  from_el: number;
  to_el: number;
  pc: bigint;
  /** Set when the return went to AArch32 state. */
  to_aarch32?: true;
}

/** A line the parser does not know, kept when `unknownLines: 'keep'`. */
export interface QemuTextEvent {
  event: 'text';
  line: number;
  text: string;
}

export type QemuEvent = QemuExceptionEvent | QemuPsciEvent | QemuSemihostingEvent | QemuEretEvent | QemuTextEvent;
export type QemuRecord = QemuInsnRecord | QemuEvent;

export function isInsnRecord(r: QemuRecord): r is QemuInsnRecord {
  return !('event' in r);
}

export class QemuLogError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
    readonly text?: string,
  ) {
    super(`QEMU log line ${line}: ${detail}${text === undefined ? '' : `: ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text)}`}`);
    this.name = 'QemuLogError';
  }
}

export interface QemuLogParserOptions {
  /** What to do with lines that are not part of the known format (default 'error'). */
  unknownLines?: 'error' | 'keep' | 'skip';
  /**
   * Accept a log that ends in the middle of a dump or exception entry, e.g.
   * because QEMU was killed; the incomplete item is dropped and
   * `truncatedTail` is set. Default false: a clear error.
   */
  allowTruncatedTail?: boolean;
}

const TRACE_RE = /^Trace (\d+): 0x[0-9a-f]+ \[([0-9a-f]+)\/([0-9a-f]+)\/([0-9a-f]+)\/([0-9a-f]+)\] ?(.*)$/;
const STOPPED_RE = /^Stopped execution of TB chain before 0x[0-9a-f]+ \[([0-9a-f]+)\] ?(.*)$/;
const PSTATE_RE = /^PSTATE=([0-9a-f]{8}) ([N-])([Z-])([C-])([V-]) (?:(NS|S) )?EL([0-3])([ht])(.*)$/;
const TAKING_RE = /^Taking exception (\d+) \[([^\]]*)\] on CPU (\d+)$/;
const ERET_RE = /^Exception return from AArch64 EL([0-3]) to (AArch64|AArch32) EL([0-3]) PC 0x([0-9a-f]+)$/;
const FROM_RE = /^\.\.\.from EL([0-3]) to EL([0-3])$/;
const ESR_RE = /^\.\.\.with ESR 0x([0-9a-f]+)\/0x([0-9a-f]+)$/;
const FAR_RE = /^\.\.\.with FAR 0x([0-9a-f]+)$/;
const ELR_RE = /^\.\.\.with ELR 0x([0-9a-f]+)$/;
const TO_RE = /^\.\.\.to EL([0-3]) PC 0x([0-9a-f]+) PSTATE 0x([0-9a-f]+)$/;
const SVE_CONT_RE = /^\s+\[[\d-]+\]=([0-9a-f:]+)\s*$/;
// PSTATE-line tail: optional SVCR and BTYPE, then the FP part (with -d fpu).
const PSTATE_TAIL_RE = /^(?:\s+SVCR=([0-9a-f]{8}) [S-][Z-])?(?:\s+BTYPE=(\d))?(?:(\s+FPU disabled)|\s+FPCR=([0-9a-f]{8}) FPSR=([0-9a-f]{8}))?\s*$/;

const MASK128 = (1n << 128n) - 1n;
const MAX_LINE = 1 << 20;
const hex = (s: string) => BigInt(`0x${s}`);

interface DumpInProgress {
  rec: QemuInsnRecord;
  /** Trace line's PC, checked against PC=. */
  tracePc: bigint;
  /** PC, X0..X30, SP as parsed so far. */
  vals: bigint[];
  count: number;
  /** Which part of the dump comes next. */
  phase: 'gprs' | 'fp' | 'done';
  /** FP part: 'q' for Q lines, 'sve' for P/FFR/Z lines; decided by the first line. */
  fpKind?: 'q' | 'sve';
  q?: (bigint | undefined)[];
  sveP?: Map<number, bigint>;
  sveZ?: Map<number, string>;
  lastZ?: number;
}

interface ExceptionInProgress {
  line: number;
  cpu: number;
  number: number;
  name: string;
  from_el?: number;
  to_el?: number;
  ec?: number;
  esr?: number;
  far?: bigint;
  elr?: bigint;
}

const GPR_NAMES: readonly string[] = ['PC', ...Array.from({ length: 31 }, (_, i) => `X${String(i).padStart(2, '0')}`), 'SP'];
const HEX16_RE = /^[0-9a-f]{16}$/;

interface ParsedPstate {
  text: string;
  pstate: number;
  el: number;
  spsel: 'h' | 't';
  security?: 'NS' | 'S';
  svcr?: number;
  btype?: number;
  fp?: 'disabled' | { fpcr: number; fpsr: number };
}

/** Decodes a PSTATE line and checks its text against the value it prints. */
function parsePstateLine(line: string, fail: (detail: string) => never): ParsedPstate {
  const m = PSTATE_RE.exec(line);
  if (!m) fail('malformed PSTATE line');
  const pstate = Number.parseInt(m[1], 16) >>> 0;
  const letters = (m[2] === 'N' ? 8 : 0) | (m[3] === 'Z' ? 4 : 0) | (m[4] === 'C' ? 2 : 0) | (m[5] === 'V' ? 1 : 0);
  if (letters !== pstate >>> 28) fail('NZCV letters disagree with the PSTATE value');
  const el = Number(m[7]);
  if (el !== ((pstate >>> 2) & 3)) fail('EL disagrees with PSTATE.EL');
  const spsel = m[8] as 'h' | 't';
  if ((spsel === 'h') !== ((pstate & 1) === 1)) fail('h/t disagrees with PSTATE.SP');
  const p: ParsedPstate = { text: line, pstate, el, spsel };
  if (m[6] !== undefined) p.security = m[6] as 'NS' | 'S';
  const tail = PSTATE_TAIL_RE.exec(m[9]);
  if (!tail) fail('unrecognised text after the PSTATE EL field');
  if (tail[1] !== undefined) p.svcr = Number.parseInt(tail[1], 16);
  if (tail[2] !== undefined) p.btype = Number(tail[2]);
  if (tail[3] !== undefined) p.fp = 'disabled';
  else if (tail[4] !== undefined) p.fp = { fpcr: Number.parseInt(tail[4], 16), fpsr: Number.parseInt(tail[5], 16) };
  return p;
}

/**
 * Incremental parser: feed text with `push` in chunks split anywhere, then
 * call `end`. Each call returns the records completed so far.
 */
export class QemuLogParser {
  /** True after `end()` dropped an incomplete final item (only with allowTruncatedTail). */
  truncatedTail = false;
  private partial = '';
  private lineNo = 0;
  private dump: DumpInProgress | undefined;
  /** A finished dump held back in case a "Stopped execution" line cancels it. */
  private held: QemuInsnRecord | undefined;
  private exc: ExceptionInProgress | undefined;
  private out: QemuRecord[] = [];
  private ended = false;
  private readonly unknownLines: 'error' | 'keep' | 'skip';
  private readonly allowTruncatedTail: boolean;
  private readonly lastHex: string[] = [];
  private readonly lastVal: bigint[] = [];
  private lastPstate: ParsedPstate | undefined;

  constructor(opts: QemuLogParserOptions = {}) {
    this.unknownLines = opts.unknownLines ?? 'error';
    this.allowTruncatedTail = opts.allowTruncatedTail ?? false;
  }

  push(chunk: string): QemuRecord[] {
    if (this.ended) throw new QemuLogError(this.lineNo, 'push() after end()');
    const text = this.partial + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      let line = text.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.lineNo++;
      this.handleLine(line);
      start = nl + 1;
    }
    this.partial = text.slice(start);
    // QEMU's lines are short; a huge unterminated one means this is no log
    // (and re-concatenating it on every push would go quadratic).
    if (this.partial.length > MAX_LINE) throw new QemuLogError(this.lineNo + 1, `line longer than ${MAX_LINE} characters; not a QEMU log?`);
    return this.take();
  }

  end(): QemuRecord[] {
    if (this.ended) return [];
    this.ended = true;
    if (this.partial !== '') {
      const line = this.partial;
      this.partial = '';
      this.lineNo++;
      if (this.allowTruncatedTail) {
        // QEMU ends every line, so a last line without '\n' was cut off: it
        // is not trusted, nor is a dump or exception entry it continued.
        this.truncatedTail = true;
        if (this.dump && !(this.dump.phase !== 'gprs' && this.dumpComplete(this.dump))) this.dump = undefined;
        this.exc = undefined;
        if (line.startsWith('Stopped')) this.held = undefined; // probably cancels the last dump
      } else {
        this.handleLine(line); // a hand-written log without a final newline
      }
    }
    if (this.dump) {
      if (this.dumpComplete(this.dump)) {
        this.finishDump();
      } else if (this.allowTruncatedTail) {
        this.dump = undefined;
        this.truncatedTail = true;
      } else {
        throw new QemuLogError(this.dump.rec.line, 'log ends inside the register dump that starts here');
      }
    }
    if (this.exc) {
      if (!this.allowTruncatedTail) {
        throw new QemuLogError(this.exc.line, 'log ends inside the exception entry that starts here');
      }
      this.exc = undefined;
      this.truncatedTail = true;
    }
    this.releaseHeld();
    return this.take();
  }

  /** Lines consumed so far. */
  get lines(): number {
    return this.lineNo;
  }

  private take(): QemuRecord[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private fail(detail: string, text?: string): never {
    throw new QemuLogError(this.lineNo, detail, text);
  }

  private releaseHeld(): void {
    if (this.held) {
      this.out.push(this.held);
      this.held = undefined;
    }
  }

  private handleLine(line: string): void {
    // Inside a register dump, lines belong to it until it is complete.
    if (this.dump && this.dumpLine(this.dump, line)) return;
    if (this.exc && this.exceptionLine(this.exc, line)) return;
    if (this.exc) this.fail('exception entry interrupted before its "...to EL" or "...handled as" line', line);

    if (line.startsWith('Trace ')) {
      const m = TRACE_RE.exec(line);
      if (!m) this.fail('malformed Trace line', line);
      this.releaseHeld();
      const rec: QemuInsnRecord = {
        line: this.lineNo,
        cpu: Number(m[1]),
        pc: 0n,
        el: 0,
        spsel: 'h',
        pstate: 0,
        nzcv: 0,
        x: [],
        sp: 0n,
      };
      if (m[6] !== '') rec.symbol = m[6];
      this.dump = { rec, tracePc: hex(m[3]), vals: new Array<bigint>(GPR_NAMES.length), count: 0, phase: 'gprs' };
      return;
    }
    if (line.startsWith('Stopped execution')) {
      const m = STOPPED_RE.exec(line);
      if (!m) this.fail('malformed "Stopped execution" line', line);
      const pc = hex(m[1]);
      if (!this.held || this.held.pc !== pc) {
        this.fail('"Stopped execution" does not follow a dump of the same PC', line);
      }
      this.held = undefined; // that block never ran
      return;
    }
    if (line.startsWith('Taking exception')) {
      const m = TAKING_RE.exec(line);
      if (!m) this.fail('malformed "Taking exception" line', line);
      this.releaseHeld();
      this.exc = { line: this.lineNo, number: Number(m[1]), name: m[2], cpu: Number(m[3]) };
      return;
    }
    if (line.startsWith('Exception return')) {
      const m = ERET_RE.exec(line);
      if (!m) this.fail('malformed "Exception return" line', line);
      this.releaseHeld();
      const ev: QemuEretEvent = { event: 'eret', line: this.lineNo, from_el: Number(m[1]), to_el: Number(m[3]), pc: hex(m[4]) };
      if (m[2] === 'AArch32') ev.to_aarch32 = true;
      this.out.push(ev);
      return;
    }
    if (line.startsWith('Linking TBs')) return; // only without nochain; says nothing about state
    if (line.startsWith('...')) this.fail('exception detail line outside an exception entry', line);
    if (/^ ?(PC|X\d\d|SP|PSTATE|Q\d\d)=/.test(line)) this.fail('register dump line without a preceding Trace line', line);
    if (/^ ?R00=/.test(line)) this.fail('AArch32 register dumps are not supported', line);
    if (line.trim() === '' && this.unknownLines !== 'error') return;
    switch (this.unknownLines) {
      case 'error':
        this.fail('unrecognised line', line);
      case 'keep':
        this.releaseHeld();
        this.out.push({ event: 'text', line: this.lineNo, text: line });
        return;
      case 'skip':
        return;
    }
  }

  /** Returns true if `line` was part of the dump; finishes the dump when it is complete. */
  private dumpLine(d: DumpInProgress, line: string): boolean {
    if (d.phase === 'gprs') {
      if (line.startsWith('PSTATE=')) this.pstateLine(d, line);
      else this.gprLine(d, line);
      return true;
    }
    if (d.phase === 'fp') {
      if (this.fpLine(d, line)) return true;
      if (!this.dumpComplete(d)) this.fail('register dump ends before all FP/SIMD registers were printed', line);
      this.finishDump();
      return false;
    }
    // phase 'done': the dump is over; the line belongs to whatever follows.
    this.finishDump();
    return false;
  }

  /**
   * `NAME=hhhhhhhhhhhhhhhh` tokens separated by spaces, in QEMU's fixed order
   * PC, X00..X30, SP. Hand-scanned: this is the hot loop for big logs.
   */
  private gprLine(d: DumpInProgress, line: string): void {
    const n = line.length;
    let i = 0;
    let any = false;
    for (;;) {
      while (i < n && line.charCodeAt(i) === 32) i++;
      if (i >= n) break;
      const eq = line.indexOf('=', i);
      const want = GPR_NAMES[d.count];
      if (eq < 0 || want === undefined || line.slice(i, eq) !== want) {
        if (!any && /^[A-Z][a-z]/.test(line)) this.fail('register dump cut short', line);
        this.fail(want === undefined ? 'unexpected text after SP in the register dump' : `malformed register dump line (expected ${want}=)`, line);
      }
      const end = eq + 17;
      const digits = line.slice(eq + 1, end);
      if (end > n || (end < n && line.charCodeAt(end) !== 32)) this.fail(`register ${want} is not 16 hex digits`, line);
      d.vals[d.count] = this.cachedHex(d.count, digits, want, line);
      d.count++;
      any = true;
      i = end;
    }
    if (!any) this.fail('empty line inside a register dump', line);
  }

  /** Consecutive dumps mostly repeat register values, so reuse the last parse per slot. */
  private cachedHex(slot: number, digits: string, name: string, line: string): bigint {
    if (this.lastHex[slot] === digits) return this.lastVal[slot];
    if (!HEX16_RE.test(digits)) this.fail(`register ${name} is not 16 hex digits`, line);
    const v = BigInt(`0x${digits}`);
    this.lastHex[slot] = digits;
    this.lastVal[slot] = v;
    return v;
  }

  private pstateLine(d: DumpInProgress, line: string): void {
    if (d.count !== GPR_NAMES.length) this.fail(`register dump has no ${GPR_NAMES[d.count]}`, line);
    const rec = d.rec;
    const pc = d.vals[0];
    if (pc !== d.tracePc) this.fail(`PC=${pc.toString(16)} differs from the Trace line's PC ${d.tracePc.toString(16)}`, line);
    rec.pc = pc;
    rec.x = d.vals.slice(1, 32);
    rec.sp = d.vals[32];
    // PSTATE lines repeat too; parse each distinct one once.
    let p = this.lastPstate;
    if (p === undefined || p.text !== line) {
      p = parsePstateLine(line, (detail) => this.fail(detail, line));
      this.lastPstate = p;
    }
    rec.pstate = p.pstate;
    rec.nzcv = p.pstate >>> 28;
    rec.el = p.el;
    rec.spsel = p.spsel;
    if (p.security !== undefined) rec.security = p.security;
    if (p.svcr !== undefined) rec.svcr = p.svcr;
    if (p.btype !== undefined) rec.btype = p.btype;
    if (p.fp === 'disabled') {
      rec.fpDisabled = true;
      d.phase = 'done';
    } else if (p.fp !== undefined) {
      rec.fpcr = p.fp.fpcr;
      rec.fpsr = p.fp.fpsr;
      d.phase = 'fp';
    } else {
      d.phase = 'done';
    }
  }

  /** One line of the FP part of a dump; false if the line is not one. */
  private fpLine(d: DumpInProgress, line: string): boolean {
    if (d.fpKind === undefined) {
      if (line.startsWith('Q')) d.fpKind = 'q';
      else if (line.startsWith('P') || line.startsWith('FFR') || line.startsWith('Z')) d.fpKind = 'sve';
      else return false;
    }
    if (d.fpKind === 'q') {
      if (!line.startsWith('Q')) return false;
      d.q ??= new Array(32).fill(undefined);
      let m: RegExpExecArray | null;
      const re = /Q(\d\d)=([0-9a-f]{16}):([0-9a-f]{16})/g;
      let consumed = 0;
      let any = false;
      while ((m = re.exec(line)) !== null) {
        if (line.slice(consumed, m.index).trim() !== '') break;
        any = true;
        consumed = m.index + m[0].length;
        const n = Number(m[1]);
        if (n > 31 || d.q[n] !== undefined) this.fail(`unexpected or repeated Q${m[1]}`, line);
        d.q[n] = (hex(m[2]) << 64n) | hex(m[3]);
      }
      if (!any || line.slice(consumed).trim() !== '') this.fail('malformed Q register line', line);
      return true;
    }
    // SVE: P00=.. and FFR=.. tokens, then Znn=hi:lo (two per line) or, for
    // longer vectors, Znn[3-2]=a:b:c:d with "   [1-0]=..." continuation lines.
    d.sveP ??= new Map();
    d.sveZ ??= new Map();
    const cm = SVE_CONT_RE.exec(line);
    if (cm) {
      if (d.lastZ === undefined) this.fail('SVE continuation line before any Z register', line);
      d.sveZ.set(d.lastZ, `${d.sveZ.get(d.lastZ)}:${cm[1]}`);
      return true;
    }
    if (!/^(P\d\d|FFR|Z\d\d)[[=]/.test(line)) return false;
    const re = /(P|FFR|Z)(\d\d)?(?:\[[\d-]+\])?=([0-9a-f:]+)/g;
    let m: RegExpExecArray | null;
    let consumed = 0;
    while ((m = re.exec(line)) !== null) {
      if (line.slice(consumed, m.index).trim() !== '') break;
      consumed = m.index + m[0].length;
      const n = Number(m[2]);
      if (m[1] === 'FFR' && m[2] === undefined) {
        d.rec.ffr = hex(m[3].replace(/:/g, ''));
      } else if (m[1] === 'P' && n <= 15 && !d.sveP.has(n)) {
        d.sveP.set(n, hex(m[3].replace(/:/g, '')));
      } else if (m[1] === 'Z' && n <= 31 && !d.sveZ.has(n)) {
        d.sveZ.set(n, m[3]);
        d.lastZ = n;
      } else {
        this.fail(`unexpected or repeated SVE register ${m[1]}${m[2] ?? ''}`, line);
      }
    }
    if (line.slice(consumed).trim() !== '') this.fail('malformed SVE register line', line);
    return true;
  }

  private dumpComplete(d: DumpInProgress): boolean {
    if (d.phase === 'done') return true;
    if (d.phase !== 'fp') return false;
    if (d.fpKind === 'q') return d.q !== undefined && d.q.every((v) => v !== undefined);
    if (d.fpKind === 'sve') return d.sveZ !== undefined && d.sveZ.size === 32 && d.sveP!.size === 16 && d.rec.ffr !== undefined;
    return false;
  }

  private finishDump(): void {
    const d = this.dump!;
    this.dump = undefined;
    const rec = d.rec;
    if (d.fpKind === 'q') {
      rec.q = d.q as bigint[];
    } else if (d.fpKind === 'sve') {
      rec.z = [];
      rec.p = [];
      for (let i = 0; i < 32; i++) rec.z.push(hex(d.sveZ!.get(i)!.replace(/:/g, '')));
      for (let i = 0; i < 16; i++) rec.p.push(d.sveP!.get(i)!);
      rec.q = rec.z.map((v) => v & MASK128);
    }
    this.held = rec;
  }

  /** Returns true if `line` continues the exception entry; finishes it when complete. */
  private exceptionLine(e: ExceptionInProgress, line: string): boolean {
    if (!line.startsWith('...')) return false;
    let m: RegExpExecArray | null;
    if ((m = FROM_RE.exec(line))) {
      if (e.from_el !== undefined) this.fail('repeated "...from" line', line);
      e.from_el = Number(m[1]);
      e.to_el = Number(m[2]);
      return true;
    }
    if (e.from_el === undefined) this.fail('exception entry without its "...from ELa to ELb" line', line);
    if ((m = ESR_RE.exec(line))) {
      e.ec = Number.parseInt(m[1], 16);
      e.esr = Number.parseInt(m[2], 16) >>> 0;
      if (e.esr >>> 26 !== e.ec) this.fail('ESR exception class disagrees with the printed EC', line);
      return true;
    }
    if ((m = FAR_RE.exec(line))) {
      e.far = hex(m[1]);
      return true;
    }
    if ((m = ELR_RE.exec(line))) {
      e.elr = hex(m[1]);
      return true;
    }
    if ((m = TO_RE.exec(line))) {
      if (e.esr === undefined || e.ec === undefined) this.fail('exception entry has no ESR line', line);
      if (e.elr === undefined) this.fail('exception entry has no ELR line', line);
      if (Number(m[1]) !== e.to_el) this.fail('"...to EL" disagrees with the "...from ... to" line', line);
      const ev: QemuExceptionEvent = {
        event: 'exception',
        line: e.line,
        cpu: e.cpu,
        number: e.number,
        name: e.name,
        from_el: e.from_el,
        to_el: e.to_el!,
        ec: e.ec,
        esr: e.esr,
        elr: e.elr,
        pc: hex(m[2]),
        pstate: Number.parseInt(m[3], 16) >>> 0,
      };
      if (e.far !== undefined) ev.far = e.far;
      this.out.push(ev);
      this.exc = undefined;
      return true;
    }
    if (line === '...handled as PSCI call') {
      if (e.esr === undefined || e.ec === undefined) this.fail('PSCI call entry has no ESR line', line);
      this.out.push({
        event: 'psci',
        line: e.line,
        cpu: e.cpu,
        number: e.number,
        name: e.name,
        from_el: e.from_el,
        to_el: e.to_el!,
        ec: e.ec,
        esr: e.esr,
      });
      this.exc = undefined;
      return true;
    }
    if (line === '...handled as semihosting call') {
      const ev: QemuSemihostingEvent = {
        event: 'semihosting',
        line: e.line,
        cpu: e.cpu,
        number: e.number,
        name: e.name,
        from_el: e.from_el,
        to_el: e.to_el!,
      };
      if (e.esr !== undefined) {
        ev.esr = e.esr;
        ev.ec = e.ec;
      }
      this.out.push(ev);
      this.exc = undefined;
      return true;
    }
    this.fail('unrecognised exception detail line', line);
  }
}

/** Parses a whole log. Throws QemuLogError on malformed input. */
export function parseQemuLog(text: string, opts: QemuLogParserOptions = {}): QemuRecord[] {
  const parser = new QemuLogParser(opts);
  const records = parser.push(text);
  for (const r of parser.end()) records.push(r);
  return records;
}

/**
 * Streams records from a byte or text source (e.g. `fs.createReadStream` of a
 * multi-GB log, or QEMU's stdout), holding only one batch in memory.
 */
export async function* readQemuLog(
  source: AsyncIterable<string | Uint8Array>,
  opts: QemuLogParserOptions = {},
): AsyncGenerator<QemuRecord> {
  const parser = new QemuLogParser(opts);
  const decoder = new TextDecoder();
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    yield* parser.push(text);
  }
  const rest = decoder.decode();
  if (rest !== '') yield* parser.push(rest);
  yield* parser.end();
}
