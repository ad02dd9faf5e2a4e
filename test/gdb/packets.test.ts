/**
 * RSP framing: checksums, escaping, the incremental decoder (acks, interrupt,
 * resynchronisation, bad checksums, size limit) and the hex helpers.
 */
import { describe, expect, it } from 'vitest';
import {
  PacketDecoder, checksum, escapeBinary, framePacket, fromHex, fromLittleEndian, littleEndian,
  parseHexNumber, toHex, unescapeBinary, bytesOf, textOf, hexOfText,
} from '../../src/gdb/packets.js';

const frame = (s: string | Uint8Array) => textOf(framePacket(s));

describe('checksums and frames', () => {
  it('sums the payload modulo 256', () => {
    // Values from the protocol's definition: the sum of the characters between $ and #.
    expect(checksum(bytesOf('g'))).toBe(0x67);
    expect(checksum(bytesOf('OK'))).toBe(0x9a);
    expect(checksum(bytesOf('qSupported'))).toBe(('qSupported'.split('').reduce((a, c) => a + c.charCodeAt(0), 0)) & 0xff);
    expect(checksum(new Uint8Array(300).fill(0xff))).toBe((300 * 0xff) & 0xff);
    expect(checksum(bytesOf(''))).toBe(0);
  });

  it('frames as $payload#cc with two lower-case hex digits', () => {
    expect(frame('OK')).toBe('$OK#9a');
    expect(frame('')).toBe('$#00');
    expect(frame('?')).toBe('$?#3f');
    expect(frame('vMustReplyEmpty')).toBe('$vMustReplyEmpty#3a');
  });

  it('escapes $ # } and * in the payload, and the checksum covers the escaped bytes', () => {
    const f = frame(new Uint8Array([0x24, 0x23, 0x7d, 0x2a, 0x41]));
    expect(f).toBe('$' + '}\x04}\x03}]}\x0aA' + '#' + checksum(bytesOf('}\x04}\x03}]}\x0aA')).toString(16).padStart(2, '0'));
  });
});

describe('binary escaping', () => {
  it('round-trips every byte value', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const esc = escapeBinary(all);
    expect(esc.length).toBe(256 + 4);
    for (const b of [0x23, 0x24, 0x2a]) expect(esc.includes(b)).toBe(false);
    expect([...unescapeBinary(esc)!]).toEqual([...all]);
  });

  it('leaves data without special bytes alone and rejects a trailing escape', () => {
    const plain = bytesOf('hello');
    expect(escapeBinary(plain)).toBe(plain);
    expect(unescapeBinary(bytesOf('ab}'))).toBeNull();
    expect(textOf(unescapeBinary(bytesOf('a}]b'))!)).toBe('a}b');
  });
});

describe('PacketDecoder', () => {
  it('decodes packets, acks, nacks and the interrupt byte, across chunk boundaries', () => {
    const d = new PacketDecoder();
    const wire = bytesOf('+$g#67-\x03$m40080000,4#59');
    const events = [];
    for (const b of wire) events.push(...d.push(new Uint8Array([b])));
    expect(events.map((e) => e.kind)).toEqual(['ack', 'packet', 'nack', 'interrupt', 'packet']);
    expect(textOf((events[1] as { data: Uint8Array }).data)).toBe('g');
    expect(textOf((events[4] as { data: Uint8Array }).data)).toBe('m40080000,4');
  });

  it('unescapes packet data (the checksum is over the escaped form)', () => {
    const payload = new Uint8Array([0x58, 0x7d, 0x24, 0x00, 0x2a]);
    const [ev] = new PacketDecoder().push(framePacket(payload));
    expect(ev!.kind).toBe('packet');
    expect([...(ev as { data: Uint8Array }).data]).toEqual([...payload]);
  });

  it('reports bad and non-hex checksums, and upper-case hex digits are fine', () => {
    const d = new PacketDecoder();
    expect(d.push(bytesOf('$g#68')).map((e) => e.kind)).toEqual(['bad-checksum']);
    expect(d.push(bytesOf('$g#zz')).map((e) => e.kind)).toEqual(['bad-checksum']);
    expect(d.push(bytesOf('$OK#9A')).map((e) => e.kind)).toEqual(['packet']);
  });

  it('ignores line noise between packets and restarts on a $ inside a packet', () => {
    const d = new PacketDecoder();
    const evs = d.push(bytesOf('garbage\r\n$partial$g#67'));
    expect(evs.map((e) => e.kind)).toEqual(['packet']);
    expect(textOf((evs[0] as { data: Uint8Array }).data)).toBe('g');
  });

  it('reports an over-long packet as malformed without buffering it, then carries on', () => {
    const d = new PacketDecoder(16);
    const evs = d.push(bytesOf('$' + 'a'.repeat(1000) + '#00$g#67'));
    expect(evs.map((e) => e.kind)).toEqual(['malformed', 'packet']);
  });

  it('reports a packet ending in an escape byte as malformed', () => {
    const body = bytesOf('X}');
    const wire = bytesOf('$X}#' + checksum(body).toString(16).padStart(2, '0'));
    expect(new PacketDecoder().push(wire).map((e) => e.kind)).toEqual(['malformed']);
  });
});

describe('hex helpers', () => {
  it('converts bytes and numbers', () => {
    expect(toHex(new Uint8Array([0, 0x7f, 0xff]))).toBe('007fff');
    expect([...fromHex('007FfF')!]).toEqual([0, 0x7f, 0xff]);
    expect(fromHex('abc')).toBeNull();
    expect(fromHex('zz')).toBeNull();
    expect(parseHexNumber('40080000')).toBe(0x40080000n);
    expect(parseHexNumber('ffffffffffffffff')).toBe(0xffffffffffffffffn);
    expect(parseHexNumber('1ffffffffffffffff')).toBeNull();
    expect(parseHexNumber('')).toBeNull();
    expect(parseHexNumber('-1')).toBeNull();
    expect(toHex(littleEndian(0x0102030405060708n, 8))).toBe('0807060504030201');
    expect(fromLittleEndian(littleEndian(-1n, 4))).toBe(0xffffffffn);
    expect(hexOfText('OK\n')).toBe('4f4b0a');
  });
});
