// The default blob store: files under one directory (`<PETREL_HOME>/blobs`), named by `file://` URIs that are the
// files' absolute paths (`file:///srv/petrel/blobs/a/b.pb`, not percent-encoded, as flytekit's fsspec reads them).
// Writes are atomic and durable (durable-file.ts); a recorded MD5 (storeMd5) lives in a sidecar file (md5-sidecars.ts).
// Signed URLs come from an injected UrlSigner (Petrel's HTTP port serves them; signed-urls.ts).
import { type FileHandle, mkdir, open, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { type AppError, failedPrecondition } from "../errors.js";
import {
  joinKey,
  keyUnder,
  md5Mismatch,
  md5Of,
  notInStore,
  prefixUnder,
  RESERVED_PREFIX,
  sameMd5,
} from "./blob-key.js";
import type { BlobInfo, BlobStore, PutOptions, SignedGet, SignedPut } from "./blob-store.js";
import { replaceFileDurably, TEMP_PREFIX, writeAll } from "./durable-file.js";
import { FileBody } from "./file-body.js";
import { Syncer } from "./fs-syncer.js";
import { HashedWriter } from "./hashed-write.js";
import { Md5Sidecars } from "./md5-sidecars.js";
import { SmallFileWriter } from "./small-file-writer.js";
import type { UrlSigner } from "./url-signer.js";

export class LocalBlobStore implements BlobStore {
  private syncer: Syncer | undefined;
  /** Streamed writes: large writes, hashed off the event loop. */
  private readonly writer = new HashedWriter();
  /** Small blobs (the engine's): written in batches on a worker thread. */
  private readonly small = new SmallFileWriter(TEMP_PREFIX);
  private readonly sidecars: Md5Sidecars;
  readonly root: string;

  /** The store's directory (absolute, normalized). */
  readonly dir: string;

  /** `dir` is the store's absolute directory; it is created on the first write. */
  constructor(
    dir: string,
    private readonly signer: UrlSigner,
  ) {
    if (!path.isAbsolute(dir) || path.resolve(dir) === "/") {
      throw new Error(`the local blob store needs an absolute directory other than / (got ${dir})`);
    }
    this.dir = path.resolve(dir);
    this.root = `file://${this.dir}`;
    this.sidecars = new Md5Sidecars(this.dir);
  }

  uri(...segments: string[]): string {
    return `${this.root}/${joinKey(segments)}`;
  }

  owns(uri: string): boolean {
    return keyUnder(this.root, uri) !== undefined;
  }

  /** The key (`a/b/c`) of a URI of this store, or undefined. */
  keyOf(uri: string): string | undefined {
    return keyUnder(this.root, uri);
  }

  async put(uri: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const key = this.requireKey(uri);
    const wanted = options.contentMd5 !== undefined || options.storeMd5 === true;
    const md5 = wanted ? md5Of(data) : new Uint8Array(); // hashed only when checked or recorded
    if (options.contentMd5 !== undefined && !sameMd5(md5, options.contentMd5)) throw md5Mismatch();
    await this.replace(
      key,
      options.storeMd5 === true,
      async (handle) => {
        await writeAll(handle, data);
        return { size: data.byteLength, contentMd5: md5 };
      },
      options.durable !== false,
    );
  }

  /** Written as `put` with `durable: false` writes them, in one batch off the event loop (small-file-writer.ts). */
  async putSmall(
    blobs: readonly { readonly uri: string; readonly data: Uint8Array }[],
  ): Promise<(Error | undefined)[]> {
    const errors: (Error | undefined)[] = [];
    const batch: { at: number; key: string; path: string; data: Uint8Array }[] = [];
    for (const [at, { uri, data }] of blobs.entries()) {
      const key = keyUnder(this.root, uri);
      if (key === undefined) errors[at] = notInStore(uri);
      // An old MD5 sidecar is removed as put removes it (never the engine's keys).
      else if (await this.sidecars.mayHave(key))
        errors[at] = await this.put(uri, data, { durable: false }).then(
          () => undefined,
          (err: unknown) => err as Error,
        );
      else batch.push({ at, key, path: this.fileOf(key), data });
    }
    const failures = await this.small.write(batch);
    for (const [i, f] of failures.entries()) {
      const b = batch[i];
      if (f === undefined || b === undefined) continue;
      const err = Object.assign(new Error(`writing blob [${b.key}]: ${f.message}`), { code: f.code });
      errors[b.at] = nameClash(err, b.key) ?? err;
    }
    return blobs.map((_, at) => errors[at]);
  }

  async write(
    uri: string,
    body: Readable,
    options: PutOptions & { readonly maxBytes?: number } = {},
  ): Promise<BlobInfo> {
    const key = this.requireKey(uri);
    return this.replace(key, options.storeMd5 === true, (handle) => this.writer.write(body, handle, options));
  }

  async get(uri: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.fileOf(this.requireKey(uri)));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async read(uri: string): Promise<Readable | undefined> {
    const file = this.fileOf(this.requireKey(uri));
    const handle = await open(file, "r").catch((err: unknown) => {
      if (isMissing(err)) return undefined;
      throw err;
    });
    if (handle === undefined) return undefined;
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      return undefined;
    }
    // 1 MiB reads (~2x faster over HTTP than the 64 KiB default), into reused buffers when sent to a socket.
    return new FileBody(handle, info.size);
  }

  async head(uri: string): Promise<BlobInfo | undefined> {
    const key = this.requireKey(uri);
    const info = await stat(this.fileOf(key), { bigint: true }).catch((err: unknown) => {
      if (isMissing(err)) return undefined;
      throw err;
    });
    if (info === undefined || !info.isFile()) return undefined;
    const size = Number(info.size);
    const contentMd5 = await this.sidecars.md5Of(key, info.ino, size);
    return contentMd5 === undefined ? { size } : { size, contentMd5 };
  }

  async list(
    prefix: string,
    options: { readonly limit?: number } = {},
  ): Promise<{ readonly uri: string; readonly size: number }[]> {
    const rest = prefixUnder(this.root, prefix);
    if (rest === undefined) throw notInStore(prefix);
    const cut = rest.lastIndexOf("/");
    const dirKey = rest.slice(0, cut + 1);
    const found: { uri: string; size: number }[] = [];
    await this.walk(dirKey, rest.slice(cut + 1), found, options.limit ?? Number.POSITIVE_INFINITY);
    return found.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async deleteUnder(dirUri: string): Promise<void> {
    const key = this.requireKey(dirUri);
    const isDirectory = await stat(this.fileOf(key)).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDirectory) return;
    await rm(this.fileOf(key), { recursive: true, force: true });
    await this.sidecars.removeUnder(key);
  }

  async signPut(uri: string, options: PutOptions & { readonly expiresInMs: number }): Promise<SignedPut> {
    return this.signer.signPut(this.requireKey(uri), options);
  }

  async signGet(uri: string, options: { readonly expiresInMs: number }): Promise<SignedGet> {
    return this.signer.signGet(this.requireKey(uri), options);
  }

  /** One syncfs of the store's file system (coreutils `sync -f`): every write before it is durable after it. */
  async flush(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.syncer ??= new Syncer(this.dir);
    await this.syncer.sync();
  }

  async close(): Promise<void> {
    this.syncer?.close();
    this.syncer = undefined;
    await this.writer.close();
    await this.small.close();
  }

  private requireKey(uri: string): string {
    const key = keyUnder(this.root, uri);
    if (key === undefined) throw notInStore(uri);
    return key;
  }

  private fileOf(key: string): string {
    return path.join(this.dir, ...key.split("/"));
  }

  /**
   * Replaces the blob at `key` with what `fill` writes (refusing it by throwing). With `storeMd5` its MD5 is recorded
   * in the sidecar before the blob is renamed into place; without, any old sidecar is removed afterwards.
   */
  private async replace(
    key: string,
    storeMd5: boolean,
    fill: (handle: FileHandle) => Promise<BlobInfo & { readonly contentMd5: Uint8Array }>,
    durable = true,
  ): Promise<BlobInfo> {
    const write = replaceFileDurably(
      this.fileOf(key),
      fill,
      async (temp, filled) => {
        if (storeMd5) await this.sidecars.record(key, temp, filled.contentMd5, filled.size);
      },
      durable,
    );
    const result = await write.catch((err: unknown) => {
      throw nameClash(err, key) ?? err;
    });
    if (!storeMd5) await this.sidecars.remove(key);
    return result;
  }

  /**
   * Collects the files under the directory `dirKey` (`""` or `a/b/`) whose first name starts with `namePrefix`, until
   * `found` holds `limit`.
   */
  private async walk(
    dirKey: string,
    namePrefix: string,
    found: { uri: string; size: number }[],
    limit: number,
  ): Promise<void> {
    const dir = path.join(this.dir, ...dirKey.split("/").filter((s) => s !== ""));
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
      if (isMissing(err)) return [];
      throw err;
    });
    for (const entry of entries) {
      if (found.length >= limit) return;
      if (!entry.name.startsWith(namePrefix) || entry.name.startsWith(RESERVED_PREFIX)) continue;
      const key = `${dirKey}${entry.name}`;
      if (entry.isDirectory()) {
        await this.walk(`${key}/`, "", found, limit);
      } else if (entry.isFile() && keyUnder(this.root, `${this.root}/${key}`) !== undefined) {
        const size = await stat(path.join(dir, entry.name)).then(
          (s) => s.size,
          () => undefined,
        );
        if (size !== undefined) found.push({ uri: `${this.root}/${key}`, size });
      }
    }
  }
}

/** A blob where a directory is (or a file where a directory must be): S3 allows both, a filesystem does not. */
function nameClash(err: unknown, key: string): AppError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== "EISDIR" && code !== "ENOTDIR" && code !== "EEXIST") return undefined;
  return failedPrecondition(
    `blob [${key.slice(0, 100)}] clashes with a directory or a blob of the same name`,
  );
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}
