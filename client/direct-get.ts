// A GET whose body goes straight from the socket into a file: the socket reads into a few large buffers (the `onread`
// option of net/tls sockets, so Node allocates nothing per read and the HTTP parser copies nothing), each written to
// the file whole (one write per ~2 MiB) while the next ones fill. Node's http client costs ~3x the CPU here
// (a fresh 64 KiB buffer per read, another copy per body chunk, and the garbage collections of all those buffers).
// HTTP/1.1 only, one request per connection (Connection: close); bodies framed by Content-Length, chunked or the
// connection's end; interim 1xx answers are skipped; an answer other than 200 is read for its first 2 KiB (a reason).
import type { FileHandle } from "node:fs/promises";
import net from "node:net";
import tls from "node:tls";
import { ChunkedDecoder } from "./chunked-decoder.js";
import { type Head, parseHead } from "./response-head.js";

/** What a GET answered: 200 with its body in the file, or another status with the start of its body. */
export type DirectGetResult =
  | {
      readonly ok: true;
      readonly received: number;
      /** The Content-Length, if the answer had one. */
      readonly announced: number | undefined;
      /** False when the connection ended before the body's framing did (cut short). */
      readonly complete: boolean;
    }
  | { readonly ok: false; readonly status: number; readonly reason: string };

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
const MAX_HEAD = 64 * 1024;
const MAX_REASON = 2048;

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
  private head: Head | undefined;
  private chunked: ChunkedDecoder | undefined;
  private received = 0;
  private bodyDone = false;
  private reason: Buffer[] = [];
  private reasonBytes = 0;
  private position = 0;
  private writes: Promise<void> = Promise.resolve();
  private pending = 0;
  private settled = false;

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

  /** `n` new bytes at `cur[fill]`: parsed, kept as body; the slab is written out when full. False: pause reading. */
  private take(n: number): boolean {
    const cur = this.cur as Buffer;
    let from = this.fill;
    this.fill += n;
    if (this.head === undefined) {
      if (!this.readHead(cur, from)) return true;
      from = this.base;
    }
    if (this.fill > from) this.body(cur, from);
    if (this.settled) return false;
    if (this.bodyDone) {
      this.finish();
      return false;
    }
    if (cur.length - this.fill >= MIN_ROOM) return true;
    this.flush();
    return this.cur !== undefined;
  }

  /** Looks for the end of the head in `cur[0, fill)`; false while it has not arrived. */
  private readHead(cur: Buffer, from: number): boolean {
    for (;;) {
      const end = cur.subarray(0, this.fill).indexOf("\r\n\r\n", Math.max(0, from - 3));
      if (end < 0) {
        if (this.fill > MAX_HEAD) throw new Error(`the response head exceeds ${MAX_HEAD} bytes`);
        return false;
      }
      const head = parseHead(cur.toString("latin1", 0, end));
      if (head.status >= 100 && head.status < 200) {
        // An interim answer (100 Continue, 103 Early Hints): dropped, the final one follows.
        cur.copyWithin(0, end + 4, this.fill);
        this.fill -= end + 4;
        from = 0;
        continue;
      }
      this.head = head;
      this.base = end + 4;
      if (head.chunked) this.chunked = new ChunkedDecoder();
      if (head.length === 0) this.bodyDone = true;
      return true;
    }
  }

  /** Decodes the body bytes `cur[from, fill)`. */
  private body(cur: Buffer, from: number): void {
    const head = this.head as Head;
    if (this.chunked !== undefined) {
      this.fill = this.chunked.decode(cur, from, this.fill);
      this.bodyDone = this.chunked.done;
    } else if (head.length !== undefined && this.received + (this.fill - from) >= head.length) {
      this.fill = from + (head.length - this.received); // anything after the body is not ours
      this.bodyDone = true;
    }
    this.received += this.fill - from;
    if (head.status !== 200) {
      if (this.reasonBytes < MAX_REASON) {
        const part = Buffer.from(
          cur.subarray(from, Math.min(this.fill, from + MAX_REASON - this.reasonBytes)),
        );
        this.reason.push(part);
        this.reasonBytes += part.length;
      }
      this.fill = this.base; // nothing of it goes to the file
      if (this.reasonBytes >= MAX_REASON) this.bodyDone = true;
    }
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

  private onWritten(): void {
    if (this.settled) return;
    if (this.cur === undefined && !this.bodyDone) {
      this.cur = this.takeSlab();
      try {
        for (const raw of this.overflow.splice(0)) {
          raw.copy(this.cur as Buffer, this.fill);
          this.take(raw.length);
          if (this.settled || this.bodyDone) return;
        }
      } catch (err) {
        this.fail(err);
        return;
      }
      if (this.ended) this.finish();
      else if (this.cur !== undefined) this.socket?.resume();
      return;
    }
    if ((this.bodyDone || this.ended) && this.pending === 0) this.settle();
  }

  private ended = false;

  /** The connection ended: the body is what arrived (complete if its framing said so, or if it had none). */
  private onEnd(): void {
    if (this.settled || this.ended) return;
    this.ended = true;
    if (this.head === undefined) {
      this.fail(new Error("the connection closed before a response arrived"));
      return;
    }
    if (this.overflow.length > 0 && !this.bodyDone) return; // the last bytes are taken once a slab is back
    this.finish();
  }

  /** No more body: the last slab goes out, then the result. */
  private finish(): void {
    this.socket?.destroy();
    if (this.cur !== undefined && this.fill > this.base) this.flush();
    if (this.pending === 0) this.settle();
  }

  private onAbort: (() => void) | undefined;

  private done(): void {
    this.settled = true;
    this.socket?.destroy();
    if (this.onAbort !== undefined) this.opts.signal?.removeEventListener("abort", this.onAbort);
  }

  private settle(): void {
    if (this.settled) return;
    this.done();
    const head = this.head as Head;
    if (head.status !== 200) {
      this.resolve({ ok: false, status: head.status, reason: Buffer.concat(this.reason).toString("utf8") });
      return;
    }
    const framed = head.chunked || head.length !== undefined;
    this.resolve({
      ok: true,
      received: this.received,
      announced: head.length,
      complete: !framed || this.bodyDone,
    });
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.done();
    const message = err instanceof Error ? err.message : String(err);
    // Wait for writes in flight: the caller removes the file once nothing writes to it.
    void this.writes.then(() =>
      this.reject(new DirectGetError(message, this.head !== undefined, { cause: err })),
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
