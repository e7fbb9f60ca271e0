// The server's directory listings: CreateDownloadLocation of a directory (a multipart blob's URI) answers a signed
// URL whose GET is `application/json`, `format` first:
//   {"format":"petrel.blob-listing/v1","files":[{"key":"a/b.txt","size":12,"url":"<signed GET>"},…]}
// naming every file under the directory (key relative to it, size, a signed GET lasting as long as the listing's).
// A response is taken for a listing only when both its content type and its opening say so, so a stored JSON file
// (which S3 may serve as application/json) is still saved as a file.
import type http from "node:http";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { BlobTransferError, EntityNotFoundError, PetrelError } from "./errors.js";
import { openGet, peekBody, readText } from "./http-transfer.js";
import type { SynchronousClient } from "./synchronous-client.js";

export type DownloadClient = Pick<SynchronousClient, "createDownloadLocation">;

export const LISTING_FORMAT = "petrel.blob-listing/v1";
/** The largest listing read (the server names at most 10,000 files, each with a signed URL of a few KiB at most). */
const MAX_LISTING_BYTES = 64 * 2 ** 20;
const OPENING = /^\s*\{\s*"format"\s*:\s*"petrel\.blob-listing\/v1"/;

export interface ListedFile {
  /** `/`-separated, relative to the directory. */
  readonly key: string;
  readonly size: number;
  readonly url: string;
}

/** A key that stays inside the directory it is joined to: no empty, `.` or `..` segments, no `\` or NUL. */
export const isSafeKey = (key: string): boolean =>
  key !== "" && key.split("/").every((s) => s !== "" && s !== "." && s !== ".." && !/[\\\0]/.test(s));

/** The files of a listing; throws naming the problem when it is not one (or names a key outside the directory). */
export function parseListing(text: string, where: string): ListedFile[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not a directory listing (not JSON)`);
  }
  const b = body as { format?: unknown; files?: unknown };
  if (b.format !== LISTING_FORMAT || !Array.isArray(b.files))
    throw new Error(`${where} is not a directory listing (format ${JSON.stringify(b.format)})`);
  return b.files.map((f: { key?: unknown; size?: unknown; url?: unknown }) => {
    if (typeof f.key !== "string" || !isSafeKey(f.key))
      throw new Error(`${where} names an unsafe file key ${JSON.stringify(f.key)}`);
    if (
      typeof f.size !== "number" ||
      !Number.isSafeInteger(f.size) ||
      f.size < 0 ||
      typeof f.url !== "string" ||
      !/^https?:\/\//i.test(f.url)
    )
      throw new Error(`${where}: bad entry for ${f.key}`);
    return { key: f.key, size: f.size, url: f.url };
  });
}

/**
 * What a 200 response of a signed GET holds: a directory's listing (parsed), or a blob's body as chunks (its first
 * bytes were read ahead when it is JSON).
 */
export async function readListingOrBody(
  res: http.IncomingMessage,
  url: string,
  where: string,
): Promise<{ readonly files: ListedFile[] } | { readonly body: AsyncIterable<Buffer> }> {
  const type = (res.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") return { body: res };
  const { head, body } = await peekBody(res, 256);
  if (!OPENING.test(head.toString("utf8"))) return { body };
  return { files: parseListing(await readText(body, url, MAX_LISTING_BYTES), where) };
}

/** A signed GET and when it stops working (undefined: not known, an http(s) URI given as it is). */
export interface Location {
  readonly url: string;
  readonly expiresAt: Date | undefined;
}

/** Where to GET a blob (or a directory's listing): an http(s) URI itself, any other through CreateDownloadLocation. */
export async function locate(client: DownloadClient, uri: string): Promise<Location> {
  if (/^https?:\/\//i.test(uri)) return { url: uri, expiresAt: undefined };
  try {
    const loc = await client.createDownloadLocation({ nativeUrl: uri });
    return {
      url: loc.signedUrl,
      expiresAt: loc.expiresAt === undefined ? undefined : timestampDate(loc.expiresAt),
    };
  } catch (err) {
    if (!(err instanceof PetrelError)) throw err;
    const Type = err.constructor as new (...a: ConstructorParameters<typeof PetrelError>) => PetrelError;
    throw new Type(err.code, `cannot download ${uri}: ${err.message}`, err.cause);
  }
}

export interface Listing {
  readonly files: ListedFile[];
  /** When its URLs stop working (undefined: not known). */
  readonly expiresAt: Date | undefined;
}

/**
 * The listing of the directory at `uri` (asked for as `<uri>/`, which names a directory only), or undefined when the
 * server holds no file under it. An http(s) URI must answer a listing itself.
 */
export async function fetchListing(
  client: DownloadClient,
  uri: string,
  signal?: AbortSignal,
): Promise<Listing | undefined> {
  const base = uri.replace(/\/+$/, "");
  let loc: Location;
  try {
    loc = await locate(client, /^https?:\/\//i.test(uri) ? uri : `${base}/`);
  } catch (err) {
    if (err instanceof EntityNotFoundError) return undefined;
    throw err;
  }
  const res = await openGet(loc.url, signal);
  const got = await readListingOrBody(res, loc.url, base);
  if ("body" in got) {
    res.destroy();
    throw new BlobTransferError(200, `${base} is not a directory: its URL answered a file, not a listing`);
  }
  return { files: got.files, expiresAt: loc.expiresAt };
}
