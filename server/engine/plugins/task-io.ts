// Where a container task finds its data and leaves its outputs. Inputs are copied into the attempt's scratch
// directory (inputs.pb, inputs.json, one file per input). Outputs go to the attempt's output directory in the blob
// store and raw data to its raw-output sandbox, both kept: with the local store the task writes there directly (its
// paths are the store's files); with an object store a flytekit task gets the s3:// prefixes and writes them itself,
// while a raw container that reads and writes files (data_config) gets local directories whose outputs are uploaded
// after it exits. Blob URIs cross the boundary translated: a local store's file:// URIs are paths to the task.
import fs from "node:fs";
import path from "node:path";
import type { Container } from "../../../gen/flyteidl/core/tasks_pb.js";
import type { BlobStore } from "../../storage/blob-store.js";

/** The attempt's places in the blob store. */
export interface TaskIo {
  readonly store: BlobStore;
  /** The node's inputs.pb. */
  readonly inputUri: string;
  /** The attempt's output directory (`{{.outputPrefix}}`). */
  readonly outputPrefix: string;
  /** The attempt's raw-output sandbox (`{{.rawOutputDataPrefix}}`). */
  readonly rawPrefix: string;
  /** The checkpoint the attempt resumes from (the previous attempt's, or the recovered node's), if any. */
  readonly prevCheckpointPrefix?: string;
  /** `{{.perRetryUniqueKey}}`. */
  readonly uniqueKey: string;
}

/** The directories (or prefixes) as the task gets them. */
export interface AttemptDirs {
  readonly input: string;
  readonly output: string;
  readonly raw: string;
}

/** The local path of a file:// URI (the local store's are unencoded: file://<path>), else undefined. */
export function localPath(uri: string): string | undefined {
  return uri.startsWith("file://") ? uri.slice("file://".length) : undefined;
}

/** A blob URI as the task sees it (a local store's files as paths). */
export const toTaskUri = (uri: string): string => localPath(uri) ?? uri;

/** A URI a task returned, as the store names it (a path into a local store becomes its file:// URI). */
function fromLocalStore(store: BlobStore, value: string): string {
  if (!path.isAbsolute(value)) return value;
  const uri = `file://${path.resolve(value)}`; // the local store names its files file://<path>, unencoded
  return store.owns(uri) ? uri : value;
}

/** What the task writes its outputs into, and how they are read back and kept. */
export interface OutputPlace {
  readonly dirs: AttemptDirs;
  /** A file the task left under its output prefix (outputs.pb, outputs.json, one file per output). */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Whether the task left that file. */
  exists(name: string): Promise<boolean>;
  /** After a successful run: outputs and raw data written locally are uploaded under their prefixes. */
  keep(): Promise<void>;
  /** A blob URI in the task's outputs, as the store names it. */
  fromTask(value: string): string;
  /** Makes the local directories among `dirs` that are wanted (the others are left for a task that never sees them). */
  make(wanted: (dir: string) => boolean): void;
}

async function uploadDir(store: BlobStore, dir: string, prefix: string): Promise<void> {
  for (const entry of await fs.promises.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, file).split(path.sep);
    await store.put(`${prefix}/${rel.join("/")}`, await fs.promises.readFile(file));
  }
}

/**
 * What a local directory the task wrote holds: listed once (after the task ended), so the files it did not write (most
 * of error.pb, futures.pb, outputs.pb, outputs.json, deck.html) are known absent without a call each.
 */
function localFiles(dir: string) {
  let names: Set<string> | undefined;
  const listed = (name: string) => {
    if (name.includes("/")) return true; // not a plain name: looked up directly
    try {
      names ??= new Set(fs.readdirSync(dir));
    } catch {
      names = new Set();
    }
    return names.has(name);
  };
  return {
    read: async (name: string) =>
      listed(name) ? fs.promises.readFile(path.join(dir, name)).catch(() => undefined) : undefined,
    exists: async (name: string) =>
      listed(name) && fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.isFile() === true,
  };
}

/** Makes directories synchronously: a few small file-system calls take less than a trip through libuv's pool each. */
const makeDirs = (dirs: readonly string[], wanted: (dir: string) => boolean) => {
  for (const dir of dirs) if (wanted(dir)) fs.mkdirSync(dir, { recursive: true });
};

/** The attempt's places: `scratch` is its own scratch directory (removed after the attempt). Nothing is made yet. */
export function outputPlace(io: TaskIo, c: Container, scratch: string): OutputPlace {
  const input = path.join(scratch, "inputs");
  const localOutput = localPath(io.outputPrefix);
  const localRaw = localPath(io.rawPrefix);
  if (localOutput !== undefined && localRaw !== undefined) {
    return {
      dirs: { input, output: localOutput, raw: localRaw },
      ...localFiles(localOutput),
      keep: async () => undefined,
      fromTask: (value) => fromLocalStore(io.store, value),
      make: (wanted) => makeDirs([input, localOutput, localRaw], wanted),
    };
  }
  if (c.dataConfig?.enabled !== true) {
    // A flytekit task writes to the object store itself.
    return {
      dirs: { input, output: io.outputPrefix, raw: io.rawPrefix },
      read: (name) => io.store.get(`${io.outputPrefix}/${name}`),
      exists: async (name) => (await io.store.head(`${io.outputPrefix}/${name}`)) !== undefined,
      keep: async () => undefined,
      fromTask: (value) => value,
      make: (wanted) => makeDirs([input], wanted),
    };
  }
  const output = path.join(scratch, "outputs");
  const raw = path.join(scratch, "raw");
  return {
    dirs: { input, output, raw },
    ...localFiles(output),
    keep: async () => {
      await uploadDir(io.store, output, io.outputPrefix);
      await uploadDir(io.store, raw, io.rawPrefix);
    },
    // A file the task left in its local raw directory is kept at the same place under the raw-output prefix.
    fromTask: (value) =>
      path.isAbsolute(value) && value.startsWith(`${raw}${path.sep}`)
        ? `${io.rawPrefix}/${path.relative(raw, value).split(path.sep).join("/")}`
        : value,
    // Uploaded after the task: made whatever the task sees.
    make: () => makeDirs([input, output, raw], () => true),
  };
}

/** A file's (or a directory's files') bytes into the store under `uri` (streamed). */
async function upload(store: BlobStore, local: string, uri: string): Promise<void> {
  const stat = await fs.promises.stat(local);
  if (stat.isDirectory()) {
    await uploadDir(store, local, uri);
    return;
  }
  await store.write(uri, fs.createReadStream(local));
}

/**
 * data_config's contract for files (Flyte's copilot): a blob input of the store is downloaded to `<input dir>/<var>`
 * (a multipart blob as a directory); one the store does not hold is left as its URI, as text.
 */
export async function downloadBlobInput(
  io: TaskIo,
  uri: string,
  multipart: boolean,
  local: string,
): Promise<boolean> {
  if (!io.store.owns(uri)) return false;
  if (!multipart) {
    const body = await io.store.read(uri);
    if (body === undefined) return false;
    await fs.promises.rm(local, { force: true });
    await new Promise<void>((resolve, reject) =>
      body.pipe(fs.createWriteStream(local)).on("finish", resolve).on("error", reject),
    );
    return true;
  }
  const prefix = uri.endsWith("/") ? uri : `${uri}/`;
  await fs.promises.rm(local, { force: true, recursive: true });
  await fs.promises.mkdir(local, { recursive: true });
  for (const blob of await io.store.list(prefix)) {
    const file = path.join(local, ...blob.uri.slice(prefix.length).split("/"));
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, (await io.store.get(blob.uri)) ?? new Uint8Array());
  }
  return true;
}

/**
 * data_config's contract for files: a blob output is the file (or directory) the task left at `<output dir>/<var>`;
 * it is kept under the attempt's raw-output prefix, whose URI the output literal carries.
 */
export async function keepBlobOutput(io: TaskIo, local: string, name: string): Promise<string> {
  const uri = `${io.rawPrefix}/${name}`;
  await upload(io.store, local, uri);
  return uri;
}
