// The signer the local blob store uses for signPut/signGet. Agreed between the blob-store and data-proxy work:
//   - LocalBlobStore takes a UrlSigner in its constructor (`createBlobStore(config, signer)`), and its
//     signPut(uri, o) / signGet(uri, o) return `signer.signPut(key, o)` / `signer.signGet(key, o)`, where `key` is
//     the blob's path under the store root, segments joined with `/`, not percent-encoded (e.g. `p/d/ROOT/a.txt`).
//   - The URLs point at Petrel's HTTP port (`server/transport/blob-routes.ts`), which verifies them and calls
//     `store.write(store.uri(...key.split("/")), body, { contentMd5, storeMd5, maxBytes })` / `store.read(uri)`.
//   - store.write rejects with an AppError (server/errors.ts): ResourceExhausted past maxBytes, DataLoss when the body's
//     MD5 differs from `contentMd5`; nothing is stored either way. The route answers 413 and 400 for them.
// The implementation is HmacUrlSigner in signed-urls.ts.
import type { PutOptions, SignedGet, SignedPut } from "./blob-store.js";

export interface UrlSigner {
  /** A URL to PUT the blob at `key` until `expiresInMs` from now; md5 and storeMd5 are bound into the signature. */
  signPut(key: string, options: PutOptions & { readonly expiresInMs: number }): SignedPut;
  /** A URL to GET the blob at `key` until `expiresInMs` from now. */
  signGet(key: string, options: { readonly expiresInMs: number }): SignedGet;
}
