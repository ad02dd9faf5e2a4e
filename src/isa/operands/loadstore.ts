/**
 * Operand kinds used only by the integer load/store table.
 *
 * `Ws.pair` / `Xs.pair` / `Wt.pair` / `Xt.pair`: the consecutive register
 * pair of CASP (`casp x0, x1, x2, x3, [x4]`). The pair is written as two
 * registers but encoded once, in Rs or Rt; the first must be even and the
 * second its successor (x30 pairs with xzr, as GNU as accepts).
 *
 * The load/store tables also use the general `sbo.<field>` kind of
 * operand-kinds.ts (Rs, Rt2, Rs4 = bit 20 alone): should-be-one fields the
 * assembler fills with ones and the decoder accepts with any value.
 */
import { kindHelpers, registerKinds, type OperandKind } from '../operand-kinds.js';

/** Declares how many parsed operands a kind takes, for the encoder's quick operand-count filter. */
function withArity(kind: OperandKind, consumes: readonly [number, number]): OperandKind {
  return Object.assign(kind, { consumes });
}

function registerPair(field: 'Rs' | 'Rt', width: 'w' | 'x'): OperandKind {
  return withArity({
    fields: [field],
    encode(ops, i, f) {
      const first = kindHelpers.matchGpr(ops[i], width, false);
      if (typeof first === 'string') return first;
      const second = kindHelpers.matchGpr(ops[i + 1], width, false);
      if (typeof second === 'string') return second;
      if (first % 2 !== 0) return 'reg pair must start from even reg';
      if (second !== first + 1) return 'reg pair must be contiguous';
      f[field] = first;
      return 2;
    },
    format: (f) => `${kindHelpers.regText(width, f[field]!, false)}, ${kindHelpers.regText(width, f[field]! + 1, false)}`,
  }, [2, 2]);
}

registerKinds({
  'Ws.pair': registerPair('Rs', 'w'),
  'Xs.pair': registerPair('Rs', 'x'),
  'Wt.pair': registerPair('Rt', 'w'),
  'Xt.pair': registerPair('Rt', 'x'),
});
