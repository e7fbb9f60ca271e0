// Content digests of local files and directories, as flytekit names uploads: a file's MD5 (one streamed pass, never
// the whole file in memory), and a directory's files under one root named base32(MD5 of the files' MD5s in path
// order) — flytekit's FlyteFS rule, so the same tree always lands at the same place (task-contract.md §2.4).
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface FileDigest {
  readonly md5: Buffer;
  readonly size: number;
}

/** One file of a directory: its path, its key under the directory (`/`-separated) and its digest. */
export interface DirectoryFile extends FileDigest {
  readonly path: string;
  readonly key: string;
}

/** The MD5 and size of a file, read as a stream. */
export async function digestFile(file: string): Promise<FileDigest> {
  const hash = createHash("md5");
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { md5: hash.digest(), size };
}

/** RFC 4648 base32 (upper case, `=` padded), as Python's b32encode and Go's StdEncoding write it. */
export function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, "=");
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The regular files under `dir` (recursively, in key order) with their digests; symbolic links are skipped, as
 * flytekit skips them. Digests are computed `concurrency` files at a time.
 */
export async function digestDirectory(dir: string, concurrency = 4): Promise<DirectoryFile[]> {
  const found: { path: string; key: string }[] = [];
  const walk = async (at: string, prefix: string): Promise<void> => {
    for (const entry of await fs.promises.readdir(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      const key = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) await walk(full, key);
      else if (entry.isFile()) found.push({ path: full, key });
    }
  };
  await walk(dir, "");
  found.sort(byKey);
  return mapLimit(found, concurrency, async (f) => ({ ...f, ...(await digestFile(f.path)) }));
}

/** flytekit's filename_root of a directory upload: base32 of the MD5 of its files' MD5s, in key order. */
export function directoryRoot(files: readonly FileDigest[]): string {
  const hash = createHash("md5");
  for (const f of files) hash.update(f.md5);
  return base32(hash.digest());
}

/**
 * `fn` over `items`, at most `limit` at a time, results in order. After a failure no new item starts; once the
 * running ones have ended, the first failure is thrown.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  const settled = await Promise.allSettled(lanes);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return out;
}
