// CLI commands over TypeScript modules and schedules: `register MODULE`, `worker MODULE`, `backfill LP`.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type Entity, isEntity, serialize } from "../dsl/serialize.js";
import type { FriendlyRemote } from "../friendly-remote.js";
import { type TaskFunction, Worker } from "../worker.js";
import { flag, type ParsedArgs } from "./args.js";
import { printConsoleUrl } from "./lookup.js";

interface LoadedModule {
  readonly entities: Entity[];
  /** Functions by task name: DSL function tasks (also those workflows use) and a `tasks` record export. */
  readonly functions: Record<string, TaskFunction>;
}

async function load(file: string | undefined, what: string): Promise<LoadedModule> {
  if (file === undefined) throw new Error(`${what} needs a module path`);
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  const entities = Object.values(mod).filter(isEntity);
  const functions: Record<string, TaskFunction> = {};
  for (const [name, fn] of serialize(entities, { project: "", domain: "", version: "" }).functions)
    functions[name] = fn as unknown as TaskFunction;
  const tasks = mod.tasks;
  if (typeof tasks === "object" && tasks !== null && !isEntity(tasks))
    for (const [name, fn] of Object.entries(tasks))
      if (typeof fn === "function") functions[name] = fn as TaskFunction;
  return { entities, functions };
}

/** Registers every task, workflow and launch plan the module exports (with what they use) under one version. */
export async function registerModule(remote: FriendlyRemote, a: ParsedArgs, out: (s: string) => void) {
  const file = a.words[1];
  const { entities } = await load(file, "register");
  if (entities.length === 0) throw new Error(`${file} exports no task, workflow or launch plan`);
  const version = flag(a, "--version");
  const reg = await remote.registerAll(entities, version === undefined ? {} : { version });
  out(
    `registered ${reg.tasks.length} task(s), ${reg.workflows.length} workflow(s), ${reg.launchPlans.length} launch plan(s) as version ${reg.version} in ${remote.project}/${remote.domain}`,
  );
  for (const s of reg.steps) {
    const [kind, id] =
      "task" in s
        ? ["task", s.task.id]
        : "workflow" in s
          ? ["workflow", s.workflow.id]
          : ["launch plan", s.launchPlan.id];
    out(`  ${kind} ${id?.name}`);
  }
  return 0;
}

/** Serves the module's function tasks until SIGINT/SIGTERM. */
export async function workerModule(remote: FriendlyRemote, a: ParsedArgs, out: (s: string) => void) {
  const file = a.words[1];
  const { functions } = await load(file, "worker");
  if (Object.keys(functions).length === 0) throw new Error(`${file} exports no function tasks`);
  const w = new Worker({
    client: remote.client,
    tasks: functions,
    concurrency: Number(flag(a, "--concurrency") ?? 4),
  }).start();
  out(`worker serving ${Object.keys(functions).join(", ")}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await w.stop();
  return 0;
}

function date(a: ParsedArgs, name: string): Date {
  const text = flag(a, name);
  const d = text === undefined ? undefined : new Date(text);
  if (d === undefined || Number.isNaN(d.getTime()))
    throw new Error(`backfill needs ${name} as an ISO date/time`);
  return d;
}

/** `backfill LP --from T --to T [--parallel] [--dry-run] [--version V]`. */
export async function backfill(remote: FriendlyRemote, a: ParsedArgs, out: (s: string) => void) {
  const lp = a.words[1];
  if (lp === undefined) throw new Error("backfill needs a launch plan name");
  const version = flag(a, "--version");
  const lpVersion = flag(a, "--lp-version");
  const plan = await remote.launchBackfill({
    launchPlan: lp,
    from: date(a, "--from"),
    to: date(a, "--to"),
    parallel: flag(a, "--parallel") === "true",
    dryRun: flag(a, "--dry-run") === "true",
    ...(version === undefined ? {} : { version }),
    ...(lpVersion === undefined ? {} : { launchPlanVersion: lpVersion }),
  });
  out(`${plan.ticks.length} run(s) of ${lp}: ${plan.ticks.map((t) => t.toISOString()).join(", ")}`);
  if (plan.execution !== undefined) {
    out(`execution ${plan.execution.name} created (workflow ${plan.workflow.id?.name} ${plan.version})`);
    printConsoleUrl(plan.execution, out);
  }
  return 0;
}
