// `petrel` commands over FriendlyRemote: get, run, download, watch, terminate, relaunch, recover, signal,
// launchplan, register, worker, backfill, config.
// Errors print one line and exit non-zero.

import fs from "node:fs";
import path from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { WorkflowExecution_Phase as Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { WatchEventSchema } from "../../gen/petrel/v1/watch_pb.js";
import { PetrelError } from "../errors.js";
import { FriendlyRemote, type Target } from "../friendly-remote.js";
import { loadProfile, readProfiles, writeProfiles } from "../profiles.js";
import { flag, type ParsedArgs, parseArgs } from "./args.js";
import { downloadCommand } from "./download.js";
import { getCommand } from "./get.js";
import { backfill, registerModule, workerModule } from "./modules.js";

const USAGE = `usage: petrel [--endpoint HOST:PORT] [--project P] [--domain D] <command>
  serve [flags]                                 start the server
  create project ID [--name N] [--description D]
  get projects|tasks|workflows|launch-plans|executions [NAME] [-o table|json] [--filter F] [--limit N] [--all]
  get node-executions|signals EXECUTION [-o table|json]
  run launch-plan|workflow|task NAME [--version V] [--input k=v|k=@PATH ...] [--wait]
  download EXECUTION [DIR]                      write the outputs to DIR (default ./EXECUTION): files and
                                                directories by output name, every value in outputs.json
  watch EXECUTION
  terminate EXECUTION [--cause TEXT]   relaunch EXECUTION   recover EXECUTION
  signal list EXECUTION | approve|reject SIGNAL EXECUTION | set SIGNAL EXECUTION VALUE
  launchplan activate|deactivate NAME [--version V]
  config save NAME --endpoint E --project P [--domain D] | config list | config use NAME
  register MODULE [--version V]                 register the module's exported tasks, workflows, launch plans
  worker MODULE [--concurrency N]               serve the module's function tasks (and a \`tasks\` record export)
  backfill LAUNCH_PLAN --from T --to T [--parallel] [--dry-run] [--version V]`;

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
    if (flag(a, "--project") === undefined) a.flags.set("--project", [profile.project]);
    if (flag(a, "--domain") === undefined) a.flags.set("--domain", [profile.domain]);
  }
  const endpoint = flag(a, "--endpoint") ?? "localhost:8089";
  const insecure = flag(a, "--insecure") !== "false" && !endpoint.startsWith("https://");
  return FriendlyRemote.forEndpoint(endpoint, {
    insecure,
    project: flag(a, "--project") ?? "flytesnacks",
    domain: flag(a, "--domain") ?? "development",
    ...(flag(a, "--token") === undefined ? {} : { token: flag(a, "--token") as string }),
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

function target(kind: string | undefined, name: string | undefined, version: string | undefined): Target {
  if (name === undefined) throw new Error("run needs a name");
  const v = version === undefined ? {} : { version };
  if (kind === "launch-plan") return { launchPlan: name, ...v };
  if (kind === "workflow") return { workflow: name, ...v };
  if (kind === "task") return { task: name, ...v };
  throw new Error(`run takes launch-plan, workflow or task, not "${kind}"`);
}

async function run(a: ParsedArgs, out: (s: string) => void): Promise<number> {
  const remote = remoteFrom(a);
  const [, kind, name] = a.words;
  const exe = await remote.execute(
    target(kind, name, flag(a, "--version")),
    parseInputs(a.flags.get("--input") ?? []),
  );
  out(`execution ${exe.name} created`);
  if (flag(a, "--wait") !== "true") return 0;
  for await (const e of remote.client.watchExecution({ id: exe.execution.id })) {
    if (e.kind.case === "nodeExecution")
      out(`  node ${e.kind.value.id?.nodeId}: ${nodePhase(e.kind.value.closure?.phase ?? 0)}`);
  }
  await exe.sync();
  out(`${exe.name}: ${Phase[exe.phase]}`);
  if (exe.phase !== Phase.SUCCEEDED) {
    out(`error: ${exe.error ?? "unknown"}`);
    return 1;
  }
  out(JSON.stringify(await exe.outputs(), (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
  return 0;
}

const NODE_PHASES = [
  "UNDEFINED",
  "QUEUED",
  "RUNNING",
  "SUCCEEDED",
  "FAILING",
  "FAILED",
  "ABORTED",
  "SKIPPED",
  "TIMED_OUT",
  "DYNAMIC_RUNNING",
  "RECOVERED",
];
const nodePhase = (p: number) => NODE_PHASES[p] ?? String(p);

async function steer(a: ParsedArgs, out: (s: string) => void): Promise<number> {
  const remote = remoteFrom(a);
  const [cmd, first, second, third] = a.words;
  if (cmd === "watch" || cmd === "terminate" || cmd === "relaunch" || cmd === "recover") {
    const exe = await remote.fetchExecution(first ?? "");
    if (cmd === "terminate")
      await remote.terminate(exe, flag(a, "--cause") ?? "terminated with the petrel CLI");
    if (cmd === "relaunch") out(`execution ${(await remote.relaunch(exe)).name} created`);
    if (cmd === "recover") out(`execution ${(await remote.recover(exe)).name} created`);
    if (cmd === "watch")
      for await (const e of remote.client.watchExecution({ id: exe.execution.id }))
        out(JSON.stringify(toJson(WatchEventSchema, e)));
    return 0;
  }
  if (cmd === "signal") {
    if (first === "list") return getCommand(remote, ["get", "signals", second ?? ""], a, out);
    const exe = await remote.fetchExecution(third ?? "");
    if (first === "approve") await remote.approve(second ?? "", exe);
    else if (first === "reject") await remote.reject(second ?? "", exe);
    else if (first === "set")
      await remote.setInput(second ?? "", exe, parseInputs([`v=${a.words[4] ?? ""}`]).v);
    else throw new Error(`signal takes list, approve, reject or set, not "${first}"`);
    out(`signal ${second} set on ${exe.name}`);
    return 0;
  }
  if (cmd === "launchplan") {
    const lp = await remote.fetchLaunchPlan(second ?? "", flag(a, "--version"));
    if (first === "activate") await remote.activate(lp);
    else if (first === "deactivate") await remote.deactivate(lp);
    else throw new Error(`launchplan takes activate or deactivate, not "${first}"`);
    out(`launch plan ${second} ${lp.id?.version} ${first}d`);
    return 0;
  }
  throw new Error(`unknown command "${cmd}"`);
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
      insecure: flag(a, "--insecure") !== "false",
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

export async function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<number> {
  const a = parseArgs(argv);
  const [cmd] = a.words;
  if (cmd === undefined || flag(a, "--help") === "true") {
    out(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  try {
    if (cmd === "get") return await getCommand(remoteFrom(a), a.words, a, out);
    if (cmd === "run") return await run(a, out);
    if (cmd === "download") return await downloadCommand(remoteFrom(a), a, out);
    if (cmd === "worker") return await workerModule(remoteFrom(a), a, out);
    if (cmd === "register") return await registerModule(remoteFrom(a), a, out);
    if (cmd === "create") return await createProject(remoteFrom(a), a, out);
    if (cmd === "backfill") return await backfill(remoteFrom(a), a, out);
    if (cmd === "config") return configCommand(a, out);
    return await steer(a, out);
  } catch (err) {
    const message = err instanceof PetrelError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`petrel: ${message}\n`);
    return 1;
  }
}
