/**
 * The issue-3 recorder API (`run --trace`): JSON lines to a line sink. Now a
 * thin wrapper over the general recorder (./recorder.ts) and the JSON-lines
 * writer (./jsonl.ts); the format is documented in the README:
 *
 *   {"event":"start","pc":"0x…","el":2,"regs":{"x0":"0x0",…,"sp":"0x…","nzcv":"0x4"},"pstate":"0x3c9",…}
 *   {"i":0,"pc":"0x40080000","el":2,"insn":"0xd2800020","asm":"mov\tx0, #0x1","regs":{"x0":"0x1"}}
 *   {"event":"exception","i":5,"from_el":1,"to_el":2,"esr":"0x5a000000","far":"0x…","elr":"0x…","pc":"0x…",…,"regs":{…}}
 *   {"event":"eret","i":9,"from_el":2,"to_el":1,"pc":"0x…","regs":{…}}
 *   {"event":"end","reason":"psci-off","insns":10}
 */
import type { Cpu, StopReason } from '../cpu/cpu.js';
import { JsonlWriter } from './jsonl.js';
import { Recorder, type RecorderOptions } from './recorder.js';

export type LineSink = (line: string) => void;

export type RecordOptions = RecorderOptions;

export class JsonlRecorder {
  private readonly recorder: Recorder;

  constructor(cpu: Cpu, sink: LineSink, opts: RecordOptions = {}) {
    this.recorder = new Recorder(cpu, new JsonlWriter(sink), opts);
  }

  /** The full register state as the first record. */
  start(): void {
    this.recorder.start();
  }

  /** Executes one instruction and writes its records. Returns the interpreter's stop reason. */
  step(): StopReason {
    return this.recorder.step();
  }

  end(reason: string, insns: number): void {
    this.recorder.end(reason, insns);
  }
}
