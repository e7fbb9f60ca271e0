// Blob keys: the part of a blob URI after its store's root, `/`-separated segments. Both stores accept the same keys,
// so a URI valid in one layout is valid in the other, and no key can name anything outside its store's root: no empty,
// `.` or `..` segment, no NUL or control character, no backslash, no percent-encoded slash, backslash, NUL or dot
// segment (a layer that decodes URLs must not turn a key into a traversal), nothing over 255 bytes (a file name's limit
// on Linux). Segments starting with `.petrel` are the local store's own (temporary files, recorded MD5s).
import { createHash } from "node:crypto";
import { AppError, Code, invalidArgument } from "../errors.js";

/** The prefix of every name a store keeps for itself (never a key segment). */
export const RESERVED_PREFIX = ".petrel";

const ENCODED = /%(2f|5c|00)/i;

/** Whether `segment` may be one segment of a blob key. */
export function isSafeSegment(segment: string): boolean {
  if (segment === "" || hasControlOrBackslash(segment) || ENCODED.test(segment)) return false;
  if (segment.startsWith(RESERVED_PREFIX) || Buffer.byteLength(segment) > 255) return false;
  const dots = segment.replace(/%2e/gi, ".");
  return dots !== "." && dots !== "..";
}

function hasControlOrBackslash(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}

/** The segments of a key (`a/b/c`), or undefined when any segment is unsafe (or the key is empty). */
export function splitKey(key: string): string[] | undefined {
  const segments = key.split("/");
  return segments.every(isSafeSegment) ? segments : undefined;
}

/** The key under `root` that `uri` names, or undefined when it names nothing inside it. */
export function keyUnder(root: string, uri: string): string | undefined {
  if (!uri.startsWith(`${root}/`)) return undefined;
  const key = uri.slice(root.length + 1);
  return splitKey(key) === undefined ? undefined : key;
}

/**
 * The key formed by `segments` (each may hold `/`-separated sub-segments), refused with InvalidArgument when a piece
 * is unsafe: this is the one check between caller-chosen names (file names, filename roots) and a store's keys.
 */
export function joinKey(segments: readonly string[]): string {
  const key = segments.join("/");
  if (splitKey(key) === undefined) throw invalidArgument(`invalid blob path [${clip(key)}]`);
  return key;
}

/** A list prefix under `root`: the root itself or a key prefix, or undefined when it could reach outside. */
export function prefixUnder(root: string, prefix: string): string | undefined {
  if (prefix === `${root}/` || prefix === root) return "";
  if (!prefix.startsWith(`${root}/`)) return undefined;
  const rest = prefix.slice(root.length + 1);
  const segments = rest.split("/");
  // A trailing `/` leaves an empty last piece; a partial last segment (`a/b` listing `a/bc`) is allowed too.
  const last = segments.pop() ?? "";
  if (!segments.every(isSafeSegment)) return undefined;
  if (last !== "" && !isSafeSegment(last)) return undefined;
  return rest;
}

export function notInStore(uri: string): AppError {
  return invalidArgument(`uri [${clip(uri)}] is not a blob of this store`);
}

export const tooLarge = (maxBytes: number): AppError =>
  new AppError(Code.ResourceExhausted, `the body exceeds the limit of ${maxBytes} bytes`);

export const md5Mismatch = (): AppError =>
  new AppError(Code.DataLoss, "the body's MD5 differs from the Content-MD5 it was sent with");

export const md5Of = (data: Uint8Array): Uint8Array => createHash("md5").update(data).digest();

/** Whether two MD5s (raw bytes) are equal. */
export function sameMd5(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
