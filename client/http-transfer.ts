// Streamed HTTP transfers of one blob through a signed URL: a PUT of a local file (flytekit's upload: Content-Length,
// Content-MD5 and the headers CreateUploadLocation returned) and a GET into a local file (written beside it, checked
// against the announced length and any known MD5, then renamed into place). Bodies are never held in memory.
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobNotFoundError, BlobTransferError } from "./errors.js";

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
  const client = u.protocol === "https:" ? https : http;
  return client.request(u, { method, headers, ...(signal === undefined ? {} : { signal }) });
}

/** The first 2 KiB of a response's text (a refusal's reason), the rest drained. */
async function reason(res: http.IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of res) if (text.length < 2048) text += (chunk as Buffer).toString();
  return text.trim().slice(0, 2048);
}

function failure(method: string, url: string, status: number, text: string): BlobTransferError {
  const message = `${method} ${redact(url)} failed: HTTP ${status}${text === "" ? "" : ` ${text}`}`;
  return status === 404 ? new BlobNotFoundError(status, message) : new BlobTransferError(status, message);
}

/**
 * PUTs a local file (streamed) or bytes, of `size` bytes, to a signed URL; 200 and 201 are success (S3 answers 200,
 * Azure 201).
 */
export function putFile(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string | Uint8Array,
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
    req.on("response", (res) => {
      reason(res).then(
        (text) =>
          settle(
            res.statusCode === 200 || res.statusCode === 201
              ? undefined
              : failure("PUT", url, res.statusCode ?? 0, text),
          ),
        settle,
      );
    });
    req.on("error", (err) =>
      settle(
        err instanceof BlobTransferError
          ? err
          : new BlobTransferError(undefined, `PUT ${redact(url)} failed: ${err.message}`, { cause: err }),
      ),
    );
    if (typeof body !== "string") {
      req.end(body);
      return;
    }
    const file = fs.createReadStream(body);
    file.on("error", (err) => req.destroy(err));
    file.pipe(req);
  });
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

/** GETs a URL's body as text (small documents: directory listings). */
export async function getText(url: string, signal?: AbortSignal): Promise<string> {
  const res = await responseOf(request("GET", url, {}, signal), url);
  if (res.statusCode !== 200) throw failure("GET", url, res.statusCode ?? 0, await reason(res));
  let text = "";
  for await (const chunk of res) text += (chunk as Buffer).toString();
  return text;
}

export interface GetFileOptions {
  readonly signal?: AbortSignal;
  /** Checked against the bytes received (a directory listing's size and MD5). */
  readonly size?: number;
  readonly md5?: Uint8Array;
}

/** GETs a URL into `dest` (its directory created); `dest` is replaced only by a complete, checked body. */
export async function getFile(url: string, dest: string, opts: GetFileOptions = {}): Promise<void> {
  const res = await responseOf(request("GET", url, {}, opts.signal), url);
  if (res.statusCode !== 200) throw failure("GET", url, res.statusCode ?? 0, await reason(res));
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const partial = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
  const hash = createHash("md5");
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      received += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, meter, fs.createWriteStream(partial));
    const announced = res.headers["content-length"];
    const expected = opts.size ?? (announced === undefined ? undefined : Number(announced));
    if (expected !== undefined && received !== expected)
      throw new BlobTransferError(
        200,
        `GET ${redact(url)}: received ${received} bytes, expected ${expected} (the transfer was cut short)`,
      );
    if (opts.md5 !== undefined && !hash.digest().equals(Buffer.from(opts.md5)))
      throw new BlobTransferError(200, `GET ${redact(url)}: the body's MD5 differs from the listed one`);
    await fs.promises.rename(partial, dest);
  } catch (err) {
    await fs.promises.rm(partial, { force: true });
    if (err instanceof BlobTransferError) throw err;
    throw new BlobTransferError(undefined, `GET ${redact(url)} into ${dest} failed: ${String(err)}`, {
      cause: err,
    });
  }
}
