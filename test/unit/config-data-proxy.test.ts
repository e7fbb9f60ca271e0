// The DataProxy settings of loadConfig: public URL, signing key, upload size limit, URL lifetimes.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.js";

function problemsOf(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    loadConfig(argv, env, "/srv");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("DataProxy settings", () => {
  it("default to the server's own address, a kept key, 5 GiB and one hour", () => {
    expect(loadConfig([], {}, "/srv")).toMatchObject({
      publicUrl: undefined,
      signingKey: undefined,
      maxUploadBytes: 5 * 1024 ** 3,
      uploadMaxExpiresMs: 3_600_000,
      downloadMaxExpiresMs: 3_600_000,
    });
  });

  it("read flags and environment variables", () => {
    const c = loadConfig(
      ["--public-url", "https://petrel.example.com/data/", "--max-upload-size", "512Mi"],
      {
        PETREL_SIGNING_KEY: "sixteen bytes at least",
        PETREL_UPLOAD_MAX_EXPIRES_IN: "1h30m",
        PETREL_DOWNLOAD_MAX_EXPIRES_IN: "90s",
        PETREL_PUBLIC_URL: "http://ignored:1",
      },
      "/srv",
    );
    expect(c).toMatchObject({
      publicUrl: "https://petrel.example.com/data",
      signingKey: "sixteen bytes at least",
      maxUploadBytes: 512 * 1024 ** 2,
      uploadMaxExpiresMs: 5_400_000,
      downloadMaxExpiresMs: 90_000,
    });
  });

  it("report every bad value", () => {
    const problems = problemsOf(
      ["--public-url", "ftp://x", "--signing-key", "short", "--max-upload-size", "5GB"],
      { PETREL_UPLOAD_MAX_EXPIRES_IN: "soon", PETREL_DOWNLOAD_MAX_EXPIRES_IN: "0s" },
    );
    expect(problems).toEqual([
      '--public-url: "ftp://x" must be an http:// or https:// URL (no query)',
      "--signing-key: the signing key must be at least 16 bytes",
      '--max-upload-size: "5GB" is not a size (bytes, or a number with Ki, Mi, Gi or Ti)',
      'PETREL_UPLOAD_MAX_EXPIRES_IN: "soon" is not a duration (e.g. 1h, 30m, 90s)',
      'PETREL_DOWNLOAD_MAX_EXPIRES_IN: "0s" is not a duration (e.g. 1h, 30m, 90s)',
    ]);
  });
});
