// Named connection profiles in ~/.petrel/config.yaml (or $PETREL_CONFIG), shared by the CLI and FriendlyRemote.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";

export interface Profile {
  readonly endpoint: string;
  readonly project: string;
  readonly domain: string;
  readonly insecure?: boolean;
  readonly token?: string;
  /** PEM file of the CA that signed the server's certificate. */
  readonly caFile?: string;
}

export interface ProfileFile {
  current?: string;
  profiles: Record<string, Profile>;
}

export function configPath(file?: string): string {
  return file ?? path.join(os.homedir(), ".petrel", "config.yaml");
}

export function readProfiles(file?: string): ProfileFile {
  const p = configPath(file);
  if (!fs.existsSync(p)) return { profiles: {} };
  const data = parse(fs.readFileSync(p, "utf8")) as Partial<ProfileFile> | null;
  return {
    ...(data?.current === undefined ? {} : { current: data.current }),
    profiles: data?.profiles ?? {},
  };
}

export function writeProfiles(data: ProfileFile, file?: string): void {
  const p = configPath(file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, stringify(data), { mode: 0o600 });
}

/** The named profile, or the current one; throws when there is none. */
export function loadProfile(name?: string, file?: string): Profile {
  const data = readProfiles(file);
  const key = name ?? data.current;
  const profile = key === undefined ? undefined : data.profiles[key];
  if (profile === undefined) {
    throw new Error(
      key === undefined
        ? `no current profile in ${configPath(file)}`
        : `no profile "${key}" in ${configPath(file)}`,
    );
  }
  return profile;
}
