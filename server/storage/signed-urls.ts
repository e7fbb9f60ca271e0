// HMAC-SHA256 signed URLs for what Petrel's HTTP port serves itself: the local store's blobs (its signPut/signGet),
// `<public base>/api/v1/blobs/<key>?expires=<unix ms>[&md5=<hex>][&meta=1]&signature=<base64url>`, and directory
// listings of either store (`LIST`, storage/blob-listing.ts),
// `<public base>/api/v1/blob-listings/<directory key>?expires=<unix ms>&signature=<base64url>`. The method, the key,
// the expiry and, for a PUT, the content MD5 and whether it is recorded are all under the signature; a URL signed for
// one method (GET, PUT, LIST) is refused for any other. Verification is constant-time. The key comes from
// configuration, else it is generated once and kept (mode 0600) in PETREL_HOME, so URLs stay valid across restarts.
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { PetrelConfig } from "../config.js";
import { internal } from "../errors.js";
import type { PutOptions, SignedGet, SignedPut } from "./blob-store.js";
import type { UrlSigner } from "./url-signer.js";

/** Where the HTTP port serves signed blob URLs. */
export const BLOB_PATH_PREFIX = "/api/v1/blobs/";
/** Where the HTTP port serves signed directory listings (storage/blob-listing.ts). */
export const LISTING_PATH_PREFIX = "/api/v1/blob-listings/";
export const SIGNING_KEY_FILE = "signing-key";

export type SignedMethod = "PUT" | "GET" | "LIST";

/** What a verified URL allows. */
export interface BlobGrant {
  readonly method: SignedMethod;
  readonly key: string;
  readonly expiresAtMs: number;
  /** PUT only: the MD5 (16 bytes) the body must have. */
  readonly contentMd5: Uint8Array | undefined;
  /** PUT only: record the MD5 with the blob. */
  readonly storeMd5: boolean;
}

export type Verification =
  | { readonly ok: true; readonly grant: BlobGrant }
  | { readonly ok: false; readonly reason: string };

export interface HmacUrlSignerOptions {
  /** The public base URL of the HTTP port (`--public-url`); unset → the one given to setDefaultBaseUrl. */
  readonly publicUrl?: string | undefined;
  /** The clock (tests). */
  readonly now?: () => number;
}

const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

export class HmacUrlSigner implements UrlSigner {
  private readonly secret: Buffer;
  private readonly publicUrl: string | undefined;
  private defaultBaseUrl: string | undefined;
  private readonly now: () => number;

  constructor(secret: Uint8Array, opts: HmacUrlSignerOptions = {}) {
    if (secret.length < 16) throw new Error("a URL signing key needs at least 16 bytes");
    this.secret = Buffer.from(secret);
    this.publicUrl = opts.publicUrl?.replace(/\/+$/, "");
    this.now = opts.now ?? Date.now;
  }

  /** The server's own HTTP address, known once it listens; used when no public URL is configured. */
  setDefaultBaseUrl(url: string): void {
    this.defaultBaseUrl = url.replace(/\/+$/, "");
  }

  signPut(key: string, options: PutOptions & { readonly expiresInMs: number }): SignedPut {
    const expiresAtMs = this.now() + Math.max(0, options.expiresInMs);
    const md5 = options.contentMd5;
    const grant: BlobGrant = {
      method: "PUT",
      key,
      expiresAtMs,
      contentMd5: md5,
      storeMd5: options.storeMd5 === true,
    };
    const headers: Record<string, string> =
      md5 === undefined ? {} : { "Content-MD5": Buffer.from(md5).toString("base64") };
    return { url: this.url(grant), headers, expiresAt: new Date(expiresAtMs) };
  }

  signGet(key: string, options: { readonly expiresInMs: number }): SignedGet {
    const expiresAtMs = this.now() + Math.max(0, options.expiresInMs);
    const grant: BlobGrant = { method: "GET", key, expiresAtMs, contentMd5: undefined, storeMd5: false };
    return { url: this.url(grant), expiresAt: new Date(expiresAtMs) };
  }

  /** A URL to GET the listing of the directory at `key` (its blobs' keys under it) until `expiresInMs` from now. */
  signList(key: string, options: { readonly expiresInMs: number }): SignedGet {
    const expiresAtMs = this.now() + Math.max(0, options.expiresInMs);
    const grant: BlobGrant = { method: "LIST", key, expiresAtMs, contentMd5: undefined, storeMd5: false };
    return { url: this.url(grant), expiresAt: new Date(expiresAtMs) };
  }

  /**
   * Checks a request's method, key (decoded, `/`-joined) and query against their signature, then the expiry. The
   * reason of a refusal is safe to send to the client.
   */
  verify(method: SignedMethod, key: string, query: URLSearchParams): Verification {
    const expires = query.get("expires") ?? "";
    const signature = query.get("signature") ?? "";
    const md5Hex = query.get("md5");
    const meta = query.get("meta");
    if (!/^\d{1,15}$/.test(expires) || signature === "") {
      return { ok: false, reason: "the URL is not signed (missing expires or signature)" };
    }
    if (
      (md5Hex !== null && !/^[0-9a-f]{32}$/.test(md5Hex)) ||
      (meta !== null && meta !== "1") ||
      (method !== "PUT" && (md5Hex !== null || meta !== null))
    ) {
      return { ok: false, reason: "the signature does not match" };
    }
    const grant: BlobGrant = {
      method,
      key,
      expiresAtMs: Number(expires),
      contentMd5: md5Hex === null ? undefined : Buffer.from(md5Hex, "hex"),
      storeMd5: meta === "1",
    };
    const expected = this.sign(grant);
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      return { ok: false, reason: "the signature does not match" };
    }
    if (this.now() >= grant.expiresAtMs) {
      return { ok: false, reason: `the URL expired at ${new Date(grant.expiresAtMs).toISOString()}` };
    }
    return { ok: true, grant };
  }

  private url(grant: BlobGrant): string {
    const base = this.publicUrl ?? this.defaultBaseUrl;
    if (base === undefined) throw internal("cannot sign a blob URL before the HTTP port listens");
    const query = new URLSearchParams({ expires: String(grant.expiresAtMs) });
    if (grant.contentMd5 !== undefined) query.set("md5", Buffer.from(grant.contentMd5).toString("hex"));
    if (grant.storeMd5) query.set("meta", "1");
    query.set("signature", this.sign(grant).toString("base64url"));
    const prefix = grant.method === "LIST" ? LISTING_PATH_PREFIX : BLOB_PATH_PREFIX;
    return `${base}${prefix}${encodeKey(grant.key)}?${query}`;
  }

  private sign(grant: BlobGrant): Buffer {
    const md5 = grant.contentMd5 === undefined ? "" : Buffer.from(grant.contentMd5).toString("hex");
    // A JSON array keeps the fields apart whatever characters the key holds.
    const canonical = JSON.stringify([
      "petrel-blob-v1",
      grant.method,
      grant.key,
      grant.expiresAtMs,
      md5,
      grant.storeMd5,
    ]);
    return crypto.createHmac("sha256", this.secret).update(canonical).digest();
  }
}

/** The server's signer: its key from configuration or PETREL_HOME, its base URL from `--public-url` if set. */
export async function createUrlSigner(
  config: Pick<PetrelConfig, "signingKey" | "home" | "publicUrl">,
): Promise<HmacUrlSigner> {
  const key = await loadSigningKey(config.signingKey, config.home);
  return new HmacUrlSigner(key, { publicUrl: config.publicUrl });
}

/**
 * The signing key: the configured one (its UTF-8 bytes), else `<home>/signing-key`, created on first use with 32
 * random bytes (hex) and mode 0600. Creation is atomic (a full temporary file hard-linked into place), so servers
 * starting together on one home agree on one key.
 */
export async function loadSigningKey(configured: string | undefined, home: string): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, "utf8");
  const file = path.join(home, SIGNING_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing !== undefined) return existing;
  await fs.mkdir(home, { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}`;
  await fs.writeFile(tmp, `${crypto.randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  try {
    await fs.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
  const created = await readKeyFile(file);
  if (created === undefined) throw new Error(`the signing key file ${file} is empty`);
  return created;
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const key = text.trim();
  if (key === "") throw new Error(`the signing key file ${file} is empty`);
  return Buffer.from(key, "utf8");
}
