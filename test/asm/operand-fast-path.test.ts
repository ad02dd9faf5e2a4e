/**
 * The hand-written operand scanner must build exactly what the nearley
 * grammar builds, for every line it accepts.
 */
import { describe, expect, it } from 'vitest';
import { scanSimpleOperands } from '../../src/asm/operand-fast-path.js';
import { parseOperandsWithGrammar } from '../../src/asm/parse.js';
import { finishOperands } from '../../src/asm/operand-columns.js';
import { generateFromTable } from '../../src/isa/random-corpus.js';

function operandText(line: string): string {
  const m = /^\s*\S+\s*(.*)$/.exec(line);
  return m ? m[1]! : '';
}

describe('operand fast path agrees with the grammar', () => {
  it('on every generated corpus line it accepts', () => {
    const lines = generateFromTable(() => true, 6, 0xfa57).map((l) => operandText(l.text));
    let scanned = 0;
    for (const text of lines) {
      const fast = scanSimpleOperands(text);
      if (!fast) continue;
      scanned++;
      expect(finishOperands(fast, text), text).toEqual(parseOperandsWithGrammar(text));
    }
    // Most table-generated lines are simple shapes: the fast path must take them.
    expect(scanned).toBeGreaterThan(lines.length * 0.6);
  });

  it('on hand-picked shapes, including ones it must hand over', () => {
    const cases = [
      'x0, x1, #4', 'x0, x1, #-4', 'x0, x1, # 0x10', 'w0, [x1]', 'x0, [sp, #-16]!', 'x0, [x1], #8', 'x0, x1, [x2], #-16',
      'x0, [x1, x2, lsl #3]', 'w0, [x1, w2, uxtw]', 'w0, [x1, w2, sxtw #2]', 'x0, x1, x2, LSL #3', 'x0, label', 'x0, .',
      'ne', 'x0, 010', 'x0, #0b101', 'sctlr_el2, x0', 'daifset, #0xf', 'x0, xzr', 'wsp, w1', '',
      // Handed to the grammar:
      'x0, #(1 << 3)', 'x0, :lo12:sym', 'x0, =0x1234', 'v0.s[1], w0', '{v0.16b}, [x0]', 'x0, 1b', 'x0, sym + 4',
      'x0, [x1, :lo12:sym]', 'x0, #1.5', 'x0, [x1, #8 * 2]', 'x0, Lsl #2',
    ];
    for (const text of cases) {
      const fast = scanSimpleOperands(text);
      if (fast) expect(finishOperands(fast, text), text).toEqual(parseOperandsWithGrammar(text));
    }
    expect(scanSimpleOperands('x0, #(1 << 3)')).toBeUndefined();
    expect(scanSimpleOperands('x0, :lo12:sym')).toBeUndefined();
    expect(scanSimpleOperands('x0, 1b')).toBeUndefined();
    expect(scanSimpleOperands('x0, [x1, #8]')).toBeDefined();
  });
});
