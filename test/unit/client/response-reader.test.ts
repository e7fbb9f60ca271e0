// A response read in place as directGet reads it (parseHead for the head's text, ResponseReader for the bytes): the
// head found wherever the reads cut it, interim answers taken out, the limits on a head and on a refusal's reason,
// and the result for each framing.
import { describe, expect, it } from "vitest";
import { parseHead } from "../../../client/response-head.js";
import { type DirectGetResult, ResponseReader } from "../../../client/response-reader.js";

/** Feeds `wire` cut at `cuts` into one buffer as directGet does; returns the result and the bytes to write. */
function readIn(
  wire: Buffer,
  cuts: readonly number[],
): { result: DirectGetResult; body: string; done: boolean } {
  const r = new ResponseReader();
  const buf = Buffer.alloc(wire.length);
  let fill = 0;
  let base = 0;
  let at = 0;
  for (const end of [...cuts, wire.length]) {
    let from = fill;
    fill += wire.copy(buf, fill, at, end);
    at = end;
    if (r.head === undefined) {
      const found = r.readHead(buf, from, fill);
      fill = found.fill;
      if (found.base === undefined) continue;
      base = from = found.base;
    }
    if (fill > from) fill = r.body(buf, from, fill);
    if (r.done) break;
  }
  return { result: r.result(), body: buf.toString("latin1", base, fill), done: r.done };
}

describe("parseHead", () => {
  it("reads the status and the body's framing", () => {
    expect(parseHead("HTTP/1.1 200 OK\r\nContent-Length: 12")).toEqual({
      status: 200,
      length: 12,
      chunked: false,
    });
    expect(parseHead("HTTP/1.0 404")).toEqual({ status: 404, length: undefined, chunked: false });
    expect(parseHead("HTTP/1.1 200 OK\r\ncontent-length: 3\r\nContent-Length: 3")).toMatchObject({
      length: 3,
    });
    expect(parseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 3")).toEqual({
      status: 200,
      length: undefined,
      chunked: true,
    });
    // chunked not last: the body ends with the connection (RFC 9112 §6.3).
    expect(parseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip")).toMatchObject({
      chunked: false,
    });
    expect(parseHead("HTTP/1.1 200 OK\r\nnot a header\r\n: no name\r\nX-A: b:c")).toMatchObject({
      status: 200,
    });
  });

  it.each([
    ["", 'not an HTTP/1.1 response: ""'],
    ["HTTP/1.1 2000 OK", 'not an HTTP/1.1 response: "HTTP/1.1 2000 OK"'],
    ["ICY 200 OK", 'not an HTTP/1.1 response: "ICY 200 OK"'],
    ["HTTP/1.1 200 OK\r\nContent-Length: 1e3", 'bad Content-Length: "1e3"'],
    ["HTTP/1.1 200 OK\r\nContent-Length: 1, 1", 'bad Content-Length: "1, 1"'],
    ["HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456", 'bad Content-Length: "1234567890123456"'],
  ])("refuses %j", (text, message) => {
    expect(() => parseHead(text)).toThrow(message);
  });
});

describe("ResponseReader", () => {
  const wire = Buffer.from(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789 and what follows",
  );

  it("finds the head after interim answers wherever the reads cut them", () => {
    const want = {
      result: { ok: true, received: 10, announced: 10, complete: true },
      body: "0123456789",
      done: true,
    };
    for (let i = 0; i <= wire.length; i++) {
      expect(readIn(wire, [i]), `cut at ${i}`).toEqual(want);
      for (let j = i; j <= wire.length; j += 3)
        expect(readIn(wire, [i, j]), `cut at ${i}, ${j}`).toEqual(want);
    }
    expect(
      readIn(
        wire,
        Array.from({ length: wire.length }, (_, i) => i),
      ),
    ).toEqual(want);
  });

  it("reports a framed body that has not ended as incomplete, an unframed one as complete", () => {
    const cut = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
    expect(readIn(cut, [])).toMatchObject({
      result: { ok: true, received: 5, announced: 10, complete: false },
      done: false,
    });
    const chunked = Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n");
    expect(readIn(chunked, [])).toMatchObject({
      result: { ok: true, received: 5, complete: false },
      body: "01234",
    });
    const unframed = Buffer.from("HTTP/1.1 200 OK\r\n\r\nall of it");
    expect(readIn(unframed, [20])).toMatchObject({
      result: { ok: true, received: 9, announced: undefined, complete: true },
      body: "all of it",
      done: false,
    });
    expect(readIn(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), [])).toMatchObject({
      result: { ok: true, received: 0, complete: true },
      done: true,
    });
  });

  it("keeps a refusal's body as its reason and leaves nothing to write", () => {
    const text =
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nNoSu\r\n5\r\nchKey\r\n0\r\n\r\n";
    expect(readIn(Buffer.from(text), [60, 65])).toEqual({
      result: { ok: false, status: 404, reason: "NoSuchKey" },
      body: "",
      done: true,
    });
    expect(readIn(Buffer.from("HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n"), [])).toMatchObject({
      result: { ok: false, status: 410, reason: "" },
      done: true,
    });
  });

  it("stops a refusal's reason at 8 KiB (2048 characters of any UTF-8 text)", () => {
    const long = `HTTP/1.1 403 Forbidden\r\n\r\n${"€".repeat(5000)}`; // 3 bytes a character
    const { result, done } = readIn(Buffer.from(long), [100, 5000]);
    expect(done).toBe(true);
    const reason = (result as { reason: string }).reason;
    expect(reason.startsWith("€".repeat(2048))).toBe(true);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(8192 + 2);
  });

  it("refuses a head over 64 KiB, whether it arrives whole or in pieces", () => {
    const big = Buffer.from(`HTTP/1.1 200 OK\r\nX-Big: ${"b".repeat(70_000)}\r\n\r\n`);
    expect(() => readIn(big, [])).toThrow("the response head exceeds 65536 bytes");
    expect(() => readIn(big, [30_000, 65_000])).toThrow("the response head exceeds 65536 bytes");
    const fits = Buffer.from(`HTTP/1.1 200 OK\r\nX-Big: ${"b".repeat(65_000)}\r\n\r\n`);
    expect(fits.length).toBeLessThanOrEqual(65_536);
    expect(readIn(fits, [30_000]).result).toMatchObject({ ok: true, received: 0 });
  });
});
