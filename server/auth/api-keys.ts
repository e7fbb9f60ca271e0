// Static API keys: configured as `NAME:SHA256HEX` (the key itself is never stored), matched in constant time.
import { createHash, timingSafeEqual } from "node:crypto";

export interface ApiKey {
  /** The principal a caller with this key acts as. */
  readonly name: string;
  /** sha256 of the key, 32 bytes. */
  readonly sha256: Buffer;
}

/** The hex digest to configure for a key (the same as `printf %s KEY | sha256sum`). */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** `name:sha256hex,…`; names are unique and hashes 64 hex digits. */
export function parseApiKeys(text: string, source: string, problems: string[]): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const colon = entry.lastIndexOf(":");
    const name = entry.slice(0, Math.max(colon, 0));
    const hex = entry.slice(colon + 1);
    if (colon <= 0 || !/^[0-9a-fA-F]{64}$/.test(hex)) {
      problems.push(`${source}: "${entry.slice(0, 40)}" is not NAME:SHA256HEX (64 hex digits)`);
      continue;
    }
    if (keys.some((k) => k.name === name)) problems.push(`${source}: key name "${name}" is given twice`);
    keys.push({ name, sha256: Buffer.from(hex, "hex") });
  }
  return keys;
}

/** The key's name when the token is one of the keys; every key is compared, so timing tells nothing. */
export function matchApiKey(keys: readonly ApiKey[], token: string): string | undefined {
  const digest = createHash("sha256").update(token, "utf8").digest();
  let found: string | undefined;
  for (const k of keys) if (timingSafeEqual(k.sha256, digest) && found === undefined) found = k.name;
  return found;
}
