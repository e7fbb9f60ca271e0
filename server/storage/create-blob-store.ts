// Chooses the blob store the configuration names: the local directory (default `<home>/blobs`) or S3-compatible
// object storage. S3 credentials are not configuration: the AWS SDK reads them itself (AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE and ~/.aws, web identity, container and instance roles).
import type { PetrelConfig } from "../config.js";
import type { BlobStore } from "./blob-store.js";
import { LocalBlobStore } from "./local-blob-store.js";
import { S3BlobStore } from "./s3-blob-store.js";
import { parseStorageUrl } from "./storage-url.js";
import type { UrlSigner } from "./url-signer.js";

export type StorageConfig = Pick<
  PetrelConfig,
  "storageUrl" | "storageEndpoint" | "storageRegion" | "storagePathStyle"
>;

/** The store of `config.storageUrl`; `signer` signs the local store's URLs (S3 presigns its own). */
export function createBlobStore(config: StorageConfig, signer: UrlSigner): BlobStore {
  const location = parseStorageUrl(config.storageUrl);
  if (location === undefined) throw new Error(`invalid storage URL ${config.storageUrl}`);
  if (location.kind === "file") return new LocalBlobStore(location.dir, signer);
  return new S3BlobStore({
    bucket: location.bucket,
    prefix: location.prefix,
    region: config.storageRegion,
    forcePathStyle: config.storagePathStyle,
    ...(config.storageEndpoint === undefined ? {} : { endpoint: config.storageEndpoint }),
  });
}
