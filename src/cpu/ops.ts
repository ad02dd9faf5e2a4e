/**
 * Op numbers of decoded slots. FAST ops run inline in the interpreter loop
 * (src/cpu/interpreter.ts); everything else is OP_HANDLER with a handler
 * index in the slot's last operand (src/cpu/exec/registry.ts).
 *
 * Slot operands are named a..f (slot ints 2..7); each op documents its use.
 */
/**
 * The op numbers as a const enum: tsc inlines `Op.X` as a literal, so the
 * interpreter's switch gets literal case labels and V8 compiles it to a jump
 * table (imported `const` bindings would make it a chain of comparisons).
 */
export const enum Op {
  UNDECODED = 0,
  UNDEFINED = 1,
  HANDLER = 2,
  HOOK = 3,
  ADD_IMM_X = 10,
  ADD_IMM_W = 11,
  SUB_IMM_X = 12,
  SUB_IMM_W = 13,
  ADDS_IMM_X = 14,
  ADDS_IMM_W = 15,
  SUBS_IMM_X = 16,
  SUBS_IMM_W = 17,
  ADD_REG_X = 20,
  ADD_REG_W = 21,
  SUB_REG_X = 22,
  SUB_REG_W = 23,
  ADDS_REG_X = 24,
  ADDS_REG_W = 25,
  SUBS_REG_X = 26,
  SUBS_REG_W = 27,
  AND_REG_X = 30,
  AND_REG_W = 31,
  ORR_REG_X = 32,
  ORR_REG_W = 33,
  EOR_REG_X = 34,
  EOR_REG_W = 35,
  ANDS_REG_X = 36,
  ANDS_REG_W = 37,
  BIC_REG_X = 38,
  BIC_REG_W = 39,
  ORN_REG_X = 40,
  ORN_REG_W = 41,
  EON_REG_X = 42,
  EON_REG_W = 43,
  BICS_REG_X = 44,
  BICS_REG_W = 45,
  AND_IMM = 50,
  ORR_IMM = 51,
  EOR_IMM = 52,
  ANDS_IMM = 53,
  ANDS_IMM_W = 54,
  MOV_CONST = 60,
  MOVK = 61,
  ADR = 70,
  ADRP = 71,
  B = 80,
  BL = 81,
  B_COND = 82,
  CBZ_X = 83,
  CBZ_W = 84,
  CBNZ_X = 85,
  CBNZ_W = 86,
  TBZ = 87,
  TBNZ = 88,
  BR = 89,
  BLR = 90,
  RET = 91,
  NOP = 92,
  LDR_X_IMM = 100,
  LDR_W_IMM = 101,
  STR_X_IMM = 102,
  STR_W_IMM = 103,
  LDR_IMM = 104,
  STR_IMM = 105,
  LDR_REG = 106,
  STR_REG = 107,
  LDR_WB = 108,
  STR_WB = 109,
  LDP = 110,
  STP = 111,
}

// The same numbers under their slot-documentation names, for predecoders.
export const OP_UNDECODED = Op.UNDECODED;
/** UNDEFINED encoding: raises the exception; the word is kept for the report. */
export const OP_UNDEFINED = Op.UNDEFINED;
/** f = handler index. */
export const OP_HANDLER = Op.HANDLER;
/** f = code-hook id (src/cpu/code-hooks.ts); the original instruction is in the hook's shadow slot. */
export const OP_HOOK = Op.HOOK;

// a = destination slot, b = source slot, c = immediate (already shifted; fits 24 bits)
export const OP_ADD_IMM_X = Op.ADD_IMM_X;
export const OP_ADD_IMM_W = Op.ADD_IMM_W;
export const OP_SUB_IMM_X = Op.SUB_IMM_X;
export const OP_SUB_IMM_W = Op.SUB_IMM_W;
export const OP_ADDS_IMM_X = Op.ADDS_IMM_X;
export const OP_ADDS_IMM_W = Op.ADDS_IMM_W;
export const OP_SUBS_IMM_X = Op.SUBS_IMM_X;
export const OP_SUBS_IMM_W = Op.SUBS_IMM_W;

// a = destination, b = first source, c = second source (shifted), d = shift type, e = amount
export const OP_ADD_REG_X = Op.ADD_REG_X;
export const OP_ADD_REG_W = Op.ADD_REG_W;
export const OP_SUB_REG_X = Op.SUB_REG_X;
export const OP_SUB_REG_W = Op.SUB_REG_W;
export const OP_ADDS_REG_X = Op.ADDS_REG_X;
export const OP_ADDS_REG_W = Op.ADDS_REG_W;
export const OP_SUBS_REG_X = Op.SUBS_REG_X;
export const OP_SUBS_REG_W = Op.SUBS_REG_W;

// logical shifted register: a, b, c, d = shift type, e = amount; N (invert) folded into the op
export const OP_AND_REG_X = Op.AND_REG_X;
export const OP_AND_REG_W = Op.AND_REG_W;
export const OP_ORR_REG_X = Op.ORR_REG_X;
export const OP_ORR_REG_W = Op.ORR_REG_W;
export const OP_EOR_REG_X = Op.EOR_REG_X;
export const OP_EOR_REG_W = Op.EOR_REG_W;
export const OP_ANDS_REG_X = Op.ANDS_REG_X;
export const OP_ANDS_REG_W = Op.ANDS_REG_W;
export const OP_BIC_REG_X = Op.BIC_REG_X;
export const OP_BIC_REG_W = Op.BIC_REG_W;
export const OP_ORN_REG_X = Op.ORN_REG_X;
export const OP_ORN_REG_W = Op.ORN_REG_W;
export const OP_EON_REG_X = Op.EON_REG_X;
export const OP_EON_REG_W = Op.EON_REG_W;
export const OP_BICS_REG_X = Op.BICS_REG_X;
export const OP_BICS_REG_W = Op.BICS_REG_W;

// logical immediate: a = destination, b = source, c = imm lo, d = imm hi
export const OP_AND_IMM = Op.AND_IMM;
export const OP_ORR_IMM = Op.ORR_IMM;
export const OP_EOR_IMM = Op.EOR_IMM;
export const OP_ANDS_IMM = Op.ANDS_IMM;
// 32-bit ANDS needs 32-bit flags
export const OP_ANDS_IMM_W = Op.ANDS_IMM_W;

// move wide: a = destination, c = value lo, d = value hi (MOVZ/MOVN); MOVK: c = imm16, d = hw*16, e = 1 for 32-bit
export const OP_MOV_CONST = Op.MOV_CONST;
export const OP_MOVK = Op.MOVK;

// PC-relative: a = destination, c = offset lo, d = offset hi
export const OP_ADR = Op.ADR;
export const OP_ADRP = Op.ADRP;

// branches: c = offset (int32, bytes)
export const OP_B = Op.B;
export const OP_BL = Op.BL;
/** a = condition */
export const OP_B_COND = Op.B_COND;
/** a = register slot */
export const OP_CBZ_X = Op.CBZ_X;
export const OP_CBZ_W = Op.CBZ_W;
export const OP_CBNZ_X = Op.CBNZ_X;
export const OP_CBNZ_W = Op.CBNZ_W;
/** a = register slot, b = bit number */
export const OP_TBZ = Op.TBZ;
export const OP_TBNZ = Op.TBNZ;
/** a = register slot */
export const OP_BR = Op.BR;
export const OP_BLR = Op.BLR;
export const OP_RET = Op.RET;
export const OP_NOP = Op.NOP;

// ---- loads and stores (src/cpu/exec/loads-stores.ts), 100–149 ----------------------------
// Every load/store slot has the layout of src/cpu/exec/loadstore-slot.ts: a = Rt slot,
// b = base slot, c = offset (or Rm slot), d = LS access info, e = SP mask (15 when the base is
// SP) | instruction syndrome, f = handler index. A FAST op does the aligned, in-RAM case inline
// (flat with the MMU off, through port.translate with it on) and calls the handler for
// everything else (MMIO, unaligned, misaligned SP, page-crossing pairs, faults).
/** 64-bit load/store, base + immediate (scaled or unscaled), no writeback. */
export const OP_LDR_X_IMM = Op.LDR_X_IMM;
/** 32-bit zero-extending load / 32-bit store, base + immediate, no writeback. */
export const OP_LDR_W_IMM = Op.LDR_W_IMM;
export const OP_STR_X_IMM = Op.STR_X_IMM;
export const OP_STR_W_IMM = Op.STR_W_IMM;
/** Any other size or extension (byte, halfword, signed), base + immediate, no writeback. */
export const OP_LDR_IMM = Op.LDR_IMM;
export const OP_STR_IMM = Op.STR_IMM;
/** Any size, base + extended/shifted register. */
export const OP_LDR_REG = Op.LDR_REG;
export const OP_STR_REG = Op.STR_REG;
/** Any size, pre- or post-index writeback. */
export const OP_LDR_WB = Op.LDR_WB;
export const OP_STR_WB = Op.STR_WB;
/** LDP/LDPSW/LDNP and STP/STNP, any index mode; Rt2's slot is in the info word. */
export const OP_LDP = Op.LDP;
export const OP_STP = Op.STP;
