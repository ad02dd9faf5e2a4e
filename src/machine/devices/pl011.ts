/**
 * Arm PrimeCell PL011 UART, modelled as far as boot code and Linux's pl011
 * earlycon and driver probe need: transmission completes instantly (FR always
 * shows TXFE set, TXFF and BUSY clear), a small receive FIFO can be fed from
 * the host, and interrupt state (RIS/MIS/IMSC/ICR) is tracked for a future
 * interrupt controller.
 *
 * Like QEMU, a byte written to DR is transmitted even when CR.UARTEN/TXE are
 * clear: boot code often relies on firmware having enabled the UART.
 */
import type { AccessSize, MmioDevice } from '../mmio-device.js';

/** Register offsets (PL011 TRM, "Summary of registers"). */
export const PL011 = {
  DR: 0x000,
  RSR_ECR: 0x004,
  FR: 0x018,
  ILPR: 0x020,
  IBRD: 0x024,
  FBRD: 0x028,
  LCR_H: 0x02c,
  CR: 0x030,
  IFLS: 0x034,
  IMSC: 0x038,
  RIS: 0x03c,
  MIS: 0x040,
  ICR: 0x044,
  DMACR: 0x048,
  PERIPH_ID0: 0xfe0,
} as const;

/** FR bits. */
export const PL011_FR = {
  BUSY: 1 << 3,
  RXFE: 1 << 4,
  TXFF: 1 << 5,
  RXFF: 1 << 6,
  TXFE: 1 << 7,
} as const;

/** Interrupt bits shared by RIS, MIS, IMSC and ICR. */
export const PL011_INT = {
  RX: 1 << 4,
  TX: 1 << 5,
  RX_TIMEOUT: 1 << 6,
  OVERRUN: 1 << 10,
  ALL: 0x7ff,
} as const;

/** LCR_H.FEN: FIFOs enabled (otherwise they act as one-byte holding registers). */
const LCR_H_FEN = 1 << 4;
/** RSR/ECR and DR bit 11: overrun error. */
const ERROR_OVERRUN = 1 << 3;
/** Receive FIFO depth of the PL011 r1p5. */
const RX_FIFO_DEPTH = 32;

/**
 * PeriphID0-3 and PCellID0-3 at 0xfe0..0xffc, the values QEMU's pl011
 * reports for the Arm part (part number 0x011, designer Arm, revision 1).
 */
const PL011_ID_BYTES = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1] as const;

/** Reset values from the TRM. */
const CR_RESET = 0x300; // TXE | RXE
const IFLS_RESET = 0x12; // both FIFO levels at 1/2

/** Receives each transmitted byte. */
export type ByteSink = (byte: number) => void;

export interface Pl011Options {
  /** Where transmitted bytes go; defaults to a line-buffered stdout sink. */
  sink?: ByteSink;
  /** Name for diagnostics; defaults to "pl011". */
  name?: string;
}

export class Pl011 implements MmioDevice {
  readonly name: string;
  readonly handles64 = false;
  sink: ByteSink;
  /** Called when the combined interrupt output (any bit of MIS) changes. */
  onInterruptChange: ((asserted: boolean) => void) | undefined = undefined;

  private ibrd = 0;
  private fbrd = 0;
  private lcrH = 0;
  private cr = CR_RESET;
  private ifls = IFLS_RESET;
  private imsc = 0;
  private ris = 0;
  private dmacr = 0;
  private ilpr = 0;
  private receiveStatus = 0;
  // Receive FIFO as a ring buffer of (error bits << 8 | byte).
  private readonly rxFifo = new Uint16Array(RX_FIFO_DEPTH);
  private rxHead = 0;
  private rxCount = 0;
  private interruptAsserted = false;

  /** Flushes the default stdout sink's partial line; a no-op with a custom sink. */
  readonly flush: () => void;

  constructor(options: Pl011Options = {}) {
    this.name = options.name ?? 'pl011';
    if (options.sink !== undefined) {
      this.sink = options.sink;
      this.flush = () => {};
    } else {
      const stdout = createStdoutSink();
      this.sink = stdout.sink;
      this.flush = stdout.flush;
    }
  }

  reset(): void {
    this.ibrd = 0;
    this.fbrd = 0;
    this.lcrH = 0;
    this.cr = CR_RESET;
    this.ifls = IFLS_RESET;
    this.imsc = 0;
    this.ris = 0;
    this.dmacr = 0;
    this.ilpr = 0;
    this.receiveStatus = 0;
    this.rxHead = 0;
    this.rxCount = 0;
    this.updateInterrupt();
  }

  /** True while the UART's combined interrupt output is asserted. */
  get interruptPending(): boolean {
    return (this.ris & this.imsc) !== 0;
  }

  /**
   * Host input: queues bytes as if received on the line. Bytes beyond the
   * FIFO's capacity are lost and flag an overrun, as on hardware.
   */
  receive(bytes: Iterable<number>): void {
    for (const byte of bytes) {
      if (this.rxCount >= this.rxCapacity()) {
        this.receiveStatus |= ERROR_OVERRUN;
        this.ris |= PL011_INT.OVERRUN;
        continue;
      }
      this.rxFifo[(this.rxHead + this.rxCount) % RX_FIFO_DEPTH] = byte & 0xff;
      this.rxCount++;
    }
    if (this.rxCount > 0) this.ris |= PL011_INT.RX | PL011_INT.RX_TIMEOUT;
    this.updateInterrupt();
  }

  read(offset: number, size: AccessSize): number {
    // Registers are 32 bits wide; a narrower read sees the addressed bytes.
    const value = this.readRegister(offset & ~3);
    const shifted = value >>> ((offset & 3) * 8);
    return size === 1 ? shifted & 0xff : size === 2 ? shifted & 0xffff : shifted | 0;
  }

  write(offset: number, size: AccessSize, lo: number, _hi: number): void {
    // Narrow writes to the low byte(s) of a register act on the register;
    // writes to its upper bytes alone are ignored (no boot code does that).
    if ((offset & 3) !== 0) return;
    const value = size === 1 ? lo & 0xff : size === 2 ? lo & 0xffff : lo >>> 0;
    switch (offset) {
      case PL011.DR:
        this.sink(value & 0xff);
        // Transmission is instantaneous, so the transmit FIFO is at once
        // below its trigger level: raise the TX interrupt.
        this.ris |= PL011_INT.TX;
        this.updateInterrupt();
        return;
      case PL011.RSR_ECR:
        this.receiveStatus = 0;
        return;
      case PL011.ILPR:
        this.ilpr = value & 0xff;
        return;
      case PL011.IBRD:
        this.ibrd = value & 0xffff;
        return;
      case PL011.FBRD:
        this.fbrd = value & 0x3f;
        return;
      case PL011.LCR_H:
        // Turning the FIFOs off or on flushes the receive FIFO, as on hardware.
        if (((value ^ this.lcrH) & LCR_H_FEN) !== 0) this.rxCount = 0;
        this.lcrH = value & 0xff;
        return;
      case PL011.CR:
        this.cr = value & 0xffff;
        return;
      case PL011.IFLS:
        this.ifls = value & 0x3f;
        return;
      case PL011.IMSC:
        this.imsc = value & PL011_INT.ALL;
        this.updateInterrupt();
        return;
      case PL011.ICR:
        this.ris &= ~value;
        this.updateInterrupt();
        return;
      case PL011.DMACR:
        this.dmacr = value & 0x7;
        return;
      default:
        return; // read-only or reserved: writes are ignored
    }
  }

  private readRegister(offset: number): number {
    switch (offset) {
      case PL011.DR:
        return this.popReceived();
      case PL011.RSR_ECR:
        return this.receiveStatus;
      case PL011.FR:
        return this.flags();
      case PL011.ILPR:
        return this.ilpr;
      case PL011.IBRD:
        return this.ibrd;
      case PL011.FBRD:
        return this.fbrd;
      case PL011.LCR_H:
        return this.lcrH;
      case PL011.CR:
        return this.cr;
      case PL011.IFLS:
        return this.ifls;
      case PL011.IMSC:
        return this.imsc;
      case PL011.RIS:
        return this.ris;
      case PL011.MIS:
        return this.ris & this.imsc;
      case PL011.DMACR:
        return this.dmacr;
      default:
        if (offset >= PL011.PERIPH_ID0 && offset <= 0xffc) return PL011_ID_BYTES[(offset - PL011.PERIPH_ID0) >> 2]!;
        return 0; // ICR is write-only; reserved offsets read as zero
    }
  }

  private flags(): number {
    let fr = PL011_FR.TXFE;
    if (this.rxCount === 0) fr |= PL011_FR.RXFE;
    if (this.rxCount >= this.rxCapacity()) fr |= PL011_FR.RXFF;
    return fr;
  }

  private popReceived(): number {
    if (this.rxCount === 0) return 0;
    const entry = this.rxFifo[this.rxHead]!;
    this.rxHead = (this.rxHead + 1) % RX_FIFO_DEPTH;
    this.rxCount--;
    if (this.rxCount === 0) {
      this.ris &= ~(PL011_INT.RX | PL011_INT.RX_TIMEOUT);
      this.updateInterrupt();
    }
    // DR carries the overrun flag of the byte that followed lost input.
    const overrun = (this.receiveStatus & ERROR_OVERRUN) !== 0 ? 1 << 11 : 0;
    return entry | overrun;
  }

  private rxCapacity(): number {
    return (this.lcrH & LCR_H_FEN) !== 0 ? RX_FIFO_DEPTH : 1;
  }

  private updateInterrupt(): void {
    const asserted = this.interruptPending;
    if (asserted === this.interruptAsserted) return;
    this.interruptAsserted = asserted;
    this.onInterruptChange?.(asserted);
  }
}

/** A sink that collects bytes in memory, for tests and scripted runs. */
export interface BufferSink {
  readonly sink: ByteSink;
  readonly bytes: number[];
  /** The collected bytes decoded as UTF-8. */
  text(): string;
  clear(): void;
}

export function createBufferSink(): BufferSink {
  const bytes: number[] = [];
  return {
    sink: (byte) => {
      bytes.push(byte & 0xff);
    },
    bytes,
    text: () => Buffer.from(bytes).toString('utf8'),
    clear: () => {
      bytes.length = 0;
    },
  };
}

/**
 * A sink writing to process.stdout. Bytes are gathered and written per line
 * (or per 4 KiB) because one write call per byte is slow; a partial line is
 * flushed at the next turn of the event loop or by `flush()`.
 */
export function createStdoutSink(): { sink: ByteSink; flush: () => void } {
  const pending = new Uint8Array(4096);
  let length = 0;
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    if (length === 0) return;
    process.stdout.write(Buffer.from(pending.subarray(0, length)));
    length = 0;
  };
  const sink: ByteSink = (byte) => {
    pending[length++] = byte;
    if (byte === 0x0a || length === pending.length) flush();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  return { sink, flush };
}
