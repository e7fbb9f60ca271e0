import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  BLOB_PATH_PREFIX,
  HmacUrlSigner,
  LISTING_PATH_PREFIX,
  loadSigningKey,
  SIGNING_KEY_FILE,
  type SignedMethod,
} from "../../../server/storage/signed-urls.js";

const SECRET = Buffer.from("0123456789abcdef0123456789abcdef");
const MD5 = Buffer.from("9e107d9d372bb6826bd81d3542a419d6", "hex");

function signer(now = () => 1_000_000) {
  const s = new HmacUrlSigner(SECRET, { now });
  s.setDefaultBaseUrl("http://127.0.0.1:8088/");
  return s;
}

/** What the HTTP route sees of a signed URL: the decoded key and the query. */
function parse(url: string): { key: string; query: URLSearchParams } {
  const u = new URL(url);
  expect(u.pathname.startsWith(BLOB_PATH_PREFIX)).toBe(true);
  const key = u.pathname.slice(BLOB_PATH_PREFIX.length).split("/").map(decodeURIComponent).join("/");
  return { key, query: u.searchParams };
}

function verify(s: HmacUrlSigner, method: SignedMethod, url: string) {
  const { key, query } = parse(url);
  return s.verify(method, key, query);
}

describe("HmacUrlSigner", () => {
  it("signs a PUT with its MD5 and metadata flag, and returns the Content-MD5 header to send", () => {
    const s = signer();
    const put = s.signPut("p/d/ROOT/a b+c=ü.txt", { expiresInMs: 60_000, contentMd5: MD5, storeMd5: true });
    expect(put.url.startsWith("http://127.0.0.1:8088/api/v1/blobs/p/d/ROOT/a%20b%2Bc%3D%C3%BC.txt?")).toBe(
      true,
    );
    expect(put.headers).toEqual({ "Content-MD5": MD5.toString("base64") });
    expect(put.expiresAt.getTime()).toBe(1_060_000);
    const v = verify(s, "PUT", put.url);
    expect(v).toMatchObject({
      ok: true,
      grant: { method: "PUT", key: "p/d/ROOT/a b+c=ü.txt", expiresAtMs: 1_060_000, storeMd5: true },
    });
    expect(v.ok && Buffer.from(v.grant.contentMd5 ?? []).equals(MD5)).toBe(true);
  });

  it("signs a PUT without an MD5 (no header required) and a GET", () => {
    const s = signer();
    const put = s.signPut("k/x", { expiresInMs: 1000 });
    expect(put.headers).toEqual({});
    expect(verify(s, "PUT", put.url)).toMatchObject({
      ok: true,
      grant: { contentMd5: undefined, storeMd5: false },
    });
    const get = s.signGet("k/x", { expiresInMs: 1000 });
    expect(verify(s, "GET", get.url)).toMatchObject({ ok: true, grant: { method: "GET", key: "k/x" } });
  });

  it("refuses every change to what was signed", () => {
    const s = signer();
    const put = s.signPut("p/d/f.txt", { expiresInMs: 60_000, contentMd5: MD5, storeMd5: true });
    const { key, query } = parse(put.url);
    const changed = (edit: (q: URLSearchParams) => void) => {
      const q = new URLSearchParams(query);
      edit(q);
      return s.verify("PUT", key, q);
    };
    const refused = { ok: false, reason: "the signature does not match" };
    expect(s.verify("PUT", "p/d/g.txt", query)).toEqual(refused);
    expect(s.verify("GET", key, query)).toEqual(refused);
    expect(changed((q) => q.set("expires", String(Number(q.get("expires")) + 1)))).toEqual(refused);
    expect(changed((q) => q.set("md5", "00".repeat(16)))).toEqual(refused);
    expect(changed((q) => q.delete("md5"))).toEqual(refused);
    expect(changed((q) => q.delete("meta"))).toEqual(refused);
    expect(changed((q) => q.set("signature", `${q.get("signature")}A`))).toEqual(refused);
    expect(changed((q) => q.set("signature", "x"))).toEqual(refused);
    expect(changed((q) => q.delete("signature"))).toMatchObject({ ok: false, reason: /not signed/ });
    // The same URL under another key's signer.
    const other = new HmacUrlSigner(Buffer.from("another key of 32 bytes........."), {
      now: () => 1_000_000,
    });
    expect(other.verify("PUT", key, query)).toEqual(refused);
    // A GET URL cannot be turned into a PUT by adding the PUT-only fields.
    const get = parse(s.signGet("p/d/f.txt", { expiresInMs: 60_000 }).url);
    get.query.set("meta", "1");
    expect(s.verify("GET", get.key, get.query)).toEqual(refused);
  });

  it("signs a directory listing (LIST) at its own path; GET, PUT and LIST signatures are not interchangeable", () => {
    const s = signer();
    const list = s.signList("p/d/ROOT", { expiresInMs: 60_000 });
    expect(list.url.startsWith(`http://127.0.0.1:8088${LISTING_PATH_PREFIX}p/d/ROOT?`)).toBe(true);
    expect(list.expiresAt.getTime()).toBe(1_060_000);
    const u = new URL(list.url);
    const key = u.pathname.slice(LISTING_PATH_PREFIX.length);
    expect(s.verify("LIST", key, u.searchParams)).toMatchObject({ ok: true, grant: { method: "LIST", key } });
    const refused = { ok: false, reason: "the signature does not match" };
    expect(s.verify("GET", key, u.searchParams)).toEqual(refused);
    expect(s.verify("PUT", key, u.searchParams)).toEqual(refused);
    const get = parse(s.signGet(key, { expiresInMs: 60_000 }).url);
    expect(s.verify("LIST", get.key, get.query)).toEqual(refused);
    const put = parse(s.signPut(key, { expiresInMs: 60_000 }).url);
    expect(s.verify("LIST", put.key, put.query)).toEqual(refused);
  });

  it("refuses an expired URL, from the instant it expires", () => {
    let now = 5_000;
    const s = signer(() => now);
    const get = s.signGet("a/b", { expiresInMs: 100 });
    now = 5_099;
    expect(verify(s, "GET", get.url).ok).toBe(true);
    now = 5_100;
    expect(verify(s, "GET", get.url)).toEqual({
      ok: false,
      reason: `the URL expired at ${new Date(5_100).toISOString()}`,
    });
  });

  it("uses the public URL when configured, path prefix included", () => {
    const s = new HmacUrlSigner(SECRET, { publicUrl: "https://petrel.example.com/data/" });
    s.setDefaultBaseUrl("http://127.0.0.1:1");
    const url = s.signGet("a/b", { expiresInMs: 1000 }).url;
    expect(url.startsWith("https://petrel.example.com/data/api/v1/blobs/a/b?")).toBe(true);
  });

  it("cannot sign before it knows a base URL, nor with a short key", () => {
    expect(() => new HmacUrlSigner(SECRET).signGet("a", { expiresInMs: 1 })).toThrow(
      /before the HTTP port listens/,
    );
    expect(() => new HmacUrlSigner(Buffer.from("short"))).toThrow(/at least 16 bytes/);
  });
});

describe("loadSigningKey", () => {
  const homes: string[] = [];
  afterEach(() => {
    for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
  });
  const home = () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-key-"));
    homes.push(h);
    return path.join(h, "nested");
  };

  it("uses the configured key as is and writes nothing", async () => {
    const h = home();
    expect((await loadSigningKey("a configured key, long enough", h)).toString()).toBe(
      "a configured key, long enough",
    );
    expect(fs.existsSync(h)).toBe(false);
  });

  it("generates a key once, mode 0600, and keeps it; concurrent starts agree", async () => {
    const h = home();
    const keys = await Promise.all([
      loadSigningKey(undefined, h),
      loadSigningKey(undefined, h),
      loadSigningKey(undefined, h),
    ]);
    expect(keys[0]?.length).toBe(64);
    for (const k of keys) expect(k.equals(keys[0] ?? Buffer.alloc(0))).toBe(true);
    const file = path.join(h, SIGNING_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(h)).toEqual([SIGNING_KEY_FILE]);
    expect((await loadSigningKey(undefined, h)).equals(keys[0] ?? Buffer.alloc(0))).toBe(true);
  });

  it("refuses an empty key file rather than signing with nothing", async () => {
    const h = home();
    fs.mkdirSync(h, { recursive: true });
    fs.writeFileSync(path.join(h, SIGNING_KEY_FILE), "\n");
    await expect(loadSigningKey(undefined, h)).rejects.toThrow(/is empty/);
  });
});
