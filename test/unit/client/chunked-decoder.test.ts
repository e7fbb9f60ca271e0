// The chunked coding decoded in place, fed as directGet feeds it (each read appended where the decoded bytes end):
// cut at every place and every pair of places, byte by byte, with extensions, trailers and bare LFs; malformed codings
// are errors; bytes after the last chunk are left alone.
import { describe, expect, it } from "vitest";
import { ChunkedDecoder } from "../../../client/chunked-decoder.js";

/** Feeds `wire` cut at `cuts` into one buffer, as directGet does; returns the decoded bytes and whether it is done. */
function decodeIn(wire: Buffer, cuts: readonly number[]): { body: string; done: boolean } {
  const d = new ChunkedDecoder();
  const buf = Buffer.alloc(wire.length);
  let fill = 0;
  let at = 0;
  for (const end of [...cuts, wire.length]) {
    const n = wire.copy(buf, fill, at, end);
    fill = d.decode(buf, fill, fill + n);
    at = end;
  }
  return { body: buf.toString("latin1", 0, fill), done: d.done };
}

const WIRE = Buffer.from(
  '3\r\nabc\r\nA;name=value;q="x"\r\n0123456789\r\n1 \t\r\nz\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n',
);
const BODY = "abc0123456789z";

describe("ChunkedDecoder", () => {
  it("decodes the coding in one piece", () => {
    expect(decodeIn(WIRE, [])).toEqual({ body: BODY, done: true });
  });

  it("decodes it cut at every place, and at every pair of places", () => {
    for (let i = 0; i <= WIRE.length; i++) {
      expect(decodeIn(WIRE, [i]), `cut at ${i}`).toEqual({ body: BODY, done: true });
      for (let j = i; j <= WIRE.length; j++)
        expect(decodeIn(WIRE, [i, j]), `cut at ${i}, ${j}`).toEqual({ body: BODY, done: true });
    }
  });

  it("decodes it byte by byte", () => {
    const cuts = Array.from({ length: WIRE.length }, (_, i) => i);
    expect(decodeIn(WIRE, cuts)).toEqual({ body: BODY, done: true });
  });

  it("is not done until the blank line after the trailers", () => {
    const end = WIRE.length - 2;
    expect(decodeIn(WIRE.subarray(0, end), [])).toEqual({ body: BODY, done: false });
    expect(decodeIn(Buffer.from("0\r\n"), [])).toEqual({ body: "", done: false });
    expect(decodeIn(Buffer.from("0\r\n\r\n"), [])).toEqual({ body: "", done: true });
  });

  it("takes bare LFs as line ends, and hex digits in either case", () => {
    expect(decodeIn(Buffer.from("B\nhello world\r\nb\r\nHELLO WORLD\r\n0\n\n"), [2, 9])).toEqual({
      body: "hello worldHELLO WORLD",
      done: true,
    });
  });

  it("leaves the bytes after the last chunk alone (decode returns where the body ends)", () => {
    const d = new ChunkedDecoder();
    const buf = Buffer.from("2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n");
    expect(d.decode(buf, 0, buf.length)).toBe(2);
    expect(d.done).toBe(true);
    expect(buf.toString("latin1", 0, 2)).toBe("ok");
    expect(d.decode(buf, 2, buf.length)).toBe(2); // once done, nothing more is taken
  });

  it("decodes a region in the middle of a buffer, leaving what is before it", () => {
    const d = new ChunkedDecoder();
    const buf = Buffer.from("HEAD4\r\nbody\r\n0\r\n\r\n");
    expect(d.decode(buf, 4, buf.length)).toBe(8);
    expect(buf.toString("latin1", 0, 8)).toBe("HEADbody");
  });

  it.each([
    ["a size that is not hex", "zz\r\n", "malformed chunked body: a bad chunk size"],
    ["an empty size line", "\r\n", "malformed chunked body: a bad chunk size"],
    ["a size of 16 digits", "1000000000000000\r\n", "malformed chunked body: a bad chunk size"],
    ["a negative size", "-1\r\n", "malformed chunked body: a bad chunk size"],
    ["data longer than its size", "2\r\nabc\r\n", "malformed chunked body: no CRLF after a chunk"],
    ["data without its CRLF", "2\r\nab\n", "malformed chunked body: no CRLF after a chunk"],
    ["a size line over 4 KiB", `1;${"x".repeat(5000)}`, "malformed chunked body: a line is too long"],
    ["a trailer over 4 KiB", `0\r\nX: ${"x".repeat(5000)}`, "malformed chunked body: a line is too long"],
  ])("refuses %s", (_name, wire, message) => {
    expect(() => decodeIn(Buffer.from(wire), [])).toThrow(message);
    // The same, its bytes arriving one at a time.
    const cuts = Array.from({ length: wire.length }, (_, i) => i);
    expect(() => decodeIn(Buffer.from(wire), cuts)).toThrow(message);
  });
});
