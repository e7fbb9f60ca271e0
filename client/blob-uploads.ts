// Local files and directories into the server's blob store through DataProxyService, as flytekit uploads them: a
// file's MD5 in a first streamed pass, CreateUploadLocation (content_md5, filename, add_content_md5_metadata), then a
// streamed PUT to the signed URL. A directory's files go under one filename_root (file-digest.ts); nothing else is
// written beside them (the server lists a directory itself). The same content always gets the same location, so
// re-uploading succeeds.
import fs from "node:fs";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import type { Literal } from "../gen/flyteidl/core/literals_pb.js";
import { fetchListing } from "./blob-listing.js";
import { blobsOf, isMultipart, isRemoteUri } from "./blob-literals.js";
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
  /** The local file. */
  readonly file: string;
  readonly md5: Buffer;
  readonly size: number;
  readonly filename: string;
  readonly filenameRoot?: string;
}

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
    p.file,
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
  return put(client, scope, { file, md5, size, filename: path.basename(file) }, opts.signal);
}

/**
 * Uploads every file under `dir` (symbolic links skipped); the directory's native URL. A directory is named by its
 * files' MD5s alone (as flytekit names it): one holding the same contents under other names may already be there,
 * and is refused before anything is added to it, since the two would then be one. An empty directory is refused: a
 * blob store keeps no directory without files.
 */
export async function uploadDirectory(
  client: DataProxyClient,
  scope: UploadScope,
  dir: string,
  opts: TransferOptions = {},
): Promise<string> {
  const files = await digestDirectory(dir, opts.concurrency ?? 4);
  const first = files[0];
  if (first === undefined)
    throw new TypeMismatchError(`directory ${dir} has no files: a blob store keeps no empty directory`);
  const root = directoryRoot(files);
  // Where the directory goes: the place of its first file, less that file's key.
  const probe = await client.createUploadLocation({
    project: scope.project,
    domain: scope.domain,
    contentMd5: first.md5,
    filename: first.key,
    filenameRoot: root,
  });
  const dirUrl = probe.nativeUrl.endsWith(`/${first.key}`)
    ? probe.nativeUrl.slice(0, -first.key.length - 1)
    : undefined;
  if (dirUrl === undefined)
    throw new Error(`directory ${dir}: the server placed its file ${first.key} apart (${probe.nativeUrl})`);
  const ours = new Set(files.map((f) => f.key));
  const there = await fetchListing(client, dirUrl, opts.signal);
  const stranger = there?.files.find((f) => !ours.has(f.key));
  if (stranger !== undefined)
    throw new EntityAlreadyExistsError(
      Code.AlreadyExists,
      `directory ${dir}: a different directory with the same file contents under other names was uploaded to ${dirUrl} before (it holds ${stranger.key}; a directory's place is named by its files' MD5s alone, as flytekit names it), so this one cannot be stored there`,
      undefined,
    );
  const urls = await mapLimit(files, opts.concurrency ?? 4, (f: DirectoryFile) =>
    put(
      client,
      scope,
      { file: f.path, md5: f.md5, size: f.size, filename: f.key, filenameRoot: root },
      opts.signal,
    ),
  );
  const stray = urls.find((u, i) => u !== `${dirUrl}/${files[i]?.key}`);
  if (stray !== undefined) throw new Error(`directory ${dir}: the server placed its files apart (${stray})`);
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
