/**
 * Bad input gives `file:line:col: error: …` with the source line and a caret,
 * exit status 1 and no output file; random and mutated input never throws.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../src/asm/assembler.js';
import { runAsm } from '../../src/cli/asm.js';
import { formatDiagnostic } from '../../src/common/diagnostics.js';
import { generateFromTable, rng } from '../../src/isa/random-corpus.js';

function errorsOf(source: string, file = 'bad.s'): string[] {
  return assemble(source, { file }).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

describe('assembler diagnostics', () => {
  it('unknown mnemonic points at the mnemonic', () => {
    const [e] = errorsOf('\tnop\n\tfrob x0, x1\n');
    expect(e).toMatch(/^bad\.s:2:2: error: unknown mnemonic 'frob'/);
    expect(e).toContain('\n\tfrob x0, x1\n\t^');
  });
  it('wrong operands point at the operand', () => {
    const [e] = errorsOf('add x0, x1, w2, lsl #2\n');
    expect(e).toMatch(/^bad\.s:1:\d+: error: /);
    const [e2] = errorsOf('and x0, x1, #0x12345\n');
    expect(e2).toMatch(/^bad\.s:1:13: error: .*not a valid 64-bit bitmask immediate/);
    expect(e2.split('\n')[2]).toBe('            ^');
  });
  it('out-of-range immediates and branch targets', () => {
    expect(errorsOf('movz x0, #0x10000\n')[0]).toMatch(/out of range/);
    expect(errorsOf('lsl w0, w1, #32\n')[0]).toMatch(/out of range/);
    expect(errorsOf('adr x0, far\n.skip 0x200000\nfar: .word 0\n')[0]).toMatch(/bad\.s:1:.*out of range/);
  });
  it('undefined symbols in constants, unterminated blocks, depth limits', () => {
    expect(errorsOf('.if undefined_sym\n.endif\n')[0]).toMatch(/not defined/);
    expect(errorsOf('.if 1\nnop\n')[0]).toMatch(/^bad\.s:1:\d*:? ?error: missing \.endif/);
    expect(errorsOf('.macro m\nnop\n')[0]).toMatch(/^bad\.s:1.*missing \.endm/);
    expect(errorsOf('.rept 2\nnop\n')[0]).toMatch(/missing \.endr/);
    expect(errorsOf('.macro r\nr\n.endm\nr\n')[0]).toMatch(/nested too deeply/);
    expect(errorsOf('.endif\n')[0]).toMatch(/\.endif without \.if/);
    expect(errorsOf('x: nop\nx: nop\n')[0]).toMatch(/bad\.s:2:1: error: symbol `x' is already defined/);
    expect(errorsOf('.unknown_directive 1\n')[0]).toMatch(/unknown directive/);
  });
  it('errors inside macros name the invocation', () => {
    const [e] = errorsOf('.macro m a\nadd x0, x1, \\a\n.endm\nm #99999999\n');
    expect(e).toMatch(/^bad\.s:2:/);
    expect(e).toContain("bad.s:4: note: in macro 'm' invoked from here");
  });
  it('missing include in a .S file', () => {
    const r = assemble('#include "nothere.h"\nnop\n', { file: 'x.S', readFile: () => undefined });
    expect(r.diagnostics.map(formatDiagnostic).join('\n')).toMatch(/x\.S:1:\d+: error: nothere\.h: No such file or directory/);
  });
});

describe('asm command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asm-cli-'));
  const io = () => { const out = { stdout: '', stderr: '' }; return { out, io: { stdout: (s: string) => { out.stdout += s; }, stderr: (s: string) => { out.stderr += s; } } }; };
  it('writes an object on success and nothing on error', () => {
    const good = join(dir, 'good.s');
    writeFileSync(good, 'nop\n');
    const a = io();
    expect(runAsm([good, '-o', join(dir, 'good.o')], a.io)).toBe(0);
    expect(existsSync(join(dir, 'good.o'))).toBe(true);
    const bad = join(dir, 'bad.s');
    writeFileSync(bad, 'nop\nbogus x0\n');
    const b = io();
    expect(runAsm([bad, '-o', join(dir, 'bad.o')], b.io)).toBe(1);
    expect(b.out.stderr).toMatch(/bad\.s:2:1: error: unknown mnemonic 'bogus'/);
    expect(existsSync(join(dir, 'bad.o'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
  it('flat binary at a base, listing, and usage errors', () => {
    const src = join(dir, 'flat.s');
    writeFileSync(src, '_start: adr x0, msg\n b _start\n .data\nmsg: .quad msg\n');
    const a = io();
    expect(runAsm([src, '--base', '0x40080000', '-O', 'binary', '-o', join(dir, 'flat.bin'), '--listing'], a.io)).toBe(0);
    expect(a.out.stdout).toMatch(/40080000\s+10000040\s+adr\s+x0, 0x40080008/);
    const c = io();
    expect(runAsm([src, '-O', 'binary'], c.io)).toBe(2);
    expect(c.out.stderr).toMatch(/needs --base/);
    expect(runAsm([join(dir, 'missing.s')], io().io)).toBe(1);
  });
  it.sequential('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});

describe('fuzz: random and mutated input never throws', () => {
  it('thousands of cases', () => {
    const next = rng(0xf022);
    const base = generateFromTable(() => true, 1, 7).map((l) => l.text);
    const directives = ['.word 1', '.macro m a\n\\a\n.endm', 'm x0', '.if 1', '.endif', '.rept 2', '.endr', '.section .x,"ax"', '.ltorg', 'ldr x0, =sym', '.align 3', '.irp r,1,2', '1:', 'b 1b', '.set a, b', '.org 4', '.size f, .-f'];
    const junk = '#[](){},.:=!-+*/%<>&|^~"\'\\@;$ \t0123456789abcxyzXW';
    for (let i = 0; i < 3000; i++) {
      const lines: string[] = [];
      const n = 1 + (next() % 6);
      for (let j = 0; j < n; j++) {
        let line = next() % 3 === 0 ? directives[next() % directives.length]! : base[next() % base.length]!;
        const mutations = next() % 4;
        for (let m = 0; m < mutations; m++) {
          const pos = next() % (line.length + 1);
          const op = next() % 3;
          const ch = junk[next() % junk.length]!;
          line = op === 0 ? line.slice(0, pos) + ch + line.slice(pos) : op === 1 ? line.slice(0, pos) + line.slice(pos + 1) : line.slice(0, pos) + ch + line.slice(pos + 1);
        }
        lines.push(line);
      }
      const source = lines.join('\n') + '\n';
      expect(() => assemble(source, { file: 'fuzz.s' }), source).not.toThrow();
      expect(() => assemble(source, { file: 'fuzz.S', readFile: () => undefined }), source).not.toThrow();
    }
  });
});
