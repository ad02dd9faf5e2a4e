/**
 * Op numbers of decoded slots. FAST ops run inline in the interpreter loop
 * (src/cpu/interpreter.ts); everything else is OP_HANDLER with a handler
 * index in the slot's last operand (src/cpu/exec/registry.ts).
 *
 * Slot operands are named a..f (slot ints 2..7); each op documents its use.
 */
export const OP_UNDECODED = 0;
/** UNDEFINED encoding: raises the exception; the word is kept for the report. */
export const OP_UNDEFINED = 1;
/** f = handler index. */
export const OP_HANDLER = 2;

// a = destination slot, b = source slot, c = immediate (already shifted; fits 24 bits)
export const OP_ADD_IMM_X = 10;
export const OP_ADD_IMM_W = 11;
export const OP_SUB_IMM_X = 12;
export const OP_SUB_IMM_W = 13;
export const OP_ADDS_IMM_X = 14;
export const OP_ADDS_IMM_W = 15;
export const OP_SUBS_IMM_X = 16;
export const OP_SUBS_IMM_W = 17;

// a = destination, b = first source, c = second source (shifted), d = shift type, e = amount
export const OP_ADD_REG_X = 20;
export const OP_ADD_REG_W = 21;
export const OP_SUB_REG_X = 22;
export const OP_SUB_REG_W = 23;
export const OP_ADDS_REG_X = 24;
export const OP_ADDS_REG_W = 25;
export const OP_SUBS_REG_X = 26;
export const OP_SUBS_REG_W = 27;

// logical shifted register: a, b, c, d = shift type, e = amount; N (invert) folded into the op
export const OP_AND_REG_X = 30;
export const OP_AND_REG_W = 31;
export const OP_ORR_REG_X = 32;
export const OP_ORR_REG_W = 33;
export const OP_EOR_REG_X = 34;
export const OP_EOR_REG_W = 35;
export const OP_ANDS_REG_X = 36;
export const OP_ANDS_REG_W = 37;
export const OP_BIC_REG_X = 38;
export const OP_BIC_REG_W = 39;
export const OP_ORN_REG_X = 40;
export const OP_ORN_REG_W = 41;
export const OP_EON_REG_X = 42;
export const OP_EON_REG_W = 43;
export const OP_BICS_REG_X = 44;
export const OP_BICS_REG_W = 45;

// logical immediate: a = destination, b = source, c = imm lo, d = imm hi
export const OP_AND_IMM = 50;
export const OP_ORR_IMM = 51;
export const OP_EOR_IMM = 52;
export const OP_ANDS_IMM = 53;
// 32-bit ANDS needs 32-bit flags
export const OP_ANDS_IMM_W = 54;

// move wide: a = destination, c = value lo, d = value hi (MOVZ/MOVN); MOVK: c = imm16, d = hw*16, e = 1 for 32-bit
export const OP_MOV_CONST = 60;
export const OP_MOVK = 61;

// PC-relative: a = destination, c = offset lo, d = offset hi
export const OP_ADR = 70;
export const OP_ADRP = 71;

// branches: c = offset (int32, bytes)
export const OP_B = 80;
export const OP_BL = 81;
/** a = condition */
export const OP_B_COND = 82;
/** a = register slot */
export const OP_CBZ_X = 83;
export const OP_CBZ_W = 84;
export const OP_CBNZ_X = 85;
export const OP_CBNZ_W = 86;
/** a = register slot, b = bit number */
export const OP_TBZ = 87;
export const OP_TBNZ = 88;
/** a = register slot */
export const OP_BR = 89;
export const OP_BLR = 90;
export const OP_RET = 91;
export const OP_NOP = 92;

// loads and stores with a plain immediate offset: a = Rt slot, b = base slot, c = offset, d = access size log2
// (writeback forms and everything else go through handlers)
export const OP_LDR_X_IMM = 100;
export const OP_LDR_W_IMM = 101;
export const OP_STR_X_IMM = 102;
export const OP_STR_W_IMM = 103;
