// Local files and directories into the server's blob store through DataProxyService, as flytekit uploads them: a
// file's MD5 in a first streamed pass, CreateUploadLocation (content_md5, filename, add_content_md5_metadata), then a
// streamed PUT to the signed URL. A directory's files go under one filename_root (file-digest.ts), with a listing
// beside them (directory-listing.ts). The same content always gets the same location, so re-uploading succeeds.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Literal } from "../gen/flyteidl/core/literals_pb.js";
import { blobsOf, isMultipart, isRemoteUri } from "./blob-literals.js";
import { encodeListing, LISTING_FILE, listingRoot, listingUri } from "./directory-listing.js";
import { EntityAlreadyExistsError } from "./errors.js";
import { type DirectoryFile, digestDirectory, digestFile, directoryRoot, mapLimit } from "./file-digest.js";
import { putFile } from "./http-transfer.js";
import type { SynchronousClient } from "./synchronous-client.js";
import { TypeMismatchError } from "./type-engine.js";

export type DataProxyClient = Pick<SynchronousClient, "createUploadLocation" | "createDownloadLocation">;

/** Where uploads go (CreateUploadLocation's project and domain). */
export interface UploadScope {
  readonly project: string;
  readonly domain: string;
}

export interface TransferOptions {
  readonly signal?: AbortSignal;
  /** Files transferred at once (default 4). */
  readonly concurrency?: number;
}

interface Piece {
  /** A local file, or the bytes themselves. */
  readonly body: string | Buffer;
  readonly md5: Buffer;
  readonly size: number;
  readonly filename: string;
  readonly filenameRoot?: string;
}

const md5Of = (bytes: Uint8Array) => createHash("md5").update(bytes).digest();

/** One CreateUploadLocation and the PUT of its bytes; the native URL. */
async function put(client: DataProxyClient, scope: UploadScope, p: Piece, signal?: AbortSignal) {
  const loc = await client.createUploadLocation({
    project: scope.project,
    domain: scope.domain,
    contentMd5: p.md5,
    filename: p.filename,
    filenameRoot: p.filenameRoot ?? "",
    addContentMd5Metadata: true,
  });
  await putFile(
    loc.signedUrl,
    { "Content-MD5": p.md5.toString("base64"), ...loc.headers },
    p.body,
    p.size,
    signal,
  );
  return loc.nativeUrl;
}

/** Uploads one file (at `<project>/<domain>/<base32 md5>/<basename>`, as FlyteRemote.upload_file); its native URL. */
export async function uploadFile(
  client: DataProxyClient,
  scope: UploadScope,
  file: string,
  opts: TransferOptions = {},
): Promise<string> {
  const { md5, size } = await digestFile(file);
  return put(client, scope, { body: file, md5, size, filename: path.basename(file) }, opts.signal);
}

/** Uploads every file under `dir` (symbolic links skipped) and its listing; the directory's native URL. */
export async function uploadDirectory(
  client: DataProxyClient,
  scope: UploadScope,
  dir: string,
  opts: TransferOptions = {},
): Promise<string> {
  const files = await digestDirectory(dir, opts.concurrency ?? 4);
  const root = directoryRoot(files);
  const urls = await mapLimit(files, opts.concurrency ?? 4, (f: DirectoryFile) =>
    put(
      client,
      scope,
      { body: f.path, md5: f.md5, size: f.size, filename: f.key, filenameRoot: root },
      opts.signal,
    ),
  );
  const listing = encodeListing(files);
  const suffix = listingUri("");
  const native = await put(
    client,
    scope,
    {
      body: listing,
      md5: md5Of(listing),
      size: listing.length,
      filename: LISTING_FILE,
      filenameRoot: listingRoot(root),
    },
    opts.signal,
  ).catch((err: unknown) => {
    if (!(err instanceof EntityAlreadyExistsError)) throw err;
    throw new EntityAlreadyExistsError(
      err.code,
      `directory ${dir}: a different directory with the same file contents under other names was uploaded to ${root} before (a directory's place is named by its files' MD5s alone, as flytekit names it), so this one's listing cannot be written there`,
      err.cause,
    );
  });
  const dirUrl = native.endsWith(suffix) ? native.slice(0, -suffix.length) : undefined;
  const strays = urls.filter((u, i) => u !== `${dirUrl}/${files[i]?.key}`);
  if (dirUrl === undefined || strays.length > 0)
    throw new Error(
      `directory ${dir}: the server placed its files or listing apart (${native}, ${strays[0]})`,
    );
  return dirUrl;
}

/** Uploads a local file or directory, whichever `local` is. */
export async function uploadPath(
  client: DataProxyClient,
  scope: UploadScope,
  local: string,
  opts: TransferOptions = {},
): Promise<string> {
  const stat = await fs.promises.stat(local);
  return stat.isDirectory()
    ? uploadDirectory(client, scope, local, opts)
    : uploadFile(client, scope, local, opts);
}

/** Whether `local` is the kind a blob needs; throws TypeMismatchError naming the input otherwise. */
async function checkKind(local: string, multipart: boolean, where: string): Promise<void> {
  const stat = await fs.promises.stat(local).catch(() => undefined);
  const wanted = multipart ? "a directory" : "a file";
  if (stat === undefined)
    throw new TypeMismatchError(
      `${where}: expected ${wanted}: no such local path ${local} (remote data needs a URI such as s3://… or file://…)`,
    );
  if (multipart ? !stat.isDirectory() : !stat.isFile())
    throw new TypeMismatchError(`${where}: expected ${wanted}, but ${local} is not one`);
}

/** How uploadLocalBlobs names a local blob it replaced: its URI as written and whether it is a directory. */
export const localBlobKey = (uri: string, multipart: boolean): string => `${multipart ? "d" : "f"}:${uri}`;

/**
 * Replaces, in place, every blob of the literals (by name) whose URI is a local path (relative to the working
 * directory) by the native URL of its upload; remote URIs are left as they are. Each distinct path is uploaded once.
 * Returns what was replaced: localBlobKey(local path as written, multipart) → native URL.
 */
export async function uploadLocalBlobs(
  client: DataProxyClient,
  scope: UploadScope,
  literals: Readonly<Record<string, Literal | undefined>>,
  opts: TransferOptions = {},
): Promise<Map<string, string>> {
  const local = Object.entries(literals)
    .flatMap(([k, lit]) => blobsOf(lit, k))
    .filter((b) => !isRemoteUri(b.blob.uri));
  const distinct = new Map<string, { file: string; multipart: boolean; where: string }>();
  for (const { blob, where } of local) {
    const file = path.resolve(blob.uri);
    const multipart = isMultipart(blob);
    distinct.set(localBlobKey(file, multipart), { file, multipart, where });
  }
  for (const { file, multipart, where } of distinct.values()) await checkKind(file, multipart, where);
  const keys = [...distinct.keys()];
  const urls = await mapLimit([...distinct.values()], opts.concurrency ?? 4, ({ file, multipart }) =>
    multipart ? uploadDirectory(client, scope, file, opts) : uploadFile(client, scope, file, opts),
  );
  const uploaded = new Map(keys.map((k, i) => [k, urls[i] ?? ""]));
  const replaced = new Map<string, string>();
  for (const { blob } of local) {
    const multipart = isMultipart(blob);
    const native = uploaded.get(localBlobKey(path.resolve(blob.uri), multipart)) ?? "";
    replaced.set(localBlobKey(blob.uri, multipart), native);
    blob.uri = native;
  }
  return replaced;
}
