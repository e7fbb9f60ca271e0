// The local store's recorded MD5s (storeMd5): a sidecar file per blob under `<store>/.petrel-md5/<key>` holding the
// MD5, the size and the inode of the blob it describes. The blob file is renamed into place after its sidecar, and a
// rename keeps the inode, so a sidecar is believed only while the blob is the file it was written for (a crash between
// the two renames, or a later overwrite without storeMd5, leaves it ignored).
import { readdir, readFile, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { RESERVED_PREFIX } from "./blob-key.js";
import { replaceFileDurably, writeAll } from "./durable-file.js";

const MD5_DIR = `${RESERVED_PREFIX}-md5`;

interface Md5Record {
  readonly md5: string;
  readonly size: number;
  readonly ino: string;
}

export class Md5Sidecars {
  /** The first key segments under which sidecars exist (read once, then kept up to date). */
  private tops: Set<string> | undefined;

  /** `dir`: the store's directory. */
  constructor(private readonly dir: string) {}

  /** Records the MD5 of the blob file `temp` (to be renamed to `key`'s file). */
  async record(key: string, temp: string, md5: Uint8Array, size: number): Promise<void> {
    const { ino } = await stat(temp, { bigint: true });
    const record: Md5Record = { md5: Buffer.from(md5).toString("base64"), size, ino: String(ino) };
    await replaceFileDurably(this.fileOf(key), (h) => writeAll(h, Buffer.from(JSON.stringify(record))));
    this.tops?.add(topOf(key));
  }

  /** The recorded MD5 of `key`'s blob, if its sidecar describes the blob as it is (`ino`, `size`). */
  async md5Of(key: string, ino: bigint, size: number): Promise<Uint8Array | undefined> {
    const record = await this.read(key);
    if (record === undefined || record.ino !== String(ino) || record.size !== size) return undefined;
    return Buffer.from(record.md5, "base64");
  }

  /** Whether a sidecar may exist for `key` (most keys, the engine's, never have one: nothing to remove for them). */
  async mayHave(key: string): Promise<boolean> {
    this.tops ??= new Set(await readdir(path.join(this.dir, MD5_DIR)).catch(() => []));
    return this.tops.has(topOf(key));
  }

  /** Removes `key`'s sidecar, if any (its blob was replaced without an MD5 to record). */
  async remove(key: string): Promise<void> {
    if (await this.mayHave(key)) await unlink(this.fileOf(key)).catch(() => {});
  }

  /** Removes the sidecars of every blob under the directory `key`. */
  async removeUnder(key: string): Promise<void> {
    await rm(this.fileOf(key), { recursive: true, force: true });
  }

  private fileOf(key: string): string {
    return path.join(this.dir, MD5_DIR, ...key.split("/"));
  }

  private async read(key: string): Promise<Md5Record | undefined> {
    try {
      const record = JSON.parse(await readFile(this.fileOf(key), "utf8")) as Partial<Md5Record>;
      if (
        typeof record.md5 !== "string" ||
        typeof record.size !== "number" ||
        typeof record.ino !== "string"
      ) {
        return undefined;
      }
      return record as Md5Record;
    } catch {
      return undefined;
    }
  }
}

const topOf = (key: string) => key.split("/")[0] ?? "";
