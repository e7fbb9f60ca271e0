// Streamed HTTP transfers of one blob through a signed URL: a PUT of a local file (flytekit's upload: Content-Length,
// Content-MD5 and the headers CreateUploadLocation returned) and a GET into a local file (written beside it, checked
// against the expected or announced length, then renamed into place). Bodies are never held in memory; a GET's first
// bytes can be looked at before its body is saved (peekBody), and a small document read whole (readText).
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { DirectGetError, directGet } from "./direct-get.js";
import { BlobNotFoundError, BlobTransferError } from "./errors.js";
import { PartialFile, writeBody } from "./partial-file.js";

/** CA certificates trusted for https transfers besides the system's (a client connected with `caFile` adds its own). */
const extraCas = new Set<string>();

/** Trusts `pem` (a CA certificate bundle) for the signed-URL transfers of every client in this process. */
export function trustTransferCa(pem: string): void {
  extraCas.add(pem);
}

/** A URL without its query (signatures stay out of messages). */
export const redact = (url: string): string => url.split("?")[0] ?? url;

function request(
  method: "GET" | "PUT",
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): http.ClientRequest {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new BlobTransferError(undefined, `cannot ${method} ${redact(url)}: not an http(s) URL`);
  const opts = { method, headers, ...(signal === undefined ? {} : { signal }) };
  if (u.protocol === "http:") return http.request(u, opts);
  return https.request(
    u,
    extraCas.size === 0 ? opts : { ...opts, ca: [...tls.rootCertificates, ...extraCas] },
  );
}

/** The first 2 KiB of a response's text (a refusal's reason), the rest drained; a cut body gives what arrived. */
async function reason(res: http.IncomingMessage): Promise<string> {
  let text = "";
  try {
    for await (const chunk of res) if (text.length < 2048) text += (chunk as Buffer).toString();
  } catch {
    // The connection ended early (a refusal closes it while the body is still being sent): what arrived is the reason.
  }
  return text.trim().slice(0, 2048);
}

function failure(method: string, url: string, status: number, text: string): BlobTransferError {
  const message = `${method} ${redact(url)} failed: HTTP ${status}${text === "" ? "" : ` ${text}`}`;
  return status === 404 ? new BlobNotFoundError(status, message) : new BlobTransferError(status, message);
}

/**
 * PUTs a local file (streamed) of `size` bytes to a signed URL; 200 and 201 are success (S3 answers 200, Azure 201).
 */
export function putFile(
  url: string,
  headers: Readonly<Record<string, string>>,
  local: string,
  size: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (err === undefined) resolve();
      else reject(err);
    };
    const req = request("PUT", url, { "content-length": String(size), ...headers }, signal);
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      void reason(res).then((text) => {
        const ok = res.statusCode === 200 || res.statusCode === 201;
        settle(ok ? undefined : failure("PUT", url, res.statusCode ?? 0, text));
        if (!ok) req.destroy(); // the rest of a refused body is not sent
      });
    });
    req.on("error", (err) => {
      // Once answered, the answer settles the PUT (a refusal may come while the body is still being sent).
      if (answered && !(signal?.aborted ?? false)) return;
      settle(
        err instanceof BlobTransferError
          ? err
          : new BlobTransferError(undefined, `PUT ${redact(url)} failed: ${err.message}`, { cause: err }),
      );
    });
    sendFile(local, req, () => answered).catch((err: unknown) => req.destroy(err as Error));
  });
}

/** A PUT's body is read into buffers of this size, reused once the socket has taken their bytes. */
const SEND_BYTES = 1024 * 1024;

/**
 * Writes the file at `local` to `req` and ends it, reading into two buffers in turn (one read while one is sent). A
 * failed read destroys the request; a failed write stops the sending (the request reports it, or the answer that came
 * first: a refusal before the whole body was sent).
 */
async function sendFile(local: string, req: http.ClientRequest, answered: () => boolean): Promise<void> {
  const file = await fs.promises.open(local, "r");
  try {
    const over = new Promise<"over">((resolve) => req.once("close", () => resolve("over")));
    const buffers = [Buffer.allocUnsafeSlow(SEND_BYTES), Buffer.allocUnsafeSlow(SEND_BYTES)];
    const sent: (Promise<unknown> | undefined)[] = [undefined, undefined];
    for (let i = 0, position = 0; ; i ^= 1) {
      // The buffer's last bytes must have left before it is read into again.
      if (sent[i] !== undefined && (await Promise.race([sent[i], over])) !== "sent") return;
      const buf = buffers[i] as Buffer;
      const { bytesRead } = await file.read(buf, 0, SEND_BYTES, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      // Written after the event loop's poll phase: an answer that came meanwhile (a refusal, sent before the body was
      // read, its connection then reset) is read before a write can fail on the reset connection and hide it.
      await new Promise((resolve) => setImmediate(resolve));
      if (answered()) return;
      sent[i] = new Promise<"sent" | "failed">((resolve) =>
        req.write(buf.subarray(0, bytesRead), (err) =>
          resolve(err === null || err === undefined ? "sent" : "failed"),
        ),
      );
    }
    req.end();
  } finally {
    await file.close();
  }
}

function responseOf(req: http.ClientRequest, url: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.on("response", resolve);
    req.on("error", (err) =>
      reject(new BlobTransferError(undefined, `GET ${redact(url)} failed: ${err.message}`, { cause: err })),
    );
    req.end();
  });
}

/** Opens a GET of a URL; any answer but 200 is thrown (404 as BlobNotFoundError) with its reason. */
export async function openGet(url: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const res = await responseOf(request("GET", url, {}, signal), url);
  if (res.statusCode !== 200) throw failure("GET", url, res.statusCode ?? 0, await reason(res));
  return res;
}

/** A response's body as chunks; its first bytes (up to `n`, fewer when it is shorter) read ahead to look at. */
export async function peekBody(
  res: http.IncomingMessage,
  n: number,
): Promise<{ readonly head: Buffer; readonly body: AsyncIterable<Buffer> }> {
  const it = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < n && !ended) {
    const next = await it.next();
    if (next.done === true) ended = true;
    else {
      chunks.push(next.value);
      size += next.value.length;
    }
  }
  const head = Buffer.concat(chunks);
  async function* body(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      for (let next = ended ? undefined : await it.next(); next !== undefined && next.done !== true; ) {
        yield next.value;
        next = await it.next();
      }
    } finally {
      // A reader that stops early closes the response.
      await it.return?.();
    }
  }
  return { head, body: body() };
}

/** A body read whole as UTF-8 text; one longer than `maxBytes` is refused (a document, not a blob). */
export async function readText(body: AsyncIterable<Buffer>, url: string, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes)
      throw new BlobTransferError(200, `GET ${redact(url)}: the document exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export interface GetFileOptions {
  readonly signal?: AbortSignal;
  /** Checked against the bytes received (a listed file's size); else the response's Content-Length is. */
  readonly size?: number;
}

/**
 * Files known to be smaller than this go through Node's http client, whose pooled keep-alive connections spare a
 * small file its own connection (and TLS handshake); others are read by directGet, at a third of the CPU.
 */
const DIRECT_FROM_BYTES = 1024 * 1024;

/** GETs a URL into `dest` (its directory created); `dest` is replaced only by a complete, checked body. */
export async function getFile(url: string, dest: string, opts: GetFileOptions = {}): Promise<void> {
  if (opts.size !== undefined && opts.size < DIRECT_FROM_BYTES) {
    const res = await openGet(url, opts.signal);
    await saveBody(res, res, url, dest, opts.size);
    return;
  }
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new BlobTransferError(undefined, `cannot GET ${redact(url)}: not an http(s) URL`);
  const ca =
    u.protocol === "https:" && extraCas.size > 0 ? [...tls.rootCertificates, ...extraCas] : undefined;
  const partial = new PartialFile(dest);
  try {
    const got = await directGet(u, () => partial.open(), {
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      ...(ca === undefined ? {} : { ca }),
    }).catch((err: unknown) => {
      if (err instanceof DirectGetError && !err.answered)
        throw new BlobTransferError(undefined, `GET ${redact(url)} failed: ${err.message}`, { cause: err });
      throw err;
    });
    if (!got.ok) throw failure("GET", url, got.status, got.reason.trim().slice(0, 2048));
    if (!got.complete)
      throw new BlobTransferError(
        200,
        `GET ${redact(url)}: received ${got.received} bytes${got.announced === undefined ? "" : `, expected ${got.announced}`} (the transfer was cut short)`,
      );
    checkLength(url, got.received, opts.size ?? got.announced);
    await partial.open(); // an empty body writes nothing, and is still a file
    await partial.commit();
  } catch (err) {
    await partial.discard();
    if (err instanceof BlobTransferError) throw err;
    throw new BlobTransferError(undefined, `GET ${redact(url)} into ${dest} failed: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

const messageOf = (err: unknown) => (err instanceof DirectGetError ? err.message : String(err));

function checkLength(url: string, received: number, expected: number | undefined): void {
  if (expected !== undefined && received !== expected)
    throw new BlobTransferError(
      200,
      `GET ${redact(url)}: received ${received} bytes, expected ${expected} (the transfer was cut short)`,
    );
}

/**
 * Streams the body of `res` (or `body`, its chunks after a peek) into `dest` (its directory created), checked
 * against `size`, else the announced Content-Length; `dest` is replaced only by a complete, checked body.
 */
export async function saveBody(
  res: http.IncomingMessage,
  body: AsyncIterable<Buffer>,
  url: string,
  dest: string,
  size?: number,
): Promise<void> {
  const partial = new PartialFile(dest);
  const announced = res.headers["content-length"];
  const expected = size ?? (announced === undefined ? undefined : Number(announced));
  try {
    const received = await writeBody(body, await partial.open(), expected);
    checkLength(url, received, expected);
    await partial.commit();
  } catch (err) {
    await partial.discard();
    if (err instanceof BlobTransferError) throw err;
    throw new BlobTransferError(undefined, `GET ${redact(url)} into ${dest} failed: ${String(err)}`, {
      cause: err,
    });
  }
}
