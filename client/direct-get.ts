// A GET whose body goes straight from the socket into a file: the socket reads into a few large buffers (the `onread`
// option of net/tls sockets, so Node allocates nothing per read and the HTTP parser copies nothing), each written to
// the file whole (one write per ~2 MiB) while the next ones fill. Node's http client costs ~3x the CPU here
// (a fresh 64 KiB buffer per read, another copy per body chunk, and the garbage collections of all those buffers).
// HTTP/1.1 only, one request per connection (Connection: close); the response is read in place by ResponseReader
// (bodies framed by Content-Length, chunked or the connection's end; interim 1xx answers skipped; an answer other
// than 200 read for its first 2 KiB of text, a reason); this file is the socket, its buffers and the file's writes.
import type { FileHandle } from "node:fs/promises";
import net from "node:net";
import tls from "node:tls";
import { type DirectGetResult, ResponseReader } from "./response-reader.js";

export type { DirectGetResult } from "./response-reader.js";

export interface DirectGetOptions {
  readonly signal?: AbortSignal;
  /** CA certificates for https (undefined: the system's). */
  readonly ca?: readonly string[];
}

/** Thrown when the transfer fails; `answered` tells whether it failed after the response head arrived. */
export class DirectGetError extends Error {
  constructor(
    message: string,
    readonly answered: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** 2 MiB: larger buffers (4 MiB) gave the same median and more slow rounds (bench:data-proxy). */
const SLAB = 2 * 1024 * 1024;
const SLABS = 6;
/** A slab with less room than this is written out and the next one read into. */
const MIN_ROOM = 256 * 1024;

/** Where a 200 answer's body goes: opened at its first bytes (never for another answer), written from position 0. */
export type OpenFile = () => Promise<FileHandle>;

/** GETs `url` (http or https); a 200 answer's body is written into the file `open` gives. */
export function directGet(url: URL, open: OpenFile, opts: DirectGetOptions = {}): Promise<DirectGetResult> {
  return new Promise((resolve, reject) => new Transfer(url, open, opts, resolve, reject).start());
}

class Transfer {
  private socket: net.Socket | undefined;
  private readonly free: Buffer[] = [];
  private slabs = 0;
  /** The slab being read into, undefined while waiting for one to come back from the file. */
  private cur: Buffer | undefined;
  /** Where the body starts in `cur` (after the head in the first slab), and where its bytes end. */
  private base = 0;
  private fill = 0;
  /** Raw bytes read while no slab was free (TLS may hand over decrypted data after a pause). */
  private readonly overflow: Buffer[] = [];
  private readonly spare = Buffer.allocUnsafe(64 * 1024);
  private readonly response = new ResponseReader();
  private position = 0;
  private writes: Promise<void> = Promise.resolve();
  private pending = 0;
  /** The connection has ended (its last bytes may still wait in `overflow`). */
  private ended = false;
  private settled = false;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly url: URL,
    private readonly open: OpenFile,
    private readonly opts: DirectGetOptions,
    private readonly resolve: (r: DirectGetResult) => void,
    private readonly reject: (e: unknown) => void,
  ) {}

  start(): void {
    const { signal } = this.opts;
    if (signal?.aborted === true) {
      this.fail(abortError(signal));
      return;
    }
    this.cur = this.takeSlab();
    const onread = { buffer: () => this.target(), callback: (n: number, buf: Buffer) => this.onRead(n, buf) };
    const host = this.url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(this.url.port || (this.url.protocol === "https:" ? 443 : 80));
    const socket =
      this.url.protocol === "https:"
        ? tls.connect({
            host,
            port,
            ...(net.isIP(host) === 0 ? { servername: host } : {}),
            ...(this.opts.ca === undefined ? {} : { ca: [...this.opts.ca] }),
            ALPNProtocols: ["http/1.1"],
            onread,
          } as tls.ConnectionOptions)
        : net.connect({ host, port, onread } as net.NetConnectOpts);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("error", (err) => this.fail(err));
    socket.on("end", () => this.onEnd());
    socket.on("close", () => this.onEnd());
    if (signal !== undefined) {
      this.onAbort = () => this.fail(abortError(signal));
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
    socket.write(requestHead(this.url));
  }

  private takeSlab(): Buffer | undefined {
    const slab = this.free.pop();
    if (slab !== undefined) return slab;
    if (this.slabs >= SLABS) return undefined;
    this.slabs++;
    return Buffer.allocUnsafeSlow(SLAB);
  }

  /** Where the next read goes: the free room of the current slab, else the spare buffer. */
  private target(): Buffer {
    return this.cur === undefined ? this.spare : this.cur.subarray(this.fill);
  }

  private onRead(n: number, buf: Buffer): boolean {
    if (this.settled) return false;
    try {
      if (this.cur === undefined || buf === this.spare) {
        if (this.cur === undefined) {
          this.overflow.push(Buffer.from(buf.subarray(0, n)));
          return false;
        }
        buf.copy(this.cur, this.fill, 0, n);
      }
      return this.take(n);
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /**
   * `n` new bytes at `cur[fill]`: read as the head, then decoded in place as the body (a refusal's kept as its reason,
   * none left to write); the slab is written out when nearly full. False: pause reading.
   */
  private take(n: number): boolean {
    const cur = this.cur as Buffer;
    let from = this.fill;
    this.fill += n;
    if (this.response.head === undefined) {
      const { fill, base } = this.response.readHead(cur, from, this.fill);
      this.fill = fill;
      if (base === undefined) return true;
      this.base = from = base;
    }
    if (this.fill > from) this.fill = this.response.body(cur, from, this.fill);
    if (this.response.done) {
      this.finish();
      return false;
    }
    if (cur.length - this.fill >= MIN_ROOM) return true;
    this.flush();
    return this.cur !== undefined;
  }

  /** Writes the current slab's body bytes out and moves to the next slab (undefined, pausing, when none is free). */
  private flush(): void {
    const slab = this.cur as Buffer;
    const start = this.base;
    const len = this.fill - start;
    this.cur = undefined;
    this.base = 0;
    this.fill = 0;
    if (len === 0) {
      this.cur = slab;
      return;
    }
    const position = this.position;
    this.position += len;
    this.pending++;
    this.writes = this.writes
      .then(async () => {
        if (!this.settled) await writeFully(await this.open(), slab, start, len, position);
      })
      .then(() => {
        this.pending--;
        this.free.push(slab);
        this.onWritten();
      })
      .catch((err: unknown) => this.fail(err));
    this.cur = this.takeSlab();
  }

  /** A slab is back from the file: reading goes on into it (bytes read meanwhile first), or the result follows. */
  private onWritten(): void {
    if (this.settled) return;
    if (this.cur === undefined && !this.response.done) {
      this.cur = this.takeSlab();
      try {
        // In order, for as long as a slab has room (taking them may fill it and leave none free: the rest waits).
        while (this.cur !== undefined && this.overflow.length > 0) {
          const raw = this.overflow.shift() as Buffer;
          raw.copy(this.cur, this.fill);
          this.take(raw.length);
          if (this.settled || this.response.done) return;
        }
      } catch (err) {
        this.fail(err);
        return;
      }
      if (this.cur === undefined) return;
      if (this.ended) this.finish();
      else this.socket?.resume();
      return;
    }
    if ((this.response.done || this.ended) && this.pending === 0) this.settle();
  }

  /** The connection ended: the body is what arrived (complete if its framing said so, or if it had none). */
  private onEnd(): void {
    if (this.settled || this.ended) return;
    this.ended = true;
    if (this.response.head === undefined) {
      this.fail(new Error("the connection closed before a response arrived"));
      return;
    }
    if (this.overflow.length > 0 && !this.response.done) return; // the last bytes are taken once a slab is back
    this.finish();
  }

  /** No more body: the last slab goes out, then the result. */
  private finish(): void {
    this.socket?.destroy();
    if (this.cur !== undefined && this.fill > this.base) this.flush();
    if (this.pending === 0) this.settle();
  }

  private done(): void {
    this.settled = true;
    this.socket?.destroy();
    if (this.onAbort !== undefined) this.opts.signal?.removeEventListener("abort", this.onAbort);
  }

  private settle(): void {
    if (this.settled) return;
    this.done();
    this.resolve(this.response.result());
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.done();
    const message = err instanceof Error ? err.message : String(err);
    // Wait for writes in flight: the caller removes the file once nothing writes to it.
    void this.writes.then(() =>
      this.reject(new DirectGetError(message, this.response.head !== undefined, { cause: err })),
    );
  }
}

/** The GET's request line and headers (credentials in the URL sent as Basic auth, as Node's http client does). */
function requestHead(url: URL): string {
  const auth =
    url.username === "" && url.password === ""
      ? ""
      : `Authorization: Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}\r\n`;
  return `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${auth}Connection: close\r\n\r\n`;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException("This operation was aborted", "AbortError");
}

async function writeFully(file: FileHandle, buf: Buffer, offset: number, length: number, position: number) {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await file.write(buf, offset + done, length - done, position + done);
    done += bytesWritten;
  }
}
