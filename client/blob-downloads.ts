// Blobs from the server's store into local files through signed GET URLs (CreateDownloadLocation; http(s) URIs are
// fetched as they are), streamed to disk. A directory (multipart blob) is read through the listing its uploader left
// beside it (directory-listing.ts). Used by remote.download, handle.downloadOutputs and the Worker's inputs.
import fs from "node:fs";
import path from "node:path";
import { clone } from "@bufbuild/protobuf";
import { type LiteralMap, LiteralMapSchema } from "../gen/flyteidl/core/literals_pb.js";
import { blobsOfMap, isMultipart } from "./blob-literals.js";
import type { TransferOptions } from "./blob-uploads.js";
import { listingUri, parseListing } from "./directory-listing.js";
import { BlobNotFoundError, PetrelError } from "./errors.js";
import { mapLimit } from "./file-digest.js";
import { getFile, getText } from "./http-transfer.js";
import type { SynchronousClient } from "./synchronous-client.js";
import { fromLiteralMap } from "./type-engine.js";

export type DownloadClient = Pick<SynchronousClient, "createDownloadLocation">;
export type BlobKind = "file" | "directory";

/** Where to GET a blob: an http(s) URI itself, any other through a signed URL of the server's store. */
async function signedGet(client: DownloadClient, uri: string): Promise<string> {
  if (/^https?:\/\//i.test(uri)) return uri;
  try {
    return (await client.createDownloadLocation({ nativeUrl: uri })).signedUrl;
  } catch (err) {
    if (!(err instanceof PetrelError)) throw err;
    const Type = err.constructor as new (...a: ConstructorParameters<typeof PetrelError>) => PetrelError;
    throw new Type(err.code, `cannot download ${uri}: ${err.message}`, err.cause);
  }
}

export async function downloadFile(
  client: DownloadClient,
  uri: string,
  dest: string,
  opts: TransferOptions = {},
): Promise<void> {
  await getFile(await signedGet(client, uri), dest, opts.signal === undefined ? {} : { signal: opts.signal });
}

/** The files of the directory at `uri` into `dest` (created; files already there stay unless replaced). */
export async function downloadDirectory(
  client: DownloadClient,
  uri: string,
  dest: string,
  opts: TransferOptions = {},
): Promise<void> {
  const base = uri.replace(/\/+$/, "");
  let text: string;
  try {
    text = await getText(await signedGet(client, listingUri(base)), opts.signal);
  } catch (err) {
    if (!(err instanceof BlobNotFoundError)) throw err;
    throw new BlobNotFoundError(
      404,
      `no directory listing at ${listingUri(base)}: only directories uploaded by Petrel's TypeScript client or Worker can be downloaded (the server offers no listing of a prefix)`,
      { cause: err },
    );
  }
  const files = parseListing(text, listingUri(base));
  await fs.promises.mkdir(dest, { recursive: true });
  await mapLimit(files, opts.concurrency ?? 4, async (f) => {
    const url = await signedGet(client, `${base}/${f.key}`);
    await getFile(url, path.join(dest, ...f.key.split("/")), {
      size: f.size,
      md5: f.md5,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
  });
}

/**
 * Downloads the blob at `uri` to `dest`, as a file or directory (`kind`), or — when unknown — as a file if one is
 * there, else as a directory with a listing. Returns the local path and what it was.
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
  try {
    await downloadFile(client, uri, file, opts);
    return { path: file, kind: "file" };
  } catch (err) {
    if (kind === "file" || !(err instanceof BlobNotFoundError)) throw err;
  }
  try {
    await downloadDirectory(client, uri, dest, opts);
  } catch (err) {
    if (!(err instanceof BlobNotFoundError)) throw err;
    throw new BlobNotFoundError(
      404,
      `nothing to download at ${uri}: no file there, and no directory listing`,
      {
        cause: err,
      },
    );
  }
  return { path: dest, kind: "directory" };
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
