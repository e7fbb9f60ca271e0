// Blobs from the server's store into local files through signed GET URLs (CreateDownloadLocation; http(s) URIs are
// fetched as they are), streamed to disk. A directory (multipart blob) is answered by the server as a listing of its
// files (blob-listing.ts), each then downloaded through its own signed URL, checked against its listed size; a
// listing about to expire is asked for again. Used by remote.download, handle.downloadOutputs and the Worker's inputs.
import fs from "node:fs";
import path from "node:path";
import { clone } from "@bufbuild/protobuf";
import { type LiteralMap, LiteralMapSchema } from "../gen/flyteidl/core/literals_pb.js";
import {
  type DownloadClient,
  fetchListing,
  type ListedFile,
  type Listing,
  locate,
  readListingOrBody,
} from "./blob-listing.js";
import { blobsOfMap, isMultipart } from "./blob-literals.js";
import type { TransferOptions } from "./blob-uploads.js";
import { BlobNotFoundError } from "./errors.js";
import { mapLimit } from "./file-digest.js";
import { getFile, openGet, saveBody } from "./http-transfer.js";
import { fromLiteralMap } from "./type-engine.js";

export type BlobKind = "file" | "directory";

export async function downloadFile(
  client: DownloadClient,
  uri: string,
  dest: string,
  opts: TransferOptions = {},
): Promise<void> {
  const loc = await locate(client, uri);
  await getFile(loc.url, dest, opts.signal === undefined ? {} : { signal: opts.signal });
}

/**
 * The listed files of the directory at `uri` into `dest` (created; files already there stay unless replaced). A file
 * is started with a URL that still has a while to live: past that, the listing is asked for again.
 */
async function downloadListed(
  client: DownloadClient,
  uri: string,
  first: Listing,
  dest: string,
  opts: TransferOptions,
): Promise<void> {
  let expiresAt = first.expiresAt?.getTime();
  let fetchedAt = Date.now();
  /** The URLs of the listing asked for again, by key (until then, each file's own). */
  let urls: Map<string, string> | undefined;
  let refresh: Promise<void> | undefined;
  const urlOf = async (f: ListedFile): Promise<string> => {
    const margin = expiresAt === undefined ? 0 : Math.min(30_000, (expiresAt - fetchedAt) / 10);
    if (expiresAt !== undefined && Date.now() >= expiresAt - margin) {
      refresh ??= fetchListing(client, uri, opts.signal)
        .then((listing) => {
          if (listing === undefined) throw new BlobNotFoundError(404, `the directory ${uri} is gone`);
          urls = new Map(listing.files.map((g) => [g.key, g.url]));
          expiresAt = listing.expiresAt?.getTime();
          fetchedAt = Date.now();
        })
        .finally(() => {
          refresh = undefined;
        });
      await refresh;
    }
    const url = urls === undefined ? f.url : urls.get(f.key);
    if (url === undefined) throw new BlobNotFoundError(404, `${uri}/${f.key} left the directory`);
    return url;
  };
  await fs.promises.mkdir(dest, { recursive: true });
  await mapLimit(first.files, opts.concurrency ?? 4, async (f) => {
    await getFile(await urlOf(f), path.join(dest, ...f.key.split("/")), {
      size: f.size,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
  });
}

/** The files of the directory at `uri` into `dest` (created; files already there stay unless replaced). */
export async function downloadDirectory(
  client: DownloadClient,
  uri: string,
  dest: string,
  opts: TransferOptions = {},
): Promise<void> {
  const listing = await fetchListing(client, uri, opts.signal);
  if (listing === undefined)
    throw new BlobNotFoundError(404, `nothing to download at ${uri}: no directory (no file under it) there`);
  await downloadListed(client, uri, listing, dest, opts);
}

/**
 * Downloads the blob at `uri` to `dest`, as a file or directory (`kind`), or — when unknown — as whatever the server
 * answers: a file's bytes, or a directory's listing. Returns the local path and what it was.
 */
export async function downloadBlob(
  client: DownloadClient,
  uri: string,
  dest: string,
  kind?: BlobKind,
  opts: TransferOptions = {},
): Promise<{ path: string; kind: BlobKind }> {
  if (kind === "directory") {
    await downloadDirectory(client, uri, dest, opts);
    return { path: dest, kind };
  }
  const isDir = await fs.promises.stat(dest).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const file = isDir ? path.join(dest, basenameOf(uri)) : dest;
  if (kind === "file") {
    await downloadFile(client, uri, file, opts);
    return { path: file, kind };
  }
  const loc = await locate(client, uri);
  const res = await openGet(loc.url, opts.signal).catch((err: unknown) => {
    if (!(err instanceof BlobNotFoundError)) throw err;
    throw new BlobNotFoundError(404, `nothing to download at ${uri}: no file or directory there`, {
      cause: err,
    });
  });
  const got = await readListingOrBody(res, loc.url, uri);
  if ("files" in got) {
    await downloadListed(client, uri, { files: got.files, expiresAt: loc.expiresAt }, dest, opts);
    return { path: dest, kind: "directory" };
  }
  await saveBody(res, got.body, loc.url, file);
  return { path: file, kind: "file" };
}

/** The last segment of a URI, decoded, as a safe local file name. */
export function basenameOf(uri: string): string {
  const last = uri.split("?")[0]?.replace(/\/+$/, "").split("/").at(-1) ?? "";
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  return name === "" || name === "." || name === ".." || /[/\\\0]/.test(name) ? "blob" : name;
}

/** `where` (a variable, then list indices and map keys) as a path under `dir`: no segment can climb out of it. */
export function localPathOf(dir: string, where: string): string {
  const safe = (s: string) =>
    s === "" ? "%" : /^\.+$/.test(s) ? s.replace(/\./g, "%2E") : s.replace(/[\\\0]/g, encodeURIComponent);
  return path.join(dir, ...where.split("/").map(safe));
}

/**
 * Every blob of a literal map into `dir`, where `at(where, uri, multipart)` says (a path under `dir`); returns a copy
 * of the map whose blob URIs are the local paths.
 */
export async function localizeBlobs(
  client: DownloadClient,
  map: LiteralMap | undefined,
  at: (where: string, uri: string, multipart: boolean) => string,
  opts: TransferOptions = {},
): Promise<LiteralMap> {
  const copy = clone(LiteralMapSchema, map ?? { $typeName: "flyteidl.core.LiteralMap", literals: {} });
  const blobs = blobsOfMap(copy);
  await mapLimit(blobs, opts.concurrency ?? 4, async ({ blob, where }) => {
    const multipart = isMultipart(blob);
    const local = at(where, blob.uri, multipart);
    try {
      await downloadBlob(client, blob.uri, local, multipart ? "directory" : "file", opts);
    } catch (err) {
      if (err instanceof Error) err.message = `${where}: ${err.message}`;
      throw err;
    }
    blob.uri = local;
  });
  return copy;
}

const jsonValue = (_k: string, v: unknown) =>
  typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v;

/**
 * An execution's outputs into `dir` as flytekit's FlyteRemote.download lays them out: each blob output at
 * `<dir>/<name>` (nested ones at `<dir>/<name>/<index or key>`), and every output in `<dir>/outputs.json` (blobs as
 * their local paths). Returns the outputs with blobs as local paths.
 */
export async function downloadOutputs(
  client: DownloadClient,
  map: LiteralMap | undefined,
  dir: string,
  opts: TransferOptions = {},
): Promise<Record<string, unknown>> {
  await fs.promises.mkdir(dir, { recursive: true });
  const local = await localizeBlobs(client, map, (where) => localPathOf(dir, where), opts);
  const values = fromLiteralMap(local);
  await fs.promises.writeFile(path.join(dir, "outputs.json"), `${JSON.stringify(values, jsonValue, 2)}\n`);
  return values;
}
