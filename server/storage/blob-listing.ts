// A directory's listing: what CreateDownloadLocation hands out for a URI that names no blob but has blobs under it
// (a multipart blob), served by the HTTP port at a signed `/api/v1/blob-listings/<directory key>` URL (signed-urls.ts)
// whichever the store. Its body, `application/json`, with `format` as its first member:
//   {"format":"petrel.blob-listing/v1","files":[{"key":"a/b.txt","size":12,"url":"<signed GET>"},…]}
// names every blob under the directory, in key order: its key relative to the directory (`/`-separated), its size in
// bytes and a signed GET of it (the store's signGet: Petrel's own URL for the local store, a presigned one for S3) that
// lasts as long as the listing's URL. A listing names at most MAX_LISTING_FILES blobs; a larger directory is refused
// as a whole (its files can still be downloaded one by one), so the server never holds more than that many.
import { AppError, Code, notFound } from "../errors.js";
import type { BlobStore } from "./blob-store.js";

export const BLOB_LISTING_FORMAT = "petrel.blob-listing/v1";
export const MAX_LISTING_FILES = 10_000;

export interface ListedBlob {
  readonly key: string;
  readonly size: number;
  readonly url: string;
}

/** Whether any blob lies under the directory `dirUri` (a URI of the store without a trailing `/`). */
export async function hasBlobsUnder(store: BlobStore, dirUri: string): Promise<boolean> {
  return (await store.list(`${dirUri}/`, { limit: 1 })).length > 0;
}

/**
 * The listing of the directory `dirUri` (a URI of the store without a trailing `/`) as its JSON text, its URLs valid
 * until `expiresAtMs`. NotFound when no blob lies under it; ResourceExhausted when more than `maxFiles` do.
 */
export async function listDirectory(
  store: BlobStore,
  dirUri: string,
  expiresAtMs: number,
  maxFiles = MAX_LISTING_FILES,
): Promise<string> {
  const prefix = `${dirUri}/`;
  const blobs = await store.list(prefix, { limit: maxFiles + 1 });
  if (blobs.length === 0) throw notFound("no blobs under this directory");
  if (blobs.length > maxFiles) {
    throw new AppError(
      Code.ResourceExhausted,
      `the directory holds more than ${maxFiles} blobs, the most one listing names; download its files one by one`,
    );
  }
  const files: ListedBlob[] = [];
  for (const blob of blobs) {
    const signed = await store.signGet(blob.uri, { expiresInMs: Math.max(1, expiresAtMs - Date.now()) });
    files.push({ key: blob.uri.slice(prefix.length), size: blob.size, url: signed.url });
  }
  return `${JSON.stringify({ format: BLOB_LISTING_FORMAT, files })}\n`;
}
