// The direct download path's failures, through directGet and through getFile (which takes it for files not known to
// be small): bodies cut short, aborts, malformed answers, a refused connection, and no partial file left behind.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DirectGetError, directGet } from "../../../client/direct-get.js";
import { BlobTransferError } from "../../../client/errors.js";
import { getFile } from "../../../client/http-transfer.js";
import { eventually } from "../../support/eventually.js";
import {
  answer,
  bytesOf,
  chunked,
  filesIn,
  head,
  memoryFile,
  perTestServer,
  rejection,
  type Script,
} from "./raw-http-server.js";

const MiB = 1024 * 1024;

const fixture = perTestServer();

describe("a body cut short", () => {
  const announced = 5 * MiB;
  const cut: Script = async (c) => {
    await c.send(head("200 OK", `Content-Length: ${announced}`));
    await c.stream(bytesOf(3 * MiB, 5));
    await c.end();
  };

  it("is reported as incomplete by directGet", async () => {
    const s = await fixture.serve(cut);
    const got = await directGet(new URL(`${s.origin}/k`), memoryFile().open);
    expect(got).toEqual({ ok: true, received: 3 * MiB, announced, complete: false });
  });

  it("fails getFile and leaves no partial file (framed by length, or chunked)", async () => {
    let s = await fixture.serve(cut);
    let err = await rejection(getFile(`${s.origin}/k?sig=1`, path.join(fixture.dir, "f")));
    expect(err).toBeInstanceOf(BlobTransferError);
    expect(err).toMatchObject({
      status: 200,
      message: `GET ${s.origin}/k: received ${3 * MiB} bytes, expected ${announced} (the transfer was cut short)`,
    });
    expect(filesIn(fixture.dir)).toEqual([]);
    await s.close();

    const wire = chunked(bytesOf(3 * MiB, 6), [MiB]);
    s = await fixture.serve(async (c) => {
      await c.send(head("200 OK", "Transfer-Encoding: chunked"));
      await c.stream(wire.subarray(0, wire.length - 100)); // the last chunk's end and the terminator never come
      await c.end();
    });
    err = await rejection(getFile(`${s.origin}/k`, path.join(fixture.dir, "f")));
    expect(err).toMatchObject({
      status: 200,
      message: `GET ${s.origin}/k: received ${3 * MiB - 100 + 7} bytes (the transfer was cut short)`,
    });
    expect(filesIn(fixture.dir)).toEqual([]);
  });
});

describe("an abort", () => {
  /** Sends the head and 6 MiB of a 64 MiB body, then holds the connection open. */
  const stall: Script = async (c) => {
    await c.send(head("200 OK", `Content-Length: ${64 * MiB}`));
    await c.stream(bytesOf(6 * MiB, 9));
  };

  it("mid-transfer rejects getFile and removes the partial file", async () => {
    const s = await fixture.serve(stall);
    const abort = new AbortController();
    const got = getFile(`${s.origin}/k`, path.join(fixture.dir, "f"), { signal: abort.signal });
    got.catch(() => {}); // awaited below
    // The partial file exists and has body bytes in it: the transfer is under way.
    await eventually(
      async () => filesIn(fixture.dir).map((f) => fs.statSync(path.join(fixture.dir, f)).size),
      (sizes) => sizes.length === 1 && (sizes[0] ?? 0) > 0,
    );
    abort.abort();
    const err = await rejection(got);
    expect(err).toBeInstanceOf(BlobTransferError);
    expect((err as Error).message).toMatch(new RegExp(`^GET ${s.origin}/k into .* failed: .*aborted`));
    expect(filesIn(fixture.dir)).toEqual([]);
  });

  it("rejects directGet with the signal's reason, answered or not", async () => {
    const s = await fixture.serve(stall);
    const abort = new AbortController();
    const file = memoryFile();
    const got = directGet(new URL(`${s.origin}/k`), file.open, { signal: abort.signal });
    got.catch(() => {});
    await eventually(
      async () => file.bytes().length,
      (n) => n > 0,
    );
    abort.abort(new Error("stop now"));
    const err = await rejection(got);
    expect(err).toBeInstanceOf(DirectGetError);
    expect(err).toMatchObject({ message: "stop now", answered: true });

    const before = s.connections;
    const aborted = await rejection(
      directGet(new URL(`${s.origin}/k`), file.open, { signal: AbortSignal.abort() }),
    );
    expect(aborted).toMatchObject({ message: "This operation was aborted", answered: false });
    expect(s.connections).toBe(before); // no connection was made
  });
});

describe("a malformed answer", () => {
  it.each([
    [
      "a status line that is not HTTP/1.x",
      "HTP/1.1 200 OK\r\n\r\n",
      'not an HTTP/1.1 response: "HTP/1.1 200 OK"',
    ],
    ["an HTTP/2 status line", "HTTP/2 200\r\n\r\n", 'not an HTTP/1.1 response: "HTTP/2 200"'],
    ["a status of two digits", "HTTP/1.1 20 OK\r\n\r\n", 'not an HTTP/1.1 response: "HTTP/1.1 20 OK"'],
    ["a bad Content-Length", head("200 OK", "Content-Length: -1"), 'bad Content-Length: "-1"'],
    [
      "two Content-Lengths",
      head("200 OK", "Content-Length: 1", "Content-Length: 2"),
      'bad Content-Length: "2"',
    ],
    [
      "a head over 64 KiB",
      head("200 OK", `X-Big: ${"b".repeat(70_000)}`),
      "the response head exceeds 65536 bytes",
    ],
    ["no answer at all", "", "the connection closed before a response arrived"],
    ["half a head", "HTTP/1.1 200 OK\r\nContent-Le", "the connection closed before a response arrived"],
  ])("%s is a clear error, before any file is made", async (_name, text, message) => {
    const s = await fixture.serve(answer(text));
    const file = memoryFile();
    const err = await rejection(directGet(new URL(`${s.origin}/k`), file.open));
    expect(err).toBeInstanceOf(DirectGetError);
    expect(err).toMatchObject({ message, answered: false });
    expect(file.opens).toBe(0);
    const viaGetFile = await rejection(getFile(`${s.origin}/k?sig=1`, path.join(fixture.dir, "sub", "f")));
    expect(viaGetFile).toBeInstanceOf(BlobTransferError);
    expect(viaGetFile).toMatchObject({ status: undefined, message: `GET ${s.origin}/k failed: ${message}` });
    expect(fs.existsSync(path.join(fixture.dir, "sub"))).toBe(false);
  });

  it("a malformed chunked body fails getFile and leaves no partial file", async () => {
    // Two whole chunks of 1 MiB (a buffer's worth, written to the file), then a size line that is not hex.
    const two = chunked(bytesOf(2 * MiB, 4), [MiB]);
    const s = await fixture.serve(async (c) => {
      await c.send(head("200 OK", "Transfer-Encoding: chunked"));
      await c.stream(two.subarray(0, two.length - 5)); // without the last chunk
      await c.send("zz\r\n");
    });
    const err = await rejection(getFile(`${s.origin}/k`, path.join(fixture.dir, "f")));
    expect(err).toBeInstanceOf(BlobTransferError);
    expect((err as Error).message).toMatch(/^GET .*\/k into .* failed: malformed chunked body/);
    expect(filesIn(fixture.dir)).toEqual([]);
  });
});

describe("no server", () => {
  it("a refused connection is a BlobTransferError without a status", async () => {
    const s = await fixture.serve(answer(""));
    const { port } = s;
    await s.close();
    const err = await rejection(getFile(`http://127.0.0.1:${port}/k?sig=1`, path.join(fixture.dir, "f")));
    expect(err).toBeInstanceOf(BlobTransferError);
    expect(err).toMatchObject({ status: undefined });
    expect((err as Error).message).toMatch(
      new RegExp(`^GET http://127.0.0.1:${port}/k failed: .*ECONNREFUSED`),
    );
    expect(filesIn(fixture.dir)).toEqual([]);
  });
});
