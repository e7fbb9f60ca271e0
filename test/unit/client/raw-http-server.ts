// A scripted HTTP/1.1 server for the download client's tests: a node:net (or node:tls) server on port 0 that reads
// each request's head and lets a script answer with raw bytes, piece by piece. Each piece is its own socket write,
// followed by a short pause so that the client reads the pieces apart (pacing the wire, not waiting for a condition:
// a client that happens to read two pieces at once must give the same result, only less of the splitting is exercised).
// Also a FileHandle stand-in that keeps what is written in memory, slowly if asked (to fill every buffer of the client),
// and small helpers for the tests' assertions.
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { afterEach, beforeEach } from "vitest";

export interface Conn {
  readonly socket: net.Socket;
  /** The request's head, up to and without the blank line. */
  readonly request: string;
  /** Writes each piece with a write of its own, pausing after each. */
  send(...pieces: (string | Buffer)[]): Promise<void>;
  /** Writes `body` in pieces of the given sizes in turn (no pauses, the socket's backpressure respected). */
  stream(body: Buffer, sizes?: readonly number[]): Promise<void>;
  /** Ends the connection (FIN) once what was written has gone. */
  end(): Promise<void>;
}

export type Script = (conn: Conn) => Promise<void>;

export interface RawServer {
  /** `http(s)://<host>:<port>`, no trailing slash. */
  readonly origin: string;
  readonly port: number;
  /** The heads of the requests received, in order. */
  readonly requests: string[];
  /** Connections accepted (a request aborted before connecting makes none). */
  readonly connections: number;
  close(): Promise<void>;
}

/** Starts a server on `host` (127.0.0.1) port 0 whose every connection is answered by `script`. */
export async function startRawServer(
  script: Script,
  tlsOpts?: tls.TlsOptions,
  host = "127.0.0.1",
): Promise<RawServer> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const onSocket = (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // the client may hang up first (a refusal read for its first 2 KiB, an abort)
    let head = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      head = Buffer.concat([head, data]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const request = head.toString("latin1", 0, end);
      requests.push(request);
      void script(connOf(socket, request)).catch(() => socket.destroy());
    };
    socket.on("data", onData);
  };
  const server = tlsOpts === undefined ? net.createServer(onSocket) : tls.createServer(tlsOpts, onSocket);
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    origin: `${tlsOpts === undefined ? "http" : "https"}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`,
    port,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function connOf(socket: net.Socket, request: string): Conn {
  const write = (piece: string | Buffer) =>
    new Promise<void>((resolve) => {
      if (socket.destroyed) resolve();
      else socket.write(piece, () => resolve());
    });
  return {
    socket,
    request,
    async send(...pieces) {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        await write(piece);
        await sleep(3);
      }
    },
    async stream(body, sizes = [65_536]) {
      for (let off = 0, i = 0; off < body.length && !socket.destroyed; i++) {
        const n = sizes[i % sizes.length] ?? 65_536;
        const ok = socket.write(body.subarray(off, off + n));
        off += n;
        if (!ok) await drained(socket);
      }
    },
    end: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) resolve();
        else socket.end(() => resolve());
      }),
  };
}

/** Resolves when `socket` can take more writes, or has closed. */
function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done).off("close", done);
      resolve();
    };
    socket.on("drain", done).on("close", done);
  });
}

/** A script that writes `text` and ends the connection. */
export const answer =
  (text: string): Script =>
  async (c) => {
    await c.send(text);
    await c.end();
  };

/** A response head: the status line and headers, with the blank line. */
export const head = (status: string, ...headers: string[]): string =>
  `HTTP/1.1 ${status}\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;

/** `body` in the chunked coding, cut into chunks of the given sizes in turn; `trailers` after the last chunk. */
export function chunked(body: Buffer, sizes: readonly number[], trailers: readonly string[] = []): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0, i = 0; off < body.length; i++) {
    const n = Math.min(sizes[i % sizes.length] ?? 1, body.length - off);
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(off, off + n), Buffer.from("\r\n"));
    off += n;
  }
  parts.push(Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join("")}\r\n`));
  return Buffer.concat(parts);
}

/** Deterministic bytes (a xorshift stream), so a failure is reproducible. */
export function bytesOf(size: number, seed = 1): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

export const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

export interface MemoryFile {
  /** Opens the file: counts the opens, answers the same handle. */
  open(): Promise<FileHandle>;
  readonly opens: number;
  /** The bytes written so far (positions not written are zeros). */
  bytes(): Buffer;
}

/**
 * A FileHandle stand-in keeping its writes in memory; each write takes `delayMs` and takes at most `maxWrite` bytes
 * (a short write, as a real file may make).
 */
export function memoryFile(opts: { delayMs?: number; maxWrite?: number } = {}): MemoryFile {
  const writes: { position: number; data: Buffer }[] = [];
  let opens = 0;
  const handle = {
    async write(buf: Buffer, offset: number, length: number, position: number) {
      if (opts.delayMs !== undefined) await sleep(opts.delayMs);
      const n = Math.min(length, opts.maxWrite ?? length);
      writes.push({ position, data: Buffer.from(buf.subarray(offset, offset + n)) });
      return { bytesWritten: n, buffer: buf };
    },
  };
  return {
    open: async () => {
      opens++;
      return handle as unknown as FileHandle;
    },
    get opens() {
      return opens;
    },
    bytes() {
      const size = Math.max(0, ...writes.map((w) => w.position + w.data.length));
      const out = Buffer.alloc(size);
      for (const w of writes) w.data.copy(out, w.position);
      return out;
    },
  };
}

/** Every file under `dir`, as paths relative to it (a partial file left behind shows here). */
export const filesIn = (dir: string): string[] =>
  fs.existsSync(dir)
    ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
        fs.statSync(path.join(dir, f)).isFile(),
      )
    : [];

/** The error a promise rejects with (failing when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

/**
 * Each test's temporary directory and scripted server, made fresh and removed after it (registers the hooks): `dir`
 * is the current test's directory, `serve` starts the server it talks to.
 */
export function perTestServer() {
  let server: RawServer | undefined;
  let dir = "";
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-direct-get-"));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir(): string {
      return dir;
    },
    async serve(script: Script): Promise<RawServer> {
      server = await startRawServer(script);
      return server;
    },
  };
}
