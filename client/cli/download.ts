// `petrel download EXECUTION [DIR]`: an execution's outputs into DIR (default ./EXECUTION) — each file or directory
// output at DIR/<name>, every output (files as their local paths) in DIR/outputs.json.
import path from "node:path";
import type { FriendlyRemote } from "../friendly-remote.js";
import type { ParsedArgs } from "./args.js";
import { fetchExecution } from "./lookup.js";

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel === "" ? "." : rel.startsWith("..") || path.isAbsolute(rel) ? p : rel;
}

export async function downloadCommand(remote: FriendlyRemote, a: ParsedArgs, out: (s: string) => void) {
  const [, name, dirArg] = a.words;
  if (name === undefined) throw new Error("download needs an execution name");
  const dir = path.resolve(dirArg ?? name);
  const exe = await fetchExecution(remote, name);
  const values = await exe.downloadOutputs(dir);
  for (const [k, v] of Object.entries(values))
    if (typeof v === "string" && v.startsWith(`${dir}${path.sep}`)) out(`  ${k}: ${shown(v)}`);
  out(`outputs of ${name} written to ${shown(dir)} (values in ${shown(path.join(dir, "outputs.json"))})`);
  return 0;
}
