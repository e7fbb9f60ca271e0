// Where blobs live — what tasks read and write (inputs.pb, outputs.pb, error.pb, futures.pb, decks, files, offloaded
// literals) and what clients upload and download. One interface, two implementations chosen by configuration: the
// local filesystem under PETREL_HOME (file:// URIs, the default) and S3-compatible object storage (s3:// URIs).
// Every URI Petrel hands to a task or a client names a blob in its store and is readable there.
import type { Readable } from "node:stream";

/** What a store knows of a stored blob. */
export interface BlobInfo {
  readonly size: number;
  /** The content MD5 (raw 16 bytes) when the store knows it (recorded at upload, or the object's MD5 ETag). */
  readonly contentMd5?: Uint8Array;
}

/** A URL a client can PUT one blob to, with the headers the PUT must carry. */
export interface SignedPut {
  readonly url: string;
  /** Headers the client must send with the PUT (never Content-Length). */
  readonly headers: Readonly<Record<string, string>>;
  readonly expiresAt: Date;
}

export interface SignedGet {
  readonly url: string;
  readonly expiresAt: Date;
}

export interface PutOptions {
  /**
   * False: replaced atomically, but durable only after the next flush() (many writes, one flush: the blob
   * materializer's). Default true.
   */
  readonly durable?: boolean;
  /** The MD5 (raw 16 bytes) the body must have; a body with another MD5 is refused. */
  readonly contentMd5?: Uint8Array;
  /**
   * Record the MD5 with the blob (FlyteAdmin's add_content_md5_metadata), so head() reports it later. For signPut it
   * needs contentMd5 (the recorded value is bound into the URL, as FlyteAdmin's is); without one it is ignored.
   */
  readonly storeMd5?: boolean;
}

export interface BlobStore {
  /** The URI every blob of this store starts with: `file:///…/blobs` or `s3://bucket[/prefix]` (no trailing `/`). */
  readonly root: string;
  /**
   * The URI of a key under the root: segments joined with `/` (a segment may itself hold `/`-separated pieces). Every
   * piece must be a safe path segment (blob-key.ts: not empty, `.` or `..`, no NUL, control character or backslash,
   * no percent-encoded slash, backslash, NUL or dot segment, not starting with `.petrel`, ≤ 255 bytes), else it
   * throws InvalidArgument: caller-chosen names can never reach outside the root.
   */
  uri(...segments: string[]): string;
  /** Whether `uri` names a blob inside this store (no traversal out of the root). Every method below refuses a URI
   * the store does not own with InvalidArgument. */
  owns(uri: string): boolean;
  /**
   * Stores a blob (replacing any at `uri`, atomically); it is durable (survives a crash of this machine) when the
   * promise resolves. A `contentMd5` that is not the data's is refused with DataLoss, nothing stored.
   */
  put(uri: string, data: Uint8Array, options?: PutOptions): Promise<void>;
  /**
   * Stores a streamed blob without holding it in memory, and reports its size and MD5 (always known). Refused, with
   * nothing stored and any previous blob at `uri` untouched: past `maxBytes` (AppError ResourceExhausted), or a body
   * whose MD5 is not `contentMd5` (AppError DataLoss). A refusal stops reading `body` but does not destroy it: its
   * owner (an HTTP route) can still answer before closing the connection.
   */
  write(
    uri: string,
    body: Readable,
    options?: PutOptions & { readonly maxBytes?: number },
  ): Promise<BlobInfo>;
  /** The blob, or undefined when there is none. */
  get(uri: string): Promise<Uint8Array | undefined>;
  /** The blob as a stream, or undefined when there is none. */
  read(uri: string): Promise<Readable | undefined>;
  head(uri: string): Promise<BlobInfo | undefined>;
  /**
   * Every blob whose URI starts with `prefix`, with its size, in URI order. `prefix` is usually directory-like (ends in
   * `/`; `root + "/"` lists the store); a partial last segment matches as S3 prefixes do (`…/a` lists `…/ab/c`).
   * With `limit`, the store stops looking once it found that many: at most `limit` blobs come back (which ones, when
   * there are more, is not specified), so a caller can bound the work and memory of a large prefix.
   */
  list(
    prefix: string,
    options?: { readonly limit?: number },
  ): Promise<{ readonly uri: string; readonly size: number }[]>;
  /**
   * Deletes every blob under the directory `dirUri` (a URI of the store without a trailing `/`): what
   * `list(dirUri + "/")` names (the local store removes the directories too). Nothing there is not an error.
   */
  deleteUnder(dirUri: string): Promise<void>;
  /** A URL to PUT the blob to until `expiresInMs` from now (S3: presigned; local: Petrel's HTTP port, signed). */
  signPut(uri: string, options: PutOptions & { readonly expiresInMs: number }): Promise<SignedPut>;
  /** A URL to GET the blob from until `expiresInMs` from now. */
  signGet(uri: string, options: { readonly expiresInMs: number }): Promise<SignedGet>;
  /**
   * Stores small blobs as one batch, as `put` with `durable: false` would (flush() makes them durable); resolves with
   * each one's error, undefined when it was stored. Left out by stores without a cheaper way than `put` one by one.
   */
  putSmall?(
    blobs: readonly { readonly uri: string; readonly data: Uint8Array }[],
  ): Promise<(Error | undefined)[]>;
  /** Makes every write made with `durable: false` durable (a no-op where writes always are). */
  flush(): Promise<void>;
  /** Releases what the store holds (S3 client sockets). */
  close(): Promise<void>;
}
