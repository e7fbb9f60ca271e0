// `petrel`: parses and strictly checks the command line, then runs one command over FriendlyRemote — get, run,
// download, watch, terminate, relaunch, recover, signal, launchplan, register, worker, backfill, config, create,
// completion, help. A usage mistake is one line on stderr and exit code 2; any other error one line and exit 1.

import fs from "node:fs";
import path from "node:path";
import { PetrelError } from "../errors.js";
import { FriendlyRemote } from "../friendly-remote.js";
import { loadProfile, readProfiles, writeProfiles } from "../profiles.js";
import { checkArgs, flag, type ParsedArgs, parseArgs, UsageError } from "./args.js";
import { commandNamed } from "./commands.js";
import { completionScript } from "./completion.js";
import { downloadCommand } from "./download.js";
import { getCommand } from "./get.js";
import { commandHelp, helpFor, packageVersion, usage } from "./help.js";
import { logsCommand } from "./logs.js";
import { backfill, registerModule, workerModule } from "./modules.js";
import { notificationsCommand } from "./notifications.js";
import { runCommand, type Terminal, watchCommand } from "./progress.js";
import { launchPlanCommand, signalCommand, steerExecution } from "./steer.js";

export function remoteFrom(a: ParsedArgs): FriendlyRemote {
  const profileName = flag(a, "--profile");
  const saved = readProfiles(process.env.PETREL_CONFIG);
  const profile =
    profileName !== undefined
      ? loadProfile(profileName, process.env.PETREL_CONFIG)
      : saved.current === undefined
        ? undefined
        : saved.profiles[saved.current];
  if (profile !== undefined && flag(a, "--endpoint") === undefined) {
    a.flags.set("--endpoint", [profile.endpoint]);
    if (flag(a, "--token") === undefined && profile.token !== undefined)
      a.flags.set("--token", [profile.token]);
    if (flag(a, "--ca-file") === undefined && profile.caFile !== undefined)
      a.flags.set("--ca-file", [profile.caFile]);
    if (flag(a, "--insecure") === undefined && profile.insecure === false)
      a.flags.set("--insecure", ["false"]);
    if (flag(a, "--project") === undefined) a.flags.set("--project", [profile.project]);
    if (flag(a, "--domain") === undefined) a.flags.set("--domain", [profile.domain]);
  }
  const endpoint = flag(a, "--endpoint") ?? "localhost:8089";
  const caFile = flag(a, "--ca-file");
  // A CA file means TLS.
  const insecure =
    flag(a, "--insecure") !== "false" && !endpoint.startsWith("https://") && caFile === undefined;
  // The console links printed lead to the endpoint (it serves the console) unless PETREL_CONSOLE_URL says where.
  const consoleUrl = process.env.PETREL_CONSOLE_URL;
  return FriendlyRemote.forEndpoint(endpoint, {
    insecure,
    project: flag(a, "--project") ?? "flytesnacks",
    domain: flag(a, "--domain") ?? "development",
    ...(flag(a, "--token") === undefined ? {} : { token: flag(a, "--token") as string }),
    ...(caFile === undefined ? {} : { caFile }),
    ...(consoleUrl === undefined || consoleUrl === "" ? {} : { consoleUrl }),
  });
}

/**
 * `k=v`: JSON when it parses (numbers, booleans, arrays, objects), a string otherwise; `k=@PATH` names a local file
 * or directory (for a file or directory input: it is uploaded). A string that starts with `@` is given as JSON.
 */
export function parseInputs(values: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of values) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new Error(`--input expects k=v, got "${kv}"`);
    const raw = kv.slice(eq + 1);
    if (raw.startsWith("@")) {
      const local = path.resolve(raw.slice(1));
      if (!fs.existsSync(local)) throw new Error(`--input ${kv}: no such file or directory ${local}`);
      out[kv.slice(0, eq)] = local;
      continue;
    }
    try {
      out[kv.slice(0, eq)] = JSON.parse(raw);
    } catch {
      out[kv.slice(0, eq)] = raw;
    }
  }
  return out;
}

/** `config save NAME --endpoint E --project P [--domain D]`, `config list`, `config use NAME`. */
function configCommand(a: ParsedArgs, out: (s: string) => void): number {
  const file = process.env.PETREL_CONFIG;
  const data = readProfiles(file);
  const [, verb, name] = a.words;
  if (verb === "list") {
    for (const [n, p] of Object.entries(data.profiles))
      out(`${n === data.current ? "*" : " "} ${n}  ${p.endpoint}  ${p.project}/${p.domain}`);
    return 0;
  }
  if (name === undefined) throw new Error(`config ${verb ?? ""} needs a profile name`);
  if (verb === "save") {
    const endpoint = flag(a, "--endpoint");
    const project = flag(a, "--project");
    if (endpoint === undefined || project === undefined)
      throw new Error("config save needs --endpoint and --project");
    data.profiles[name] = {
      endpoint,
      project,
      domain: flag(a, "--domain") ?? "development",
      insecure: flag(a, "--insecure") !== "false" && flag(a, "--ca-file") === undefined,
      ...(flag(a, "--token") === undefined ? {} : { token: flag(a, "--token") as string }),
      ...(flag(a, "--ca-file") === undefined ? {} : { caFile: path.resolve(flag(a, "--ca-file") as string) }),
    };
    data.current ??= name;
  } else if (verb === "use") {
    if (data.profiles[name] === undefined) throw new Error(`no profile "${name}"`);
    data.current = name;
  } else {
    throw new Error(`config takes save, list or use, not "${verb}"`);
  }
  writeProfiles(data, file);
  out(`profile ${name} ${verb === "use" ? "selected" : "saved"}`);
  return 0;
}

/** `create project ID [--name N] [--description D]`. */
async function createProject(
  remote: FriendlyRemote,
  a: ParsedArgs,
  out: (s: string) => void,
): Promise<number> {
  const [, what, id] = a.words;
  if (what !== "project" || id === undefined) throw new Error("usage: petrel create project ID [--name N]");
  await remote.client.registerProject({
    project: { id, name: flag(a, "--name") ?? id, description: flag(a, "--description") ?? "" },
  });
  out(`project ${id} created`);
  return 0;
}

/** The live view's terminal: stdout when it is one (and not a dumb one). */
function stdoutTerminal(): Terminal | undefined {
  if (process.stdout.isTTY !== true || process.env.TERM === "dumb") return undefined;
  return {
    write: (s) => process.stdout.write(s),
    get columns() {
      return process.stdout.columns || 80;
    },
    get rows() {
      return process.stdout.rows || 24;
    },
  };
}

async function dispatch(
  a: ParsedArgs,
  out: (s: string) => void,
  term: Terminal | undefined,
): Promise<number> {
  const [cmd, sub] = a.words;
  switch (cmd) {
    case "help":
      out(helpFor(sub));
      return 0;
    case "completion":
      out(completionScript(sub).trimEnd());
      return 0;
    case "config":
      return configCommand(a, out);
    case "get":
      if (sub === "notifications") return notificationsCommand(a, out);
      return getCommand(remoteFrom(a), a.words, a, out);
    case "run":
      return runCommand(remoteFrom(a), a, parseInputs(a.flags.get("--input") ?? []), out, term);
    case "watch":
      return watchCommand(remoteFrom(a), a, out, term);
    case "download":
      return downloadCommand(remoteFrom(a), a, out);
    case "logs":
      return logsCommand(remoteFrom(a), a, out);
    case "terminate":
    case "relaunch":
    case "recover":
      return steerExecution(remoteFrom(a), a, out);
    case "signal":
      return signalCommand(remoteFrom(a), a, (raw) => parseInputs([`v=${raw}`]).v, out);
    case "launchplan":
      return launchPlanCommand(remoteFrom(a), a, out);
    case "worker":
      return workerModule(remoteFrom(a), a, out);
    case "register":
      return registerModule(remoteFrom(a), a, out);
    case "create":
      return createProject(remoteFrom(a), a, out);
    case "backfill":
      return backfill(remoteFrom(a), a, out);
    default:
      // `petrel serve` is started by bin/petrel.js before the CLI; here it can only be a mistake.
      throw new UsageError(`unknown command "${cmd}" (see petrel help)`);
  }
}

/**
 * Runs one `petrel` command line and returns its exit code. Output goes to `out` (stdout by default; the live
 * view of `run --wait` and `watch` is drawn only when writing to a terminal stdout), errors to stderr.
 */
export async function main(argv: readonly string[], out?: (s: string) => void): Promise<number> {
  const write = out ?? ((s: string) => process.stdout.write(`${s}\n`));
  const term = out === undefined ? stdoutTerminal() : undefined;
  try {
    const a = parseArgs(argv);
    const [cmd] = a.words;
    checkArgs(a);
    if (cmd === undefined) {
      if (a.missingValue.includes("--version") || flag(a, "--version") !== undefined) {
        write(`petrel ${packageVersion()}`);
        return 0;
      }
      write(usage());
      return flag(a, "--help") === "true" ? 0 : 2;
    }
    const command = commandNamed(cmd);
    if (command !== undefined && flag(a, "--help") === "true") {
      write(commandHelp(command));
      return 0;
    }
    return await dispatch(a, write, term);
  } catch (err) {
    const message = err instanceof PetrelError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`petrel: ${message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
