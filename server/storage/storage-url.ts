// The blob store a `--storage-url` names: `file:///<absolute directory>` (the local store) or `s3://<bucket>[/<prefix>]`.
import path from "node:path";
import { splitKey } from "./blob-key.js";

export type StorageLocation =
  | { readonly kind: "file"; readonly dir: string }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string };

// S3's bucket names, loosened to what Ceph and GCS also allow (upper case, underscores).
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/;

/** The location a storage URL names, or undefined when it is not a valid one. */
export function parseStorageUrl(url: string): StorageLocation | undefined {
  if (url.startsWith("file://")) {
    const dir = url.slice("file://".length);
    if (!dir.startsWith("/") || dir.includes("\0") || path.resolve(dir) === "/") return undefined;
    return { kind: "file", dir: path.resolve(dir) };
  }
  const s3 = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (s3 === null || !BUCKET.test(s3[1] ?? "")) return undefined;
  const prefix = (s3[2] ?? "").replace(/\/+$/, "");
  if (prefix !== "" && splitKey(prefix) === undefined) return undefined;
  return { kind: "s3", bucket: s3[1] ?? "", prefix };
}

/** The canonical form of a storage URL (no trailing `/`, a normalized directory). */
export function formatStorageUrl(location: StorageLocation): string {
  if (location.kind === "file") return `file://${location.dir}`;
  return `s3://${location.bucket}${location.prefix === "" ? "" : `/${location.prefix}`}`;
}
