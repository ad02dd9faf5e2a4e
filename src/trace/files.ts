/**
 * Synchronous, chunked file input and output for traces: bounded memory
 * whatever the file size, and no event-loop round trip per chunk (the
 * diff's inner loop pulls records one at a time).
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

const CHUNK = 1 << 20;

/** Reads a file in chunks; `fill` keeps at least `need` unread bytes buffered when the file has them. */
export class ChunkReader {
  buf: Uint8Array = new Uint8Array(CHUNK);
  /** Next unread byte in buf. */
  pos = 0;
  /** End of valid data in buf. */
  end = 0;
  /** File offset of buf[0]. */
  base = 0;
  eof = false;
  private readonly fd: number;

  constructor(readonly path: string, fd?: number) {
    this.fd = fd ?? openSync(path, 'r');
  }

  /** Makes `need` bytes available from pos if the file has them; returns how many are. */
  fill(need: number): number {
    if (this.end - this.pos >= need || this.eof) return this.end - this.pos;
    // Move the unread tail to the front, growing the buffer for a record larger than it.
    const unread = this.end - this.pos;
    if (need > this.buf.length) {
      const b = new Uint8Array(Math.max(need, this.buf.length * 2));
      b.set(this.buf.subarray(this.pos, this.end));
      this.buf = b;
    } else {
      this.buf.copyWithin(0, this.pos, this.end);
    }
    this.base += this.pos;
    this.pos = 0;
    this.end = unread;
    while (this.end < need && !this.eof) {
      const n = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      if (n === 0) this.eof = true;
      this.end += n;
    }
    return this.end - this.pos;
  }

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Splits a file into lines (without the newline; a final line without one is returned too). */
export class LineReader {
  private readonly chunks: ChunkReader;
  private lines: string[] = [];
  private at = 0;
  /** 1-based number of the line last returned. */
  lineNo = 0;

  constructor(path: string, readonly maxLine = 64 << 20) {
    this.chunks = new ChunkReader(path);
  }

  next(): string | undefined {
    for (;;) {
      if (this.at < this.lines.length) {
        this.lineNo++;
        return this.lines[this.at++];
      }
      if (!this.refill()) return undefined;
    }
  }

  /** Decodes the buffered bytes up to the last newline into lines (a newline never splits a UTF-8 sequence). */
  private refill(): boolean {
    const c = this.chunks;
    let want = CHUNK;
    for (;;) {
      const have = c.fill(want);
      if (have === 0) return false;
      const b = c.buf;
      const nl = b.lastIndexOf(10, c.end - 1);
      let stop: number;
      if (nl >= c.pos) stop = nl + 1;
      else if (c.eof) stop = c.end;
      else if (have >= this.maxLine) throw new RangeError(`line ${this.lineNo + 1} is longer than ${this.maxLine} characters`);
      else {
        want = have * 2;
        continue;
      }
      const text = Buffer.from(b.buffer, b.byteOffset + c.pos, stop - c.pos).toString('utf8');
      c.pos = stop;
      const parts = text.split('\n');
      if (parts[parts.length - 1] === '') parts.pop();
      for (let k = 0; k < parts.length; k++) {
        const l = parts[k]!;
        if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) parts[k] = l.slice(0, -1);
      }
      this.lines = parts;
      this.at = 0;
      return true;
    }
  }

  close(): void {
    this.chunks.close();
  }
}

/** Buffered output to a file descriptor. */
export class ChunkWriter {
  private buf = new Uint8Array(CHUNK);
  private len = 0;
  private readonly encoder = new TextEncoder();
  bytesWritten = 0;

  constructor(private readonly fd: number, private readonly ownsFd = true) {}

  static open(path: string): ChunkWriter {
    return new ChunkWriter(openSync(path, 'w'));
  }

  /** Room for n more bytes; returns the buffer and position to write them at. */
  reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = new Uint8Array(n);
    }
    return this.len;
  }

  get buffer(): Uint8Array {
    return this.buf;
  }

  commit(n: number): void {
    this.len += n;
  }

  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    this.len += b.length;
  }

  text(s: string): void {
    // Worst case 3 bytes per UTF-16 unit.
    const at = this.reserve(s.length * 3);
    const { written } = this.encoder.encodeInto(s, this.buf.subarray(at));
    this.len += written;
  }

  flush(): void {
    let off = 0;
    while (off < this.len) off += writeSync(this.fd, this.buf, off, this.len - off);
    this.bytesWritten += this.len;
    this.len = 0;
  }

  close(): void {
    this.flush();
    if (this.ownsFd) closeSync(this.fd);
  }
}
