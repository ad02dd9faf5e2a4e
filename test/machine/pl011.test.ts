import { describe, expect, it } from 'vitest';
import { PL011, PL011_FR, PL011_INT, Pl011, createBufferSink } from '../../src/machine/devices/pl011.js';
import { createVirtMachine } from '../../src/machine/virt.js';

const UART = 0x0900_0000;

describe('PL011 UART', () => {
  it('sends bytes written to DR to the sink, through the bus', () => {
    const out = createBufferSink();
    const machine = createVirtMachine({ uartSink: out.sink });
    for (const ch of 'Hi\n') machine.memory.write8(UART + PL011.DR, ch.charCodeAt(0));
    machine.memory.write32(UART + PL011.DR, 0x1_0021); // only the data byte goes out
    expect(out.text()).toBe('Hi\n!');
    expect(out.bytes).toEqual([0x48, 0x69, 0x0a, 0x21]);
  });

  it('reports an always-ready transmitter and an empty receiver in FR', () => {
    const uart = new Pl011({ sink: () => {} });
    const fr = uart.read(PL011.FR, 4);
    expect(fr & PL011_FR.TXFE).not.toBe(0);
    expect(fr & PL011_FR.RXFE).not.toBe(0);
    expect(fr & PL011_FR.BUSY).toBe(0);
    expect(fr & PL011_FR.TXFF).toBe(0);
    expect(uart.read(PL011.DR, 4)).toBe(0); // empty receiver reads zero
  });

  it('keeps the registers earlycon programs and reports reset values', () => {
    const uart = new Pl011({ sink: () => {} });
    expect(uart.read(PL011.CR, 4)).toBe(0x300);
    expect(uart.read(PL011.IFLS, 4)).toBe(0x12);
    uart.write(PL011.CR, 4, 0, 0);
    uart.write(PL011.IBRD, 4, 13, 0);
    uart.write(PL011.FBRD, 4, 1, 0);
    uart.write(PL011.LCR_H, 4, 0x70, 0);
    uart.write(PL011.CR, 4, 0x301, 0);
    expect(uart.read(PL011.IBRD, 4)).toBe(13);
    expect(uart.read(PL011.FBRD, 4)).toBe(1);
    expect(uart.read(PL011.LCR_H, 4)).toBe(0x70);
    expect(uart.read(PL011.CR, 4)).toBe(0x301);
    expect(uart.read(PL011.CR + 1, 1)).toBe(0x03); // narrow read of the upper byte
  });

  it('returns the PrimeCell identification registers', () => {
    const uart = new Pl011({ sink: () => {} });
    const ids = [];
    for (let offset = 0xfe0; offset <= 0xffc; offset += 4) ids.push(uart.read(offset, 4));
    expect(ids).toEqual([0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
  });

  it('tracks transmit and receive interrupts through IMSC, RIS, MIS and ICR', () => {
    const uart = new Pl011({ sink: () => {} });
    const edges: boolean[] = [];
    uart.onInterruptChange = (level) => edges.push(level);
    uart.write(PL011.DR, 1, 0x41, 0);
    expect(uart.read(PL011.RIS, 4) & PL011_INT.TX).not.toBe(0);
    expect(uart.read(PL011.MIS, 4)).toBe(0);
    uart.write(PL011.IMSC, 4, PL011_INT.TX | PL011_INT.RX, 0);
    expect(uart.read(PL011.MIS, 4)).toBe(PL011_INT.TX);
    uart.write(PL011.ICR, 4, PL011_INT.ALL, 0);
    expect(uart.read(PL011.RIS, 4)).toBe(0);
    expect(edges).toEqual([true, false]);

    uart.receive([0x61, 0x62]); // FIFOs off: one-byte holding register, the second overruns
    expect(uart.read(PL011.FR, 4) & PL011_FR.RXFE).toBe(0);
    expect(uart.read(PL011.MIS, 4) & PL011_INT.RX).not.toBe(0);
    expect(uart.read(PL011.DR, 4) & 0xff).toBe(0x61);
    expect(uart.read(PL011.FR, 4) & PL011_FR.RXFE).not.toBe(0);
    expect(uart.read(PL011.RIS, 4) & PL011_INT.OVERRUN).not.toBe(0);

    uart.write(PL011.LCR_H, 4, 0x10, 0); // FEN: a 32-byte receive FIFO
    uart.receive(Buffer.from('ok'));
    expect(uart.read(PL011.DR, 1)).toBe(0x6f);
    expect(uart.read(PL011.DR, 1)).toBe(0x6b);
  });

  it('collects output in a buffer sink that can be cleared', () => {
    const out = createBufferSink();
    const uart = new Pl011({ sink: out.sink });
    uart.write(0, 1, 0xc3, 0);
    uart.write(0, 1, 0xa9, 0);
    expect(out.text()).toBe('é');
    out.clear();
    expect(out.text()).toBe('');
  });
});
