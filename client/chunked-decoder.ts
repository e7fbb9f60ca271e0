// HTTP/1.1 chunked transfer coding (RFC 9112 §7.1) decoded in place: the data bytes of a region of a buffer are moved
// down over the framing that preceded them, so a body read into a large buffer is decoded without another buffer.

const MAX_LINE = 4096;

type State = "size" | "data" | "data-crlf" | "trailer" | "done";

export class ChunkedDecoder {
  private state: State = "size";
  private line = "";
  /** Data bytes left in the current chunk. */
  private left = 0;
  /** CR/LF bytes still expected after a chunk's data. */
  private crlf = 0;

  get done(): boolean {
    return this.state === "done";
  }

  /**
   * Decodes `buf[from, to)` in place; returns where the decoded bytes (starting at `from`) end. Throws on a malformed
   * coding. Bytes after the end of the body are ignored.
   */
  decode(buf: Buffer, from: number, to: number): number {
    let out = from;
    let i = from;
    while (i < to && this.state !== "done") {
      if (this.state === "data") {
        const n = Math.min(this.left, to - i);
        if (out !== i) buf.copyWithin(out, i, i + n);
        out += n;
        i += n;
        this.left -= n;
        if (this.left === 0) {
          this.state = "data-crlf";
          this.crlf = 2;
        }
      } else if (this.state === "data-crlf") {
        const want = this.crlf === 2 ? 0x0d : 0x0a;
        if (buf[i] !== want) throw new Error("malformed chunked body: no CRLF after a chunk");
        i++;
        if (--this.crlf === 0) this.state = "size";
      } else {
        const nl = buf.indexOf(0x0a, i);
        const end = nl < 0 || nl >= to ? to : nl;
        this.line += buf.toString("latin1", i, end);
        if (this.line.length > MAX_LINE) throw new Error("malformed chunked body: a line is too long");
        i = end;
        if (end === to) break;
        i++; // the LF
        this.endLine(this.line.endsWith("\r") ? this.line.slice(0, -1) : this.line);
        this.line = "";
      }
    }
    return out;
  }

  private endLine(line: string): void {
    if (this.state === "trailer") {
      if (line === "") this.state = "done";
      return;
    }
    const size = /^([0-9a-fA-F]{1,15})[ \t]*(;.*)?$/.exec(line)?.[1];
    if (size === undefined) throw new Error("malformed chunked body: a bad chunk size");
    this.left = Number.parseInt(size, 16);
    this.state = this.left === 0 ? "trailer" : "data";
  }
}
