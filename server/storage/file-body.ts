// A stored file's bytes as a stream (the local store's read): an ordinary Readable of 1 MiB chunks for any consumer,
// which an HTTP route can instead send with sendTo — read into a few buffers that are reused once the socket has taken
// their bytes, so a large download allocates no buffer per read (the garbage collections of 256 fresh 1 MiB buffers
// per 256 MiB cost the server about as much CPU as the transfer itself; bench:data-proxy).
import type { FileHandle } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { finished } from "node:stream/promises";

const READ_BYTES = 1024 * 1024;
/** sendTo's buffers: one being read into while the others are written. */
const SEND_BUFFERS = 3;

export class FileBody extends Readable {
  private position = 0;

  /** Buffers no larger than needed: the file's size when it was opened (it is never written in place). */
  private readonly chunk: number;

  /** Takes ownership of `handle` (closed when the stream ends or is destroyed), open on a file of `size` bytes. */
  constructor(
    private readonly handle: FileHandle,
    size: number,
  ) {
    super({ highWaterMark: READ_BYTES });
    this.chunk = Math.max(1, Math.min(size, READ_BYTES));
  }

  override _read(): void {
    const buf = Buffer.allocUnsafeSlow(this.chunk);
    this.handle.read(buf, 0, buf.length, this.position).then(
      ({ bytesRead }) => {
        this.position += bytesRead;
        this.push(bytesRead === 0 ? null : buf.subarray(0, bytesRead));
      },
      (err: unknown) => this.destroy(err as Error),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.handle.close().then(
      () => callback(err),
      (closeErr: unknown) => callback(err ?? (closeErr as Error)),
    );
  }

  /**
   * Writes the rest of the file to `out` and ends it; resolves once `out` has finished. Rejects when reading fails or
   * `out` closes first (a client that went away). The file is closed either way. Not for a stream already read from.
   */
  async sendTo(out: Writable): Promise<void> {
    const free: Buffer[] = [];
    let buffers = 0;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const ready = () => {
      wake?.();
      wake = undefined;
    };
    const onClose = () => {
      failure ??= new Error("the connection closed before the body was sent");
      ready();
    };
    out.once("close", onClose);
    try {
      for (;;) {
        if (free.length === 0 && buffers < SEND_BUFFERS) {
          free.push(Buffer.allocUnsafeSlow(this.chunk));
          buffers++;
        }
        while (free.length === 0 && failure === undefined) await new Promise<void>((r) => (wake = r));
        if (failure !== undefined) throw failure;
        const buf = free.pop() as Buffer;
        const { bytesRead } = await this.handle.read(buf, 0, buf.length, this.position);
        if (bytesRead === 0) break;
        this.position += bytesRead;
        // The socket holds the buffer until its write completes; then it is read into again.
        out.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), (err) => {
          if (err !== null && err !== undefined) failure ??= err;
          free.push(buf);
          ready();
        });
      }
      out.end();
      await finished(out);
    } finally {
      out.off("close", onClose);
      this.destroy();
    }
  }
}
