// A directory's listing, kept beside it: nothing in DataProxyService lists the blobs under a prefix, so a directory
// this client (or its Worker) uploads gets `<directory URI>.listing/files.json` naming every file with its size and
// MD5, and a download of a directory reads that. Directories written by other writers (container tasks, flytekit)
// have no listing and cannot be downloaded through signed URLs until the server can list a prefix.

export const LISTING_SUFFIX = ".listing";
export const LISTING_FILE = "files.json";
const FORMAT = "petrel.directory-listing/v1";

export interface ListedFile {
  /** `/`-separated, relative to the directory. */
  readonly key: string;
  readonly size: number;
  readonly md5: Buffer;
}

/** The URI of the listing of the directory at `uri`. */
export const listingUri = (uri: string): string =>
  `${uri.replace(/\/+$/, "")}${LISTING_SUFFIX}/${LISTING_FILE}`;

/** The filename_root of the listing of a directory uploaded under `root`. */
export const listingRoot = (root: string): string => `${root}${LISTING_SUFFIX}`;

export function encodeListing(files: readonly ListedFile[]): Buffer {
  const body = {
    format: FORMAT,
    files: files.map((f) => ({ key: f.key, size: f.size, md5: f.md5.toString("hex") })),
  };
  return Buffer.from(`${JSON.stringify(body)}\n`);
}

/** A key that stays inside the directory it is joined to: no empty, `.` or `..` segments, no `\` or NUL. */
export const isSafeKey = (key: string): boolean =>
  key !== "" && key.split("/").every((s) => s !== "" && s !== "." && s !== ".." && !/[\\\0]/.test(s));

/** The files of a listing; throws naming the problem when it is not one (or names a key outside the directory). */
export function parseListing(text: string, where: string): ListedFile[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not a directory listing (not JSON)`);
  }
  const b = body as { format?: unknown; files?: unknown };
  if (b.format !== FORMAT || !Array.isArray(b.files))
    throw new Error(`${where} is not a directory listing (format ${JSON.stringify(b.format)})`);
  return b.files.map((f: { key?: unknown; size?: unknown; md5?: unknown }) => {
    if (typeof f.key !== "string" || !isSafeKey(f.key))
      throw new Error(`${where} names an unsafe file key ${JSON.stringify(f.key)}`);
    if (
      typeof f.size !== "number" ||
      !Number.isSafeInteger(f.size) ||
      f.size < 0 ||
      typeof f.md5 !== "string" ||
      !/^[0-9a-f]{32}$/.test(f.md5)
    )
      throw new Error(`${where}: bad entry for ${f.key}`);
    return { key: f.key, size: f.size, md5: Buffer.from(f.md5, "hex") };
  });
}
