/**
 * Whole objects (sections, symbols, relocations) assembled from the fixture
 * files, compared with GNU as's objects of the same files.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireOracle, GNU_AS, gnuAssemble, compareObjects } from '../helpers/oracle.js';
import { assemble } from '../../src/asm/assembler.js';
import { toObjectModel } from '../../src/asm/object-file.js';
import { writeRelocatableObject } from '../../src/elf/write-object.js';
import { readElf } from '../../src/elf/read.js';
import { formatDiagnostic } from '../../src/common/diagnostics.js';

const dir = join(import.meta.dirname, '../fixtures/asm');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.s')).sort();

describe.runIf(requireOracle(GNU_AS))('objects match GNU as', () => {
  for (const name of fixtures) {
    it(name, () => {
      const source = readFileSync(join(dir, name), 'utf8');
      const gnu = gnuAssemble(source, { file: name });
      if (!gnu.ok) throw new Error(`GNU as rejected the fixture:\n${gnu.stderr}`);
      const ours = assemble(source, { file: name });
      const errors = ours.diagnostics.filter((d) => d.severity === 'error');
      expect(errors.map(formatDiagnostic)).toEqual([]);
      const elf = readElf(writeRelocatableObject(toObjectModel(ours)));
      expect(compareObjects(elf, gnu.elf)).toEqual([]);
    });
  }
});
