/**
 * How instruction classes plug into the interpreter. For each `exec` name of
 * the instruction table (src/isa), a module registers a predecoder that turns
 * the entry's fields into a decoded slot: an op number and up to six operand
 * ints. Ops are either FAST ops the interpreter's loop executes inline
 * (src/cpu/interpreter.ts), or OP_HANDLER with a function index: the loop then
 * calls the registered handler. Handlers read like the Arm pseudocode.
 */
import type { Fields, InsnDef } from '../../isa/insn-def.js';
import type { Cpu } from '../cpu.js';

/** Executes one decoded instruction at slot `i` of block `d`. */
export type Handler = (cpu: Cpu, d: Int32Array, i: number) => void;

/**
 * Fills slot i of `out`: out[i] = op, out[i+2..i+7] = operands. The word is
 * already in out[i+1]. Returns false when the encoding is UNDEFINED after all
 * (a reserved field combination the table does not exclude).
 */
export type Predecoder = (cpu: Cpu, f: Fields, def: InsnDef, out: Int32Array, i: number) => boolean;

const predecoders = new Map<string, Predecoder>();
export const HANDLERS: Handler[] = [];
const handlerNames: string[] = [];

export function registerPredecoder(exec: string, p: Predecoder): void {
  if (predecoders.has(exec)) throw new Error(`predecoder for ${exec} registered twice`);
  predecoders.set(exec, p);
}

export function predecoderFor(exec: string): Predecoder | undefined {
  return predecoders.get(exec);
}

/** Registers a handler and returns its index (stored in the slot's last operand). */
export function registerHandler(name: string, h: Handler): number {
  HANDLERS.push(h);
  handlerNames.push(name);
  return HANDLERS.length - 1;
}

export function handlerName(index: number): string {
  return handlerNames[index] ?? `handler#${index}`;
}
