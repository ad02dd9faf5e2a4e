/**
 * The interpreter's dispatch must compile to literal case labels (a jump table
 * in V8): the const-enum op numbers are inlined by tsc. A switch on imported
 * bindings would silently fall back to a chain of comparisons (3-4x slower).
 */
import { expect, it } from 'vitest';
import { run } from '../../src/cpu/interpreter.js';

it('dispatches on literal op numbers', () => {
  const body = run.toString();
  const cases = [...body.matchAll(/\bcase ([^:]+):/g)].map((m) => m[1]!.trim());
  expect(cases.length).toBeGreaterThan(40);
  const nonLiteral = cases.filter((c) => !/^\d+( \/\*.*\*\/)?$/.test(c));
  expect(nonLiteral).toEqual([]);
});
