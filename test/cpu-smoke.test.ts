import { describe, expect, it } from 'vitest';
import { assemble } from '/work/main/src/asm/assembler.js';
import { linkFlat } from '/work/main/src/asm/link-flat.js';
import { createVirtMachine } from '/work/main/src/machine/virt.js';
import { Cpu } from '/work/main/src/cpu/cpu.js';
import { CORTEX_A57 } from '/work/main/src/cpu/cpu-model.js';
import { run } from '/work/main/src/cpu/interpreter.js';

describe('cpu smoke', () => {
  it('runs an ALU loop', () => {
    const src = `
      movz x0, #0
      movz x1, #10
      movz x2, #0x6789
      movk x2, #0x2345, lsl #16
      movk x2, #1, lsl #32
    loop:
      add x0, x0, x1, lsl #1
      eor x3, x0, x2
      subs x1, x1, #1
      b.ne loop
      lsl x4, x0, #40
      ubfx x5, x2, #4, #12
      udiv x6, x2, x1
      mul x7, x2, x2
    done: b done
    `;
    const r = assemble(src, { file: 't.s' });
    expect(r.diagnostics).toEqual([]);
    const img = linkFlat(r, 0x40080000n);
    const m = createVirtMachine({});
    m.memory.writeBytes(0x40080000, img.bytes);
    const cpu = new Cpu(m.memory, CORTEX_A57);
    cpu.setPc(0x40080000n);
    const stop = run(cpu, 200);
    console.log(stop, cpu.retired, [0,1,2,3,4,5,6,7].map(i => cpu.getX(i).toString(16)));
    expect(cpu.getX(0)).toBe(110n);
  });
});
