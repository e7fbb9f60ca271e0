// The signed URLs on the HTTP/1.1 port (storage/signed-urls.ts): the local store's blobs — a PUT streams its body into
// the store, a GET (or HEAD) streams a blob out — and either store's directory listings (a GET answers the JSON of
// storage/blob-listing.ts). Every refusal is a plain-text answer naming the problem: 400 for a malformed key or a
// body/Content-MD5 that does not match the signed MD5, 403 for a wrong signature (or one made for another method), an
// expired URL or a key outside the store, 404 for a missing blob or a directory with no blobs, 413 past the upload
// limit, 422 for a directory with more blobs than one listing names.
import type http from "node:http";
import type { Socket } from "node:net";
import { pipeline } from "node:stream/promises";
import { AppError, Code } from "../errors.js";
import type { Logger } from "../logger.js";
import { listDirectory } from "../storage/blob-listing.js";
import type { BlobStore } from "../storage/blob-store.js";
import { FileBody } from "../storage/file-body.js";
import {
  BLOB_PATH_PREFIX,
  type BlobGrant,
  type HmacUrlSigner,
  LISTING_PATH_PREFIX,
} from "../storage/signed-urls.js";
import { answerPlain } from "./http-failure.js";
import type { HttpRoute } from "./http-routes.js";

export interface BlobRouteDeps {
  readonly store: BlobStore;
  readonly verifier: Pick<HmacUrlSigner, "verify">;
  /** The largest body a PUT may carry (`--max-upload-size`). */
  readonly maxUploadBytes: number;
  readonly logger: Logger;
}

/** Thrown inside this route: a status and the text sent with it. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const BAD_SEGMENT = /[/\\\0]/;

/**
 * The decoded key segments of the request path after `prefix`; refused when one is empty, `.`/`..` or holds `/`, `\`
 * or NUL.
 */
function keySegments(rawPath: string, prefix: string): string[] {
  let segments: string[];
  try {
    segments = rawPath.slice(prefix.length).split("/").map(decodeURIComponent);
  } catch {
    throw new Refusal(400, "bad request: the blob key is not valid percent-encoded UTF-8");
  }
  if (segments.some((s) => s === "" || s === "." || s === ".." || BAD_SEGMENT.test(s))) {
    throw new Refusal(400, "bad request: invalid blob key (empty, '.' or '..' segments, '/', '\\' or NUL)");
  }
  return segments;
}

function blobUri(store: BlobStore, segments: string[]): string {
  let uri: string;
  try {
    uri = store.uri(...segments);
  } catch {
    throw new Refusal(400, "bad request: invalid blob key");
  }
  if (!store.owns(uri)) throw new Refusal(403, "forbidden: the key is outside the store");
  return uri;
}

/** The 16 bytes of a base64 Content-MD5 header, undefined when absent. */
function headerMd5(req: http.IncomingMessage): Uint8Array | undefined {
  const header = req.headers["content-md5"];
  if (header === undefined) return undefined;
  const raw = (Array.isArray(header) ? header.join(",") : header).trim();
  const bytes = Buffer.from(raw, "base64");
  if (bytes.length !== 16 || bytes.toString("base64") !== raw) {
    throw new Refusal(400, "bad request: the Content-MD5 header is not a base64 MD5");
  }
  return bytes;
}

/** The MD5 the body must have: the signed one (then the header must carry it too), else the header's, if any. */
function expectedMd5(req: http.IncomingMessage, grant: BlobGrant): Uint8Array | undefined {
  const header = headerMd5(req);
  const signed = grant.contentMd5;
  if (signed === undefined) return header;
  if (header === undefined) {
    throw new Refusal(400, "bad request: the URL was signed for a Content-MD5 and the request has none");
  }
  if (!Buffer.from(header).equals(Buffer.from(signed))) {
    throw new Refusal(400, "bad request: the Content-MD5 header differs from the MD5 the URL was signed for");
  }
  return signed;
}

async function putBlob(
  deps: BlobRouteDeps,
  uri: string,
  grant: BlobGrant,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const md5 = expectedMd5(req, grant);
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > deps.maxUploadBytes) {
    throw new Refusal(413, `payload too large: the upload limit is ${deps.maxUploadBytes} bytes`);
  }
  let info: Awaited<ReturnType<BlobStore["write"]>>;
  try {
    info = await deps.store.write(uri, req, {
      ...(md5 === undefined ? {} : { contentMd5: md5 }),
      storeMd5: grant.storeMd5,
      maxBytes: deps.maxUploadBytes,
    });
  } catch (err) {
    if (err instanceof AppError && err.code === Code.ResourceExhausted) {
      throw new Refusal(413, `payload too large: the upload limit is ${deps.maxUploadBytes} bytes`);
    }
    if (err instanceof AppError && err.code === Code.DataLoss) {
      throw new Refusal(400, "bad request: the body's MD5 differs from the Content-MD5");
    }
    throw err;
  }
  const etag = info.contentMd5 ?? md5;
  res.writeHead(200, {
    "content-length": "0",
    ...(etag === undefined ? {} : { etag: `"${Buffer.from(etag).toString("hex")}"` }),
  });
  res.end();
}

async function getBlob(
  deps: BlobRouteDeps,
  uri: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const info = await deps.store.head(uri);
  const body = info === undefined || req.method === "HEAD" ? undefined : await deps.store.read(uri);
  if (info === undefined || (req.method !== "HEAD" && body === undefined)) {
    throw new Refusal(404, "not found: no blob at this key");
  }
  res.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": String(info.size),
    ...(info.contentMd5 === undefined ? {} : { etag: `"${Buffer.from(info.contentMd5).toString("hex")}"` }),
  });
  if (body === undefined) {
    res.end();
    return;
  }
  try {
    // A local file is sent from reused buffers; any other stream is piped.
    if (body instanceof FileBody) await body.sendTo(res);
    else await pipeline(body, res);
  } catch (err) {
    // The client went away or the store failed midway: the response is cut, which the client sees as truncated.
    deps.logger.debug("blob download ended early", { uri, error: err });
    res.destroy();
  }
}

/** The store URI and the grant of a signed request under `prefix`, or a refusal. */
function verified(
  deps: BlobRouteDeps,
  req: http.IncomingMessage,
  prefix: string,
  method: "GET" | "PUT" | "LIST",
): { uri: string; grant: BlobGrant } {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  const segments = keySegments(q < 0 ? url : url.slice(0, q), prefix);
  // The key is checked before the signature: a key that is no blob of the store is refused whoever signed it.
  const uri = blobUri(deps.store, segments);
  const verdict = deps.verifier.verify(
    method,
    segments.join("/"),
    new URLSearchParams(q < 0 ? "" : url.slice(q + 1)),
  );
  if (!verdict.ok) throw new Refusal(403, `forbidden: ${verdict.reason}`);
  return { uri, grant: verdict.grant };
}

async function serveBlob(deps: BlobRouteDeps, req: http.IncomingMessage, res: http.ServerResponse) {
  const { uri, grant } = verified(deps, req, BLOB_PATH_PREFIX, req.method === "PUT" ? "PUT" : "GET");
  if (req.method === "PUT") await putBlob(deps, uri, grant, req, res);
  else await getBlob(deps, uri, req, res);
}

async function serveListing(deps: BlobRouteDeps, req: http.IncomingMessage, res: http.ServerResponse) {
  const { uri, grant } = verified(deps, req, LISTING_PATH_PREFIX, "LIST");
  let body: string;
  try {
    body = await listDirectory(deps.store, uri, grant.expiresAtMs);
  } catch (err) {
    if (err instanceof AppError && err.code === Code.NotFound) {
      throw new Refusal(404, "not found: no blobs under this directory");
    }
    if (err instanceof AppError && err.code === Code.ResourceExhausted) {
      throw new Refusal(422, `unprocessable: ${err.message}`);
    }
    throw err;
  }
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
  });
  res.end(body);
}

/** How long a refused upload's connection is kept half-closed, its incoming bytes discarded, before it is closed. */
const LINGER_MS = 2000;

/**
 * Makes the closing of `socket` after the answer a lingering close (RFC 9112 §9.6): the answer is followed by a FIN and
 * the body still arriving is read and dropped until the client closes (or LINGER_MS). Closed at once, with body bytes
 * unread, the connection would be reset, and a client still sending could lose the answer to the reset (write EPIPE
 * instead of the 4xx and its reason).
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = () => {
    socket.end();
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  };
}

/** The route of a request path, or undefined when it is none of these. */
function routeOf(url: string) {
  if (url.startsWith(BLOB_PATH_PREFIX))
    return {
      serve: serveBlob,
      methods: ["GET", "HEAD", "PUT"],
      takes: "signed blob URLs take GET, HEAD and PUT",
    };
  if (url.startsWith(LISTING_PATH_PREFIX))
    return { serve: serveListing, methods: ["GET"], takes: "signed listing URLs take GET" };
  return undefined;
}

export function blobRoutes(deps: BlobRouteDeps): HttpRoute {
  return (req, res) => {
    const route = routeOf(req.url ?? "");
    if (route === undefined) return false;
    if (!route.methods.includes(req.method ?? "")) {
      res.setHeader("allow", route.methods.join(", "));
      answerPlain(res, 405, `method not allowed: ${route.takes}\n`);
      return true;
    }
    return route.serve(deps, req, res).catch((err: unknown) => {
      if (req.method === "PUT" && !(err instanceof Refusal) && !req.complete) {
        // The client went away mid-upload: the store kept nothing, and there is no one to answer.
        deps.logger.debug("blob upload cut short", { path: (req.url ?? "").split("?")[0], error: err });
        res.destroy();
        return;
      }
      if (!(err instanceof Refusal)) throw err;
      // A refused PUT's body is not stored: the connection is closed after the answer, lingering (see lingerOnClose).
      if (req.method === "PUT" && !req.readableEnded) {
        res.setHeader("connection", "close");
        lingerOnClose(req.socket);
      }
      answerPlain(res, err.status, `${err.message}\n`);
    });
  };
}
