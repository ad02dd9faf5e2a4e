/**
 * The interface every memory-mapped device implements, as seen from the
 * physical bus (`PhysicalMemory`). Offsets are relative to the device's base.
 *
 * Values travel as 32-bit patterns so that no access allocates: a 64-bit
 * register is read as two halves (see `handles64` / `high32`), written as
 * `lo` and `hi`.
 */

/** Width of one bus access in bytes. */
export type AccessSize = 1 | 2 | 4 | 8;

export interface MmioDevice {
  /** Short name for diagnostics and traces, e.g. "pl011". */
  readonly name: string;

  /**
   * True if the device has 64-bit registers and wants 8-byte accesses as
   * one access. When absent or false the bus splits an 8-byte access into two
   * 4-byte accesses, lower address first (what a 32-bit APB bridge does).
   */
  readonly handles64?: boolean;

  /**
   * High half of the value of the most recent 8-byte `read` (only consulted
   * for devices with `handles64`). A field rather than a return value keeps
   * 64-bit reads allocation-free.
   */
  high32?: number;

  /**
   * Performs a read of `size` bytes at `offset` and returns its value as a
   * 32-bit pattern: zero-extended for sizes 1 and 2, any int32/uint32 form for
   * size 4, and the low half for size 8.
   */
  read(offset: number, size: AccessSize): number;

  /**
   * Performs a write of `size` bytes at `offset`. `lo` holds the value (only
   * its low `size * 8` bits matter for sizes 1, 2 and 4); `hi` is the high
   * half of an 8-byte write and 0 otherwise.
   */
  write(offset: number, size: AccessSize, lo: number, hi: number): void;
}
