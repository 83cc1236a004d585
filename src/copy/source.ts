// The contract between disk sources (HTTP, registry, upload, oVirt imageio,
// VDDK) and the copy engine. Sources may add optional members; the engine
// relies only on what is declared here.

export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'iso' | 'unknown';

/** A byte range of the source's virtual disk. `zero: true` means it reads as zeros (a hole or a zero extent). */
export interface Extent {
  offset: number;
  length: number;
  zero: boolean;
}

interface SourceBase {
  /** For logs and errors; never contains secrets. */
  readonly description: string;
  /** Releases the source (closes connections, finalizes or cancels transfers). `ok` says whether the copy succeeded. */
  close(ok: boolean): Promise<void>;
  /**
   * Optional: what makes this source's bytes the same bytes next time (an
   * ETag, a digest, a disk id + snapshot). A resumed copy continues only when
   * the identity matches; without it, size and description are used.
   */
  readonly identity?: string;
  /**
   * Optional: a local file holding the image exactly as the source serves it
   * (any format). Lets the engine hand non-raw images to qemu-img directly.
   */
  readonly localPath?: string;
}

/**
 * A source that can be read at any offset (VDDK, imageio, HTTP with ranges,
 * local files). `size` is the virtual disk size in bytes, the data is raw.
 */
export interface RandomAccessSource extends SourceBase {
  readonly kind: 'random';
  readonly size: number;
  /** Extents covering [offset, offset+length); sources without an allocation map omit this. */
  extents?(offset: number, length: number, signal?: AbortSignal): Promise<Extent[]>;
  /** Reads exactly `length` bytes at `offset` (short only at end of disk). */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer>;
  /** Whether a failed read may simply be retried at the same offset. */
  readonly retryable?: boolean;
  /**
   * Optional: reads into a caller's buffer (`buffer.length` bytes at `offset`,
   * short only at end of disk) and returns the byte count. Lets the engine
   * reuse a small pool of buffers instead of allocating one per read.
   */
  readInto?(buffer: Buffer, offset: number, signal?: AbortSignal): Promise<number>;
  /**
   * Optional: the image format behind `read()` when it is not raw (only with
   * `localPath`, which the engine then converts with qemu-img). Default raw.
   */
  readonly format?: ImageFormat;
  /**
   * Optional: bytes that have arrived so far, partial reads included. The
   * stall timer sees a slow source still moving by it before a whole chunk is
   * in, and a stall names how far the source got.
   */
  readonly bytesReceived?: number;
}

/**
 * A source that is only a byte stream (registry layers, uploads, compressed
 * HTTP without ranges). `size` is known for some (Content-Length) and not for
 * others; `format` describes the stream's content once decoded, if known.
 */
export interface StreamSource extends SourceBase {
  readonly kind: 'stream';
  readonly size?: number;
  readonly format?: ImageFormat;
  /** Opens the stream at `offset` (0 unless `resumable`). */
  open(offset: number, signal?: AbortSignal): Promise<NodeJS.ReadableStream>;
  readonly resumable?: boolean;
}

export type DiskSource = RandomAccessSource | StreamSource;
