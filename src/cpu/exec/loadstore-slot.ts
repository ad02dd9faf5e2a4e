/**
 * The decoded-slot layout shared by every integer load/store: the predecoders
 * (loads-stores.ts), the handlers (loadstore-*.ts) and the FAST ops the
 * interpreter runs inline (src/cpu/ops.ts 100–149) all read the same ints:
 *
 *   a (i+2) = Rt slot*2 (a destination slot for loads, a source slot for stores)
 *   b (i+3) = Rn slot*2 (the base; SP_SLOT for register 31)
 *   c (i+4) = byte offset (int32), or the Rm slot*2 with LS.REG_OFFSET, or the PC offset with LS.LITERAL
 *   d (i+5) = access info: the LS bits below
 *   e (i+6) = bits 3..0: 15 when the base is SP (CheckSPAlignment), else 0, so that `(x[b] & e & 15) !== 0`
 *             spots a misaligned SP; bits 24..14: the instruction syndrome of a single-register access
 *             without writeback (instructionSyndrome), 0 for every other access
 *   f (i+7) = handler index (a FAST op calls it for everything but the MMU-off RAM case)
 *
 * Pairs keep Rt2's slot in the info word; exclusives and atomics keep Rs there.
 */

/**
 * The access-info bits (slot operand d), as a const enum so that tsc inlines
 * them as literals in the interpreter's hot cases.
 */
export const enum LS {
  /** log2 of the bytes of one register's access (0 = byte … 3 = doubleword). */
  SIZE_MASK = 3,
  /** A load (else a store). */
  LOAD = 1 << 2,
  /** The loaded value is sign-extended (LDRS*, LDPSW). */
  SIGNED = 1 << 3,
  /** The transfer register is an X register (ESR ISS.SF; sign extension to 64 bits). */
  REG64 = 1 << 4,
  /** Pre-index writeback: access at base + offset, then Rn = base + offset. */
  PRE = 1 << 5,
  /** Post-index writeback: access at base, then Rn = base + offset. */
  POST = 1 << 6,
  WRITEBACK = PRE | POST,
  /** LDTR/STTR family: the access is made with EL0 permissions where the architecture says so. */
  UNPRIV = 1 << 7,
  /** Acquire/release (and LDAPR/LDLAR…): natural alignment is required; ESR ISS.AR. */
  ORDERED = 1 << 8,
  /** c is the Rm slot: offset = Extend(Rm) << amount. */
  REG_OFFSET = 1 << 9,
  /** Register-offset extend kind: 0 = 64-bit index (LSL/UXTX/SXTX), EXT_UXTW, EXT_SXTW. */
  EXT_UXTW = 1 << 10,
  EXT_SXTW = 2 << 10,
  EXT_MASK = 3 << 10,
  /** Register-offset shift amount (0 or the access scale) at bits 12..13. */
  AMOUNT_SHIFT = 12,
  /** PC-relative literal load: address = PC + c. */
  LITERAL = 1 << 14,
  /** Second register slot (Rt2 of pairs) at bits 16..23. */
  REG2_SHIFT = 16,
}

/** The second register slot stored in an info word. */
export const reg2Of = (info: number): number => (info >>> LS.REG2_SHIFT) & 0xff;

/**
 * ESR_ELx.ISS[24:14] for a data abort on a single-register load/store without
 * writeback: ISV, SAS (size), SSE (sign extension), SRT (Rt number), SF (64-bit
 * register), AR (acquire/release). The architecture reports it only with
 * stage-2 aborts; the memory port hands it to the translation unit.
 */
export function instructionSyndrome(info: number, rt: number): number {
  const sse = (info & LS.SIGNED) !== 0 && (info & LS.LOAD) !== 0 ? 1 : 0;
  const sf = (info & LS.REG64) !== 0 ? 1 : 0;
  const ar = (info & LS.ORDERED) !== 0 ? 1 : 0;
  return (1 << 24) | ((info & LS.SIZE_MASK) << 22) | (sse << 21) | ((rt & 31) << 16) | (sf << 15) | (ar << 14);
}
