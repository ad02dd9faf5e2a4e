/**
 * FP and Advanced SIMD execution (the exec ids of src/isa/tables/fp-simd.ts),
 * split by class:
 *   fp-loads-stores.ts   LDR/STR/LDUR/STUR/LDP/STP/LDNP/STNP of B/H/S/D/Q, LDR (literal)
 *   simd-structures.ts   LD1-LD4/ST1-ST4 (multiple, single lane), LD1R-LD4R
 *   fp-scalar.ts         FMOV, conversions, scalar FP arithmetic, compare, select
 *   simd-moves.ts        MOVI/MVNI/ORR/BIC immediate, DUP, INS, UMOV, SMOV, EXT, ZIP/UZP/TRN
 *   simd-integer.ts      vector logic, NOT/CNT/RBIT, integer three-same, scalar ADD/SUB, across lanes
 * with the IEEE arithmetic in fp-arith.ts and register/memory helpers in
 * simd-regs.ts. Every handler first makes the FP access check
 * (AArch64.CheckFPAdvSIMDEnabled, src/cpu/sysregs/traps.ts).
 */
import './fp-loads-stores.js';
import './simd-structures.js';
import './fp-scalar.js';
import './simd-moves.js';
import './simd-integer.js';
