// Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, R2, GCS's XML API) through the AWS SDK v3, named by
// `s3://bucket/prefix/key` URIs, so every replica and every task runner with credentials reads the same blobs.
// A recorded MD5 (storeMd5) is object metadata `x-amz-meta-flytecontentmd5` (base64), as FlyteAdmin's stow writes it;
// head() reports it, else the ETag when it is a plain MD5 (not a multipart `…-N` one). Presigned PUTs bind Content-MD5
// (and that metadata header) into the signature. Checksums are only sent where an operation requires them
// (requestChecksumCalculation WHEN_REQUIRED): the SDK's default CRC32 trailers are not understood by every
// S3-compatible server, and Content-MD5 already protects every put.

import { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { invalidArgument } from "../errors.js";
import { joinKey, keyUnder, md5Mismatch, md5Of, notInStore, prefixUnder, sameMd5 } from "./blob-key.js";
import type { BlobInfo, BlobStore, PutOptions, SignedGet, SignedPut } from "./blob-store.js";
import { Md5Meter, meteredChunks } from "./md5-meter.js";

/** The metadata key FlyteAdmin (stow) records a content MD5 under; S3 lower-cases metadata keys. */
export const MD5_METADATA = "flytecontentmd5";
const MD5_HEADER = `x-amz-meta-${MD5_METADATA}`;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const MAX_COPY_BYTES = 5 * 2 ** 30;

export interface S3BlobStoreOptions {
  readonly bucket: string;
  /** Key prefix of every blob (no leading or trailing `/`; `""` for the whole bucket). */
  readonly prefix?: string;
  /** The service's URL (MinIO, Ceph, R2, GCS…); unset → AWS S3 of `region`. */
  readonly endpoint?: string;
  readonly region: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key` (MinIO and most self-hosted servers need it). */
  readonly forcePathStyle: boolean;
  /** Unset → the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, IMDS…). */
  readonly credentials?: NonNullable<S3ClientConfig["credentials"]>;
  /** Streamed writes upload parts of this size, this many at once: memory per write ≈ partSize × (queueSize + 1). */
  readonly partSize?: number;
  readonly queueSize?: number;
}

export class S3BlobStore implements BlobStore {
  readonly root: string;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? "";
    this.root = `s3://${this.bucket}${this.prefix === "" ? "" : `/${this.prefix}`}`;
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      followRegionRedirects: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }

  uri(...segments: string[]): string {
    return `${this.root}/${joinKey(segments)}`;
  }

  owns(uri: string): boolean {
    return keyUnder(this.root, uri) !== undefined;
  }

  async put(uri: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const Key = this.objectKey(uri);
    const md5 = md5Of(data);
    if (options.contentMd5 !== undefined && !sameMd5(md5, options.contentMd5)) throw md5Mismatch();
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key,
        Body: data,
        ContentLength: data.byteLength,
        ContentMD5: base64(md5),
        Metadata: options.storeMd5 === true ? { [MD5_METADATA]: base64(md5) } : undefined,
      }),
    );
  }

  async write(
    uri: string,
    body: Readable,
    options: PutOptions & { readonly maxBytes?: number } = {},
  ): Promise<BlobInfo> {
    const Key = this.objectKey(uri);
    const meter = new Md5Meter(options);
    const known = options.contentMd5;
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key,
        Body: Readable.from(meteredChunks(body, meter), { objectMode: false }),
        Metadata:
          options.storeMd5 === true && known !== undefined ? { [MD5_METADATA]: base64(known) } : undefined,
      },
      partSize: this.options.partSize ?? 8 * 2 ** 20,
      queueSize: this.options.queueSize ?? 2,
      leavePartsOnError: false,
    });
    // A refusal (size, MD5) fails the body stream before the single PUT or the multipart completion is sent, and the
    // Upload aborts any multipart upload it started: nothing is stored. The refusal is the error, whatever else failed.
    const result = await upload.done().catch((err: unknown) => {
      throw meter.refusal ?? err;
    });
    const info = meter.finish();
    if (options.storeMd5 === true && known === undefined && etagMd5(result.ETag) !== hex(info.contentMd5)) {
      await this.recordMd5(Key, info);
    }
    return info;
  }

  async get(uri: string): Promise<Uint8Array | undefined> {
    const Key = this.objectKey(uri);
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key })).catch(orMissing);
    return out === undefined ? undefined : await out.Body?.transformToByteArray();
  }

  async read(uri: string): Promise<Readable | undefined> {
    const Key = this.objectKey(uri);
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key })).catch(orMissing);
    return out?.Body as Readable | undefined;
  }

  async head(uri: string): Promise<BlobInfo | undefined> {
    const Key = this.objectKey(uri);
    const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })).catch(orMissing);
    if (out === undefined) return undefined;
    const size = out.ContentLength ?? 0;
    const recorded = parseMd5(out.Metadata?.[MD5_METADATA]);
    const etag = etagMd5(out.ETag);
    const contentMd5 = recorded ?? (etag === undefined ? undefined : Buffer.from(etag, "hex"));
    return contentMd5 === undefined ? { size } : { size, contentMd5 };
  }

  async list(
    prefix: string,
    options: { readonly limit?: number } = {},
  ): Promise<{ readonly uri: string; readonly size: number }[]> {
    const rest = prefixUnder(this.root, prefix);
    if (rest === undefined) throw notInStore(prefix);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const found: { uri: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix === "" ? rest : `${this.prefix}/${rest}`,
          ContinuationToken: token,
          MaxKeys: Math.min(1000, limit - found.length),
        }),
      );
      for (const object of page.Contents ?? []) {
        const uri = `s3://${this.bucket}/${object.Key ?? ""}`;
        if (keyUnder(this.root, uri) !== undefined && found.length < limit)
          found.push({ uri, size: object.Size ?? 0 });
      }
      token = page.IsTruncated === true && found.length < limit ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found;
  }

  /** A page of keys (at most 1,000, what one DeleteObjects takes) at a time, until none is left. */
  async deleteUnder(dirUri: string): Promise<void> {
    for (;;) {
      const page = await this.list(`${dirUri}/`, { limit: 1000 });
      if (page.length === 0) return;
      const out = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: page.map((b) => ({ Key: this.objectKey(b.uri) })), Quiet: true },
        }),
      );
      const failed = out.Errors?.[0];
      if (failed !== undefined)
        throw new Error(`deleting ${failed.Key ?? "a blob"} failed: ${failed.Message}`);
    }
  }

  async signPut(uri: string, options: PutOptions & { readonly expiresInMs: number }): Promise<SignedPut> {
    const Key = this.objectKey(uri);
    const md5 = options.contentMd5 === undefined ? undefined : base64(options.contentMd5);
    const metadata = options.storeMd5 === true && md5 !== undefined ? { [MD5_METADATA]: md5 } : undefined;
    const command = new PutObjectCommand({ Bucket: this.bucket, Key, ContentMD5: md5, Metadata: metadata });
    const signed = await this.presign(command, options.expiresInMs, new Set([MD5_HEADER]));
    const headers: Record<string, string> = {};
    if (md5 !== undefined) headers["Content-MD5"] = md5;
    if (metadata !== undefined) headers[MD5_HEADER] = metadata[MD5_METADATA];
    return { ...signed, headers };
  }

  async signGet(uri: string, options: { readonly expiresInMs: number }): Promise<SignedGet> {
    const Key = this.objectKey(uri);
    return this.presign(new GetObjectCommand({ Bucket: this.bucket, Key }), options.expiresInMs);
  }

  /** S3 writes are durable once acknowledged. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(uri: string): string {
    const key = keyUnder(this.root, uri);
    if (key === undefined) throw notInStore(uri);
    return this.prefix === "" ? key : `${this.prefix}/${key}`;
  }

  private async presign(
    command: PutObjectCommand | GetObjectCommand,
    expiresInMs: number,
    unhoistableHeaders?: Set<string>,
  ): Promise<SignedGet> {
    const expiresIn = Math.max(1, Math.ceil(expiresInMs / 1000));
    if (expiresIn > MAX_PRESIGN_SECONDS)
      throw invalidArgument("S3 presigned URLs cannot last more than 7 days");
    // X-Amz-Date has whole seconds: sign at a whole second so expiresAt is exactly when S3 stops honouring the URL.
    const signingDate = new Date(Math.floor(Date.now() / 1000) * 1000);
    const url = await getSignedUrl(this.client, command, {
      expiresIn,
      signingDate,
      ...(unhoistableHeaders === undefined ? {} : { unhoistableHeaders }),
    });
    return { url, expiresAt: new Date(signingDate.getTime() + expiresIn * 1000) };
  }

  /** Records the MD5 of a stored object as metadata (a copy onto itself; S3 copies up to 5 GiB in one request). */
  private async recordMd5(Key: string, info: BlobInfo & { readonly contentMd5: Uint8Array }): Promise<void> {
    if (info.size > MAX_COPY_BYTES) return;
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key,
        CopySource: `${this.bucket}/${encodeURIComponent(Key).replace(/%2F/g, "/")}`,
        MetadataDirective: "REPLACE",
        Metadata: { [MD5_METADATA]: base64(info.contentMd5) },
      }),
    );
  }
}

const base64 = (md5: Uint8Array): string => Buffer.from(md5).toString("base64");
const hex = (md5: Uint8Array): string => Buffer.from(md5).toString("hex");

/** The MD5 (hex) an ETag is, when it is one: multipart ETags (`"<hex>-<parts>"`) are not. */
function etagMd5(etag: string | undefined): string | undefined {
  const value = etag?.replace(/^W\//, "").replace(/"/g, "").toLowerCase();
  return value !== undefined && /^[0-9a-f]{32}$/.test(value) ? value : undefined;
}

/** A recorded MD5: base64 (as stow writes it) or hex. */
function parseMd5(value: string | undefined): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (/^[0-9a-fA-F]{32}$/.test(value)) return Buffer.from(value, "hex");
  const raw = Buffer.from(value, "base64");
  return raw.byteLength === 16 ? raw : undefined;
}

/** undefined for a missing object, the error otherwise (a missing bucket is a configuration error, not a miss). */
function orMissing(err: unknown): undefined {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === "NoSuchBucket") throw err;
  if (e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404)
    return undefined;
  throw err;
}
