/**
 * Records a run as JSON lines, one record per retired instruction plus event
 * records, in the format documented in the README:
 *
 *   {"event":"start","pc":"0x…","el":2,"regs":{"x0":"0x0",…,"sp":"0x…","nzcv":"0x4"}}
 *   {"i":0,"pc":"0x40080000","el":2,"insn":"0xd2800020","asm":"mov\tx0, #0x1","regs":{"x0":"0x1"}}
 *   {"event":"exception","i":5,"from_el":1,"to_el":2,"esr":"0x5a000000","far":"0x…","elr":"0x…","pc":"0x…","regs":{…}}
 *   {"event":"eret","i":9,"from_el":2,"to_el":1,"pc":"0x…","regs":{…}}
 *   {"event":"end","reason":"psci-off","insns":10}
 *
 * The recorder single-steps the interpreter; output goes to a line sink
 * (a file stream in the CLI), so memory use stays bounded.
 */
import type { Cpu } from '../cpu/cpu.js';
import type { ExceptionEvent } from '../cpu/exceptions.js';
import { run as runInterpreter } from '../cpu/interpreter.js';
import { disassemble } from '../isa/disasm.js';
import { Access } from '../mmu/memory-port.js';
import { sysregId } from '../cpu/sysregs/system-registers.js';
import { SP_SLOT } from '../cpu/registers.js';

export type LineSink = (line: string) => void;

const hex = (lo: number, hi: number): string => {
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return `0x${v.toString(16)}`;
};

const ESR = [0, sysregId('esr_el1'), sysregId('esr_el2')];
const FAR = [0, sysregId('far_el1'), sysregId('far_el2')];
const ELR = [0, sysregId('elr_el1'), sysregId('elr_el2')];

export interface RecordOptions {
  /** Symbolizer for the disassembly's branch targets. */
  symbolize?: (addr: bigint) => string | undefined;
}

export class JsonlRecorder {
  private readonly prev = new Int32Array(SP_SLOT * 2 + 2);
  private prevNzcv = 0;
  private prevEl = 0;
  private index = 0;
  private pending: ExceptionEvent[] = [];

  constructor(private readonly cpu: Cpu, private readonly sink: LineSink, private readonly opts: RecordOptions = {}) {}

  /** The full register state as the first record. */
  start(): void {
    const cpu = this.cpu;
    const regs: Record<string, string> = {};
    for (let r = 0; r < 31; r++) regs[`x${r}`] = hex(cpu.x[r * 2]!, cpu.x[r * 2 + 1]!);
    regs['sp'] = hex(cpu.x[SP_SLOT * 2]!, cpu.x[SP_SLOT * 2 + 1]!);
    regs['nzcv'] = `0x${cpu.nzcv.toString(16)}`;
    this.sink(JSON.stringify({ event: 'start', pc: hex(cpu.pcLo, cpu.pcHi), el: cpu.el, regs }));
    this.snapshot();
  }

  private snapshot(): void {
    const cpu = this.cpu;
    this.prev.set(cpu.x.subarray(0, 31 * 2), 0);
    this.prev[62] = cpu.x[SP_SLOT * 2]!;
    this.prev[63] = cpu.x[SP_SLOT * 2 + 1]!;
    this.prevNzcv = cpu.nzcv;
    this.prevEl = cpu.el;
  }

  private changedRegisters(): Record<string, string> {
    const cpu = this.cpu;
    const out: Record<string, string> = {};
    for (let r = 0; r < 31; r++) {
      const lo = cpu.x[r * 2]!, hi = cpu.x[r * 2 + 1]!;
      if (lo !== this.prev[r * 2] || hi !== this.prev[r * 2 + 1]) out[`x${r}`] = hex(lo, hi);
    }
    const spLo = cpu.x[SP_SLOT * 2]!, spHi = cpu.x[SP_SLOT * 2 + 1]!;
    if (spLo !== this.prev[62] || spHi !== this.prev[63]) out['sp'] = hex(spLo, spHi);
    if (cpu.nzcv !== this.prevNzcv) out['nzcv'] = `0x${cpu.nzcv.toString(16)}`;
    return out;
  }

  /** Executes one instruction and writes its records. Returns the interpreter's stop reason. */
  step(): ReturnType<typeof runInterpreter> {
    const cpu = this.cpu;
    const pcLo = cpu.pcLo, pcHi = cpu.pcHi, el = cpu.el;
    const pa = cpu.port.probe(pcLo, pcHi, Access.Fetch);
    let word: number | undefined = pa >= 0 ? cpu.memory.read32(pa) >>> 0 : undefined;
    if (cpu.memory.lastFault !== 0) word = undefined;
    const retiredBefore = cpu.retired;
    const previousHook = cpu.onException;
    this.pending = [];
    cpu.onException = (e) => { this.pending.push(e); previousHook?.(e); };
    let reason;
    try {
      reason = runInterpreter(cpu, 1);
    } finally {
      cpu.onException = previousHook;
    }
    const retired = cpu.retired > retiredBefore;
    const pc = (BigInt(pcHi >>> 0) << 32n) | BigInt(pcLo >>> 0);
    if (retired || this.pending.length === 0) {
      const rec: Record<string, unknown> = { i: this.index, pc: hex(pcLo, pcHi), el };
      if (word !== undefined) {
        rec['insn'] = `0x${word.toString(16).padStart(8, '0')}`;
        rec['asm'] = disassemble(word, { address: pc, symbolize: this.opts.symbolize }).text;
      }
      // Registers changed by the instruction itself: when it also raised an exception, the entry's changes go to the event.
      rec['regs'] = this.pending.length === 0 ? this.changedRegisters() : {};
      this.sink(JSON.stringify(rec));
    }
    for (const e of this.pending) {
      const rec: Record<string, unknown> = { event: e.kind === 'exception' ? 'exception' : e.kind === 'eret' ? 'eret' : 'illegal-eret', i: this.index, from_el: e.fromEl, to_el: e.toEl };
      if (e.kind === 'exception') {
        const t = e.toEl;
        rec['esr'] = hex(cpu.sys.lo(ESR[t]!), cpu.sys.hi(ESR[t]!));
        rec['far'] = hex(cpu.sys.lo(FAR[t]!), cpu.sys.hi(FAR[t]!));
        rec['elr'] = hex(cpu.sys.lo(ELR[t]!), cpu.sys.hi(ELR[t]!));
      }
      rec['pc'] = hex(cpu.pcLo, cpu.pcHi);
      rec['regs'] = this.changedRegisters();
      this.sink(JSON.stringify(rec));
    }
    if (retired || this.pending.length > 0) this.index++;
    this.snapshot();
    return reason;
  }

  end(reason: string, insns: number): void {
    this.sink(JSON.stringify({ event: 'end', reason, insns }));
  }
}
