/**
 * GDB Remote Serial Protocol framing: `$data#cc` packets with a modulo-256
 * checksum, `+`/`-` acknowledgements, the 0x03 interrupt byte, and the
 * binary escape (`}` then the byte XOR 0x20). Plus the hex helpers the
 * packets themselves use. Nothing here knows about the emulator.
 */

export const INTERRUPT = 0x03;
const DOLLAR = 0x24; // '$'
const HASH = 0x23; // '#'
const ESCAPE = 0x7d; // '}'
const STAR = 0x2a; // '*'
const PLUS = 0x2b;
const MINUS = 0x2d;

/** Modulo-256 sum of the bytes between `$` and `#` (as sent, i.e. escaped). */
export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return sum;
}

const encoder = new TextEncoder();
const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');

/** Text as protocol bytes (the protocol is byte-oriented; payloads are ASCII or binary). */
export function bytesOf(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

export function textOf(bytes: Uint8Array): string {
  return latin1(bytes);
}

/**
 * Escapes the bytes that cannot appear raw inside a packet. `*` is escaped
 * too because a receiver would take it for run-length encoding.
 */
export function escapeBinary(bytes: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of bytes) if (b === DOLLAR || b === HASH || b === ESCAPE || b === STAR) extra++;
  if (extra === 0) return bytes;
  const out = new Uint8Array(bytes.length + extra);
  let j = 0;
  for (const b of bytes) {
    if (b === DOLLAR || b === HASH || b === ESCAPE || b === STAR) {
      out[j++] = ESCAPE;
      out[j++] = b ^ 0x20;
    } else {
      out[j++] = b;
    }
  }
  return out;
}

/** Undoes escapeBinary; null when the data ends in a lone escape byte. */
export function unescapeBinary(bytes: Uint8Array): Uint8Array | null {
  if (!bytes.includes(ESCAPE)) return bytes;
  const out = new Uint8Array(bytes.length);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === ESCAPE) {
      if (i + 1 >= bytes.length) return null;
      out[j++] = bytes[++i]! ^ 0x20;
    } else {
      out[j++] = b;
    }
  }
  return out.subarray(0, j);
}

/** A complete packet on the wire: `$` escaped payload `#` two hex digits. */
export function framePacket(payload: Uint8Array | string): Uint8Array {
  const body = escapeBinary(typeof payload === 'string' ? bytesOf(payload) : payload);
  const out = new Uint8Array(body.length + 4);
  out[0] = DOLLAR;
  out.set(body, 1);
  out[body.length + 1] = HASH;
  const cs = checksum(body).toString(16).padStart(2, '0');
  out[body.length + 2] = cs.charCodeAt(0);
  out[body.length + 3] = cs.charCodeAt(1);
  return out;
}

export type WireEvent =
  /** A packet whose checksum matched; `data` is unescaped. */
  | { kind: 'packet'; data: Uint8Array }
  /** A complete packet with a wrong or non-hex checksum (to be answered with `-`). */
  | { kind: 'bad-checksum' }
  /** A packet whose contents could not be unescaped, or that grew past the size limit. */
  | { kind: 'malformed'; why: string }
  | { kind: 'ack' }
  | { kind: 'nack' }
  | { kind: 'interrupt' };

const enum State { Idle, Data, Check1, Check2 }

/**
 * Incremental decoder of the byte stream from the debugger. Bytes outside a
 * packet other than `+`, `-` and 0x03 are ignored (line noise); a `$` inside
 * a packet starts over, which resynchronises after a lost `#`.
 */
export class PacketDecoder {
  private state = State.Idle;
  private buf: Uint8Array;
  private len = 0;
  private overflowed = false;
  private check1 = 0;

  constructor(readonly maxPacket = 0x10000) {
    this.buf = new Uint8Array(Math.min(maxPacket, 4096));
  }

  push(chunk: Uint8Array): WireEvent[] {
    const events: WireEvent[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case State.Idle:
          if (b === DOLLAR) this.begin();
          else if (b === PLUS) events.push({ kind: 'ack' });
          else if (b === MINUS) events.push({ kind: 'nack' });
          else if (b === INTERRUPT) events.push({ kind: 'interrupt' });
          break;
        case State.Data:
          if (b === HASH) this.state = State.Check1;
          else if (b === DOLLAR) this.begin();
          else this.append(b);
          break;
        case State.Check1:
          this.check1 = b;
          this.state = State.Check2;
          break;
        case State.Check2: {
          this.state = State.Idle;
          if (this.overflowed) { events.push({ kind: 'malformed', why: `packet longer than ${this.maxPacket} bytes` }); break; }
          const body = this.buf.subarray(0, this.len);
          const want = parseInt(String.fromCharCode(this.check1, b), 16);
          if (!isHexDigit(this.check1) || !isHexDigit(b) || want !== checksum(body)) { events.push({ kind: 'bad-checksum' }); break; }
          const data = unescapeBinary(body);
          if (data === null) { events.push({ kind: 'malformed', why: 'packet ends in an escape byte' }); break; }
          events.push({ kind: 'packet', data: data.slice() });
          break;
        }
      }
    }
    return events;
  }

  private begin(): void {
    this.state = State.Data;
    this.len = 0;
    this.overflowed = false;
  }

  private append(b: number): void {
    if (this.len >= this.maxPacket) { this.overflowed = true; return; }
    if (this.len === this.buf.length) {
      const bigger = new Uint8Array(Math.min(this.maxPacket, this.buf.length * 2));
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

// ---- hex helpers ---------------------------------------------------------------

const HEX = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

/** Strict hex → bytes; null for an odd length or a non-hex character. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

/** A hex number as the protocol writes addresses and lengths (big-endian digits); null unless 1..16 hex digits. */
export function parseHexNumber(text: string): bigint | null {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) return null;
  return BigInt('0x' + text);
}

/** Target-order (little-endian) bytes of a register value. */
export function littleEndian(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

export function fromLittleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

export function hexOfText(text: string): string {
  return toHex(encoder.encode(text));
}
