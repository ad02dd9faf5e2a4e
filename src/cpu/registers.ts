/**
 * Register-file layout shared by the predecoder and the execution code.
 * General registers live in one Int32Array as (lo, hi) pairs of 32-bit halves.
 * Slots 0..30 are X0..X30; slot 31 reads as zero (XZR/WZR as a source) and
 * is never written; slot 32 is a write sink (XZR as a destination); slot 33
 * is the stack pointer currently selected by PSTATE.{EL,SP}. The predecoder
 * maps register field 31 to ZR_READ, ZR_WRITE or SP_SLOT according to the
 * encoding, so execution never tests for register 31.
 */
export const ZR_READ = 31;
export const ZR_WRITE = 32;
export const SP_SLOT = 33;
export const REGISTER_SLOTS = 34;

/** Source register slot for field value r: 31 is XZR. */
export const srcOrZr = (r: number): number => r;
/** Destination slot for field value r: 31 is XZR (writes discarded). */
export const dstOrZr = (r: number): number => (r === 31 ? ZR_WRITE : r);
/** Source or destination slot for field value r where 31 means SP. */
export const orSp = (r: number): number => (r === 31 ? SP_SLOT : r);
