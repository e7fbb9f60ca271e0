// An HTTP/1.1 response read in place, in the buffers its bytes land in: the head found (interim 1xx answers taken
// out, at most 64 KiB), then the body decoded where it lies (cut at its Content-Length, or its chunked coding taken
// out); an answer other than 200 keeps the start of its body as its reason and writes nothing.
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

const MAX_HEAD = 64 * 1024;
/**
 * Bytes of a refusal kept: enough for the 2048 characters of its reason (UTF-8 takes up to 4 bytes a character), so
 * the reason is the same text as Node's http client gives (`http-transfer.ts`, which counts characters).
 */
const MAX_REASON = 4 * 2048;

export class ResponseReader {
  /** The final answer's head, once it has arrived. */
  head: Head | undefined;
  /** The body's bytes so far (decoded). */
  received = 0;
  /** The body has ended where its framing says (or enough of a refusal has arrived for its reason). */
  done = false;
  private chunked: ChunkedDecoder | undefined;
  private readonly reason: Buffer[] = [];
  private reasonBytes = 0;

  /**
   * Looks for the end of the head in `buf[0, fill)`, whose bytes from `from` are new. Interim answers (100 Continue,
   * 103 Early Hints) are taken out, the bytes after them moved down. Returns where the bytes now end, and where the
   * body starts once the head is complete.
   */
  readHead(buf: Buffer, from: number, fill: number): { fill: number; base: number | undefined } {
    for (;;) {
      const end = buf.subarray(0, fill).indexOf("\r\n\r\n", Math.max(0, from - 3));
      // A head longer than the limit, whole or still arriving (how it was cut into reads does not matter).
      if ((end < 0 ? fill + 1 : end + 4) > MAX_HEAD)
        throw new Error(`the response head exceeds ${MAX_HEAD} bytes`);
      if (end < 0) return { fill, base: undefined };
      const head = parseHead(buf.toString("latin1", 0, end));
      if (head.status >= 100 && head.status < 200) {
        // An interim answer: dropped, the final one follows.
        buf.copyWithin(0, end + 4, fill);
        fill -= end + 4;
        from = 0;
        continue;
      }
      this.head = head;
      if (head.chunked) this.chunked = new ChunkedDecoder();
      if (head.length === 0) this.done = true;
      return { fill, base: end + 4 };
    }
  }

  /**
   * Decodes the body's bytes `buf[from, fill)` in place; returns where the bytes to write end (`from` for an answer
   * other than 200, whose bytes are kept as its reason instead). Throws on a malformed chunked coding.
   */
  body(buf: Buffer, from: number, fill: number): number {
    const head = this.head as Head;
    let end = fill;
    if (this.chunked !== undefined) {
      end = this.chunked.decode(buf, from, fill);
      this.done = this.chunked.done;
    } else if (head.length !== undefined && this.received + (fill - from) >= head.length) {
      end = from + (head.length - this.received); // anything after the body is not ours
      this.done = true;
    }
    this.received += end - from;
    if (head.status === 200) return end;
    if (this.reasonBytes < MAX_REASON) {
      const part = Buffer.from(buf.subarray(from, Math.min(end, from + MAX_REASON - this.reasonBytes)));
      this.reason.push(part);
      this.reasonBytes += part.length;
    }
    if (this.reasonBytes >= MAX_REASON) this.done = true;
    return from;
  }

  /** The answer, once its body has ended (`done`) or the connection has; only after the head has arrived. */
  result(): DirectGetResult {
    const head = this.head as Head;
    if (head.status !== 200)
      return { ok: false, status: head.status, reason: Buffer.concat(this.reason).toString("utf8") };
    const framed = head.chunked || head.length !== undefined;
    return { ok: true, received: this.received, announced: head.length, complete: !framed || this.done };
  }
}
