// Shared pieces of the DataProxy tests: the signing key the servers get, the upload scope, MD5s as FlyteAdmin names
// them, and the server's local blob store opened from a native URL (what a task on this machine reads).
import { createHash } from "node:crypto";
import { LocalBlobStore } from "../../server/storage/local-blob-store.js";
import { HmacUrlSigner } from "../../server/storage/signed-urls.js";

export const SIGNING_KEY = "data-proxy-test-signing-key-0123456789";
export const P = { project: "flytesnacks", domain: "development" };
/** The server environment of the DataProxy tests: a known signing key, no engine, no scheduler. */
export const DATA_PROXY_ENV = {
  PETREL_SIGNING_KEY: SIGNING_KEY,
  PETREL_ENGINE: "off",
  PETREL_SCHEDULER: "off",
};

export const md5 = (data: Uint8Array): Buffer => createHash("md5").update(data).digest();

/** Go's base32.StdEncoding of an MD5, as FlyteAdmin names the upload directory (written out bit by bit here). */
export function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, "0")).join("");
  const chars = (bits.match(/.{1,5}/g) ?? []).map((c) => alphabet[Number.parseInt(c.padEnd(5, "0"), 2)]);
  return chars.join("").padEnd(32, "=");
}

/** The local store whose root starts `nativeUrl` (a URL under `<root>/flytesnacks/`), opened on the server's directory. */
export function storeOf(nativeUrl: string): LocalBlobStore {
  const root = nativeUrl.slice(0, nativeUrl.indexOf(`/${P.project}/`));
  return new LocalBlobStore(new URL(root).pathname, new HmacUrlSigner(Buffer.from(SIGNING_KEY)));
}
