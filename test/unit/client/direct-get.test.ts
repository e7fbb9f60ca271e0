// directGet against a scripted raw HTTP/1.1 server: the request it sends, and bodies framed by Content-Length (from
// empty to past all six 2 MiB buffers), by the chunked coding (cut across socket reads at every awkward place, with
// extensions and trailers) and by the connection's end; interim 1xx answers, heads split over several writes, and a
// file slower than the socket (every buffer taken, reading paused and resumed).
import { afterEach, describe, expect, it } from "vitest";
import { directGet } from "../../../client/direct-get.js";
import {
  bytesOf,
  type Conn,
  chunked,
  head,
  memoryFile,
  type RawServer,
  type Script,
  sha256,
  startRawServer,
} from "./raw-http-server.js";

const MiB = 1024 * 1024;
const SLAB = 2 * MiB;

let server: RawServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Serves `script`, GETs `path` from it into a memory file. */
async function get(script: Script, opts: { path?: string; delayMs?: number; maxWrite?: number } = {}) {
  server = await startRawServer(script);
  const file = memoryFile(opts);
  const result = await directGet(new URL(`${server.origin}${opts.path ?? "/blob"}`), file.open);
  return { result, file, server };
}

/** A script answering 200 with `body` framed by Content-Length, streamed in pieces of `sizes`. */
const withLength =
  (body: Buffer, sizes?: readonly number[]): Script =>
  async (c: Conn) => {
    await c.send(head("200 OK", `Content-Length: ${body.length}`));
    await c.stream(body, sizes);
    await c.end();
  };

describe("the request", () => {
  it("is a GET of the path and query with Host, Connection: close and the URL's credentials as Basic auth", async () => {
    const { server } = await get(withLength(Buffer.from("x")), {});
    expect(server.requests).toEqual([
      `GET /blob HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close`,
    ]);
    const s = await startRawServer(withLength(Buffer.from("x")));
    try {
      const url = new URL(`http://us%20er:p%40ss@127.0.0.1:${s.port}/a%20b/c?X-Sig=1&y=%2F`);
      await directGet(url, memoryFile().open);
      const auth = Buffer.from("us er:p@ss").toString("base64");
      expect(s.requests).toEqual([
        `GET /a%20b/c?X-Sig=1&y=%2F HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: Basic ${auth}\r\nConnection: close`,
      ]);
    } finally {
      await s.close();
    }
  });

  it("reaches an IPv6 address, its brackets taken off to connect and kept in Host", async ({ skip }) => {
    const s = await startRawServer(withLength(Buffer.from("v6")), undefined, "::1").catch(() => undefined);
    if (s === undefined) return skip("no IPv6 loopback (::1) to listen on");
    try {
      const file = memoryFile();
      expect(await directGet(new URL(`${s.origin}/k`), file.open)).toMatchObject({ ok: true, received: 2 });
      expect(file.bytes().toString()).toBe("v6");
      expect(s.requests[0]).toContain(`\r\nHost: [::1]:${s.port}\r\n`);
    } finally {
      await s.close();
    }
  });
});

describe("a body framed by Content-Length", () => {
  it.each([
    ["empty", 0],
    ["one byte", 1],
    ["small", 1000],
    ["one buffer exactly", SLAB],
    ["over one buffer, not a multiple of it", SLAB + 12_345],
    ["past all six buffers", 13 * MiB + 7],
  ])("%s (%i bytes) is written whole at its positions", async (_name, size) => {
    const body = bytesOf(size, size + 1);
    const { result, file } = await get(withLength(body, [1, 7_000, 65_536, 300_000]));
    expect(result).toEqual({ ok: true, received: size, announced: size, complete: true });
    const got = file.bytes();
    expect(got.length).toBe(size);
    expect(sha256(got)).toBe(sha256(body));
    // The file is opened by the first write of the body: never for an empty one.
    if (size === 0) expect(file.opens).toBe(0);
    else expect(file.opens).toBeGreaterThan(0);
  });

  it("ignores bytes sent after the announced length", async () => {
    const { result, file } = await get(async (c) => {
      await c.send(`${head("200 OK", "Content-Length: 5")}hello, and more`, " bytes");
      await c.end();
    });
    expect(result).toEqual({ ok: true, received: 5, announced: 5, complete: true });
    expect(file.bytes().toString()).toBe("hello");
  });

  it("does not wait for the connection's end once the body is complete", async () => {
    // The server never closes: the GET settles on the last byte of the body.
    const { result, file } = await get(async (c) => {
      await c.send(head("200 OK", "Content-Length: 3"), "abc");
    });
    expect(result).toMatchObject({ ok: true, received: 3, complete: true });
    expect(file.bytes().toString()).toBe("abc");
  });
});

describe("a chunked body", () => {
  it("is decoded when every piece of its framing is split across socket reads", async () => {
    // 1a\r\n <26 bytes> \r\n 5;ext=1\r\n <5 bytes> \r\n 0\r\n Trailer: x\r\n \r\n, cut inside the size line, between
    // the CR and LF after it, inside the data, between the data and its CRLF, inside that CRLF, inside the last
    // chunk's line and inside the trailer.
    const pieces = [
      head("200 OK", "Transfer-Encoding: chunked"),
      "1",
      "a\r",
      "\nabcdefghijklm",
      "nopqrstuvwxyz",
      "\r",
      "\n5;ext",
      '="v"\r\n12345\r\n',
      "0",
      "\r\nX-Checksum: ab",
      "c\r\n\r",
      "\n",
    ];
    const { result, file } = await get(async (c) => {
      await c.send(...pieces);
      await c.end();
    });
    expect(result).toEqual({ ok: true, received: 31, announced: undefined, complete: true });
    expect(file.bytes().toString()).toBe("abcdefghijklmnopqrstuvwxyz12345");
  });

  it("is decoded byte by byte (every byte its own write)", async () => {
    const body = Buffer.from("The quick brown fox jumps over the lazy dog");
    const wire = chunked(body, [1, 3, 16], ["Expires: never"]);
    const { result, file } = await get(async (c) => {
      await c.send(head("200 OK", "transfer-encoding: chunked"));
      await c.send(...[...wire].map((b) => Buffer.of(b)));
    });
    expect(result).toEqual({ ok: true, received: body.length, announced: undefined, complete: true });
    expect(file.bytes().equals(body)).toBe(true);
  });

  it("of many megabytes, chunks smaller and larger than a buffer, streamed in odd pieces", async () => {
    const body = bytesOf(9 * MiB + 333, 7);
    const wire = chunked(body, [1, 100, 3 * MiB + 5, 65_536, 4095, SLAB], ["Trailer-A: 1", "Trailer-B: 2"]);
    const { result, file } = await get(async (c) => {
      await c.send(head("200 OK", "Transfer-Encoding: chunked"));
      await c.stream(wire, [17, 65_536, 1_000_003, 3]);
      await c.end();
    });
    expect(result).toEqual({ ok: true, received: body.length, announced: undefined, complete: true });
    expect(sha256(file.bytes())).toBe(sha256(body));
  });

  it("ignores a Content-Length sent with it, and bytes after its last chunk", async () => {
    const { result, file } = await get(async (c) => {
      await c.send(
        `${head("200 OK", "Content-Length: 2", "Transfer-Encoding: gzip, chunked")}3\r\nabc\r\n0\r\n\r\nGARBAGE`,
      );
    });
    expect(result).toEqual({ ok: true, received: 3, announced: undefined, complete: true });
    expect(file.bytes().toString()).toBe("abc");
  });
});

describe("a body ended by the connection's end", () => {
  it.each([
    ["small", 10],
    ["over one buffer", SLAB + 99],
  ])("%s is complete when the connection ends", async (_name, size) => {
    const body = bytesOf(size, 3);
    const { result, file } = await get(async (c) => {
      await c.send(head("200 OK", "Connection: close"));
      await c.stream(body, [5000, 70_000]);
      await c.end();
    });
    expect(result).toEqual({ ok: true, received: size, announced: undefined, complete: true });
    expect(sha256(file.bytes())).toBe(sha256(body));
  });
});

describe("the response head", () => {
  it("skips 100 Continue and 103 Early Hints before the 200, sent together or apart", async () => {
    const interim = `HTTP/1.1 100 Continue\r\n\r\n${head("103 Early Hints", "Link: </a.css>; rel=preload")}`;
    const final = `${head("200 OK", "Content-Length: 4")}body`;
    for (const pieces of [
      [interim + final],
      [
        "HTTP/1.1 100 Continue\r\n\r",
        "\nHTTP/1.1 103 Early Hints\r\nLink: <x>\r\n\r\nHTTP/1.1 2",
        "00 OK\r\n",
        "Content-Length: 4\r\n\r\nbo",
        "dy",
      ],
    ]) {
      const { result, file } = await get(async (c) => {
        await c.send(...pieces);
      });
      expect(result).toEqual({ ok: true, received: 4, announced: 4, complete: true });
      expect(file.bytes().toString()).toBe("body");
      await server?.close();
      server = undefined;
    }
  });

  it("is read when split over several writes, at every place around its blank line", async () => {
    const whole = `${head("200 OK", "Server: raw", "Content-Length: 10")}0123456789`;
    const blank = whole.indexOf("\r\n\r\n");
    const cuts = [5, 12, 20, blank - 1, blank, blank + 1, blank + 2, blank + 3, blank + 4];
    for (const cut of cuts) {
      const { result, file } = await get(async (c) => {
        await c.send(whole.slice(0, 4), whole.slice(4, cut), whole.slice(cut));
      });
      expect(result, `cut at ${cut}`).toEqual({ ok: true, received: 10, announced: 10, complete: true });
      expect(file.bytes().toString()).toBe("0123456789");
      await server?.close();
      server = undefined;
    }
  });

  it("takes a status line without a reason phrase, HTTP/1.0 and headers in any case", async () => {
    const { result, file } = await get(async (c) => {
      await c.send("HTTP/1.0 200\r\ncOnTeNt-LeNgTh:   2  \r\n\r\nok");
    });
    expect(result).toEqual({ ok: true, received: 2, announced: 2, complete: true });
    expect(file.bytes().toString()).toBe("ok");
  });
});

describe("a file slower than the socket", () => {
  // Each write takes 15 ms and at most 512 KiB (short writes): all six buffers fill, reading pauses and resumes.
  const slow = { delayMs: 15, maxWrite: 512 * 1024 };

  it.each([
    ["Content-Length", (b: Buffer) => withLength(b)],
    [
      "chunked",
      (b: Buffer) => async (c: Conn) => {
        await c.send(head("200 OK", "Transfer-Encoding: chunked"));
        await c.stream(chunked(b, [MiB + 1, 10, 70_000]));
        await c.end();
      },
    ],
    [
      "the connection's end",
      (b: Buffer) => async (c: Conn) => {
        await c.send(head("200 OK"));
        await c.stream(b);
        await c.end();
      },
    ],
  ])(
    "gets a 20 MiB body framed by %s whole",
    async (_name, script) => {
      const body = bytesOf(20 * MiB + 1, 11);
      const { result, file } = await get(script(body), slow);
      expect(result).toMatchObject({ ok: true, received: body.length, complete: true });
      expect(sha256(file.bytes())).toBe(sha256(body));
      expect(file.opens).toBeGreaterThan(1); // once per buffer written: the same handle each time
    },
    30_000,
  );
});
