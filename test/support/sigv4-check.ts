// Checks AWS Signature Version 4 on an S3 request the way S3 does (header or presigned-query authentication), from
// the published algorithm rather than the SDK's code, so the S3 test server can refuse what S3 would refuse: a presigned
// URL whose signed headers (Content-MD5, x-amz-meta-…) the client changed, or one that has expired.
import { createHash, createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export type SigV4Verdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: string; readonly message: string };

interface Auth {
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly amzDate: string;
  readonly payloadHash: string;
  readonly expiresSeconds: number | undefined;
}

const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const hmac = (key: string | Buffer, s: string) => createHmac("sha256", key).update(s).digest();

/** Verifies the request's signature with the secret of its access key; unsigned requests pass (s3rver allows them). */
export function checkSigV4(
  method: string,
  rawUrl: string,
  headers: IncomingHttpHeaders,
  secretOf: (accessKeyId: string) => string | undefined,
  now: Date = new Date(),
): SigV4Verdict {
  const url = new URL(rawUrl, "http://placeholder");
  const auth = parseAuth(url, headers);
  if (auth === undefined) return { ok: true };
  const [accessKeyId = "", ...scopeParts] = auth.credential.split("/");
  const secret = secretOf(accessKeyId);
  if (secret === undefined) return { ok: false, code: "InvalidAccessKeyId", message: "unknown access key" };
  if (auth.expiresSeconds !== undefined) {
    const signedAt = Date.parse(
      auth.amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
    );
    if (!(now.getTime() <= signedAt + auth.expiresSeconds * 1000)) {
      return { ok: false, code: "AccessDenied", message: "Request has expired" };
    }
  }
  const signed = auth.signedHeaders.split(";");
  if (!signed.includes("host")) return { ok: false, code: "AccessDenied", message: "host must be signed" };
  const canonicalHeaders = signed
    .map((name) => `${name}:${headerValue(headers[name]).trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalQuery = [...url.searchParams]
    .filter(([k]) => k !== "X-Amz-Signature")
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalUri = url.pathname
    .split("/")
    .map((s) => rfc3986(decodeURIComponent(s)))
    .join("/");
  const canonicalRequest = [
    method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    auth.signedHeaders,
    auth.payloadHash,
  ].join("\n");
  const scope = scopeParts.join("/");
  const stringToSign = ["AWS4-HMAC-SHA256", auth.amzDate, scope, sha256(canonicalRequest)].join("\n");
  let key: Buffer | string = `AWS4${secret}`;
  for (const part of scopeParts) key = hmac(key, part);
  const expected = createHmac("sha256", key).update(stringToSign).digest("hex");
  return expected === auth.signature
    ? { ok: true }
    : {
        ok: false,
        code: "SignatureDoesNotMatch",
        message: "The request signature we calculated does not match",
      };
}

function parseAuth(url: URL, headers: IncomingHttpHeaders): Auth | undefined {
  const q = url.searchParams;
  if (q.get("X-Amz-Algorithm") === "AWS4-HMAC-SHA256") {
    return {
      credential: q.get("X-Amz-Credential") ?? "",
      signedHeaders: q.get("X-Amz-SignedHeaders") ?? "",
      signature: q.get("X-Amz-Signature") ?? "",
      amzDate: q.get("X-Amz-Date") ?? "",
      payloadHash: q.get("X-Amz-Content-Sha256") ?? "UNSIGNED-PAYLOAD",
      expiresSeconds: Number(q.get("X-Amz-Expires") ?? "0"),
    };
  }
  const header = headerValue(headers.authorization);
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)$/.exec(
    header,
  );
  if (m === null) return undefined;
  return {
    credential: m[1] ?? "",
    signedHeaders: m[2] ?? "",
    signature: m[3] ?? "",
    amzDate: headerValue(headers["x-amz-date"]),
    payloadHash: headerValue(headers["x-amz-content-sha256"]) || sha256(""),
    expiresSeconds: undefined,
  };
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(",") : (value ?? "");
}
