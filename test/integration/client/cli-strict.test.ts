// The `petrel` CLI's manners, driven as a subprocess against a real server: strict arguments (one line, exit 2),
// --version, help (serve's too), missing executions, plain progress lines off a terminal, commands that say what
// they did, `signal wait`, and completion scripts.
import fs from "node:fs";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase } from "../../../gen/flyteidl/core/execution_pb.js";
import { NodeSchema } from "../../../gen/flyteidl/core/workflow_pb.js";
import { CONFIG_SETTINGS } from "../../../server/config.js";
import {
  bind,
  intType,
  launchPlanId,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../../fixtures/flyte-builders.js";
import { eventually } from "../../support/eventually.js";
import { exited, runPetrel } from "../../support/server-process.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

const P = "strict";
let t: TestServer;

async function petrel(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runPetrel(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await exited(child);
  return { code, stdout, stderr };
}
const cli = (...args: string[]) => petrel(["--endpoint", t.grpcAddress, "--project", P, ...args]);
const created = (stdout: string) => /execution (\S+) created/.exec(stdout)?.[1] ?? "";

/** A gate then `double`: the gate approves (`go`, boolean) or takes an integer (`n`). */
async function registerGated(name: string, gate: "approve" | "signal") {
  const condition =
    gate === "approve"
      ? { case: "approve" as const, value: { signalId: "go" } }
      : { case: "signal" as const, value: { signalId: "n", type: intType(), outputVariableName: "a" } };
  const node = create(NodeSchema, {
    id: "gate",
    inputs: gate === "approve" ? [bind("a", "", "x")] : [],
    target: { case: "gateNode", value: { condition } },
  });
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [node, taskNode("n0", taskId("double", "v1", P), [bind("a", "gate", "a")])],
    outputBindings: [bind("o", "n0", "o")],
  });
  await t.admin.createWorkflow({ id: workflowId(name, "v1", P), spec: { template: wf } });
  await t.admin.createLaunchPlan({
    id: launchPlanId(name, "v1", P),
    spec: { workflowId: workflowId(name, "v1", P) },
  });
}

beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: P, name: P } });
  await t.admin.createTask({
    id: taskId("double", "v1", P),
    spec: {
      template: taskTemplate({
        inputs: { a: intType() },
        outputs: { o: intType() },
        command: ["sh", "-c", "echo $(( {{.inputs.a}} * 2 )) > {{.outputPrefix}}/o"],
      }),
    },
  });
  await registerGated("approved", "approve");
  await registerGated("valued", "signal");
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe("petrel CLI: arguments and help", () => {
  it("an unknown flag, a bad -o and a non-numeric --limit are one line on stderr with exit code 2", async () => {
    const cases: [string[], string][] = [
      [["get", "tasks", "--frob"], "unknown flag --frob for petrel get (see petrel get --help)"],
      [["get", "tasks", "-o", "xml"], '-o/--output must be table, json or yaml, not "xml"'],
      [["get", "executions", "--limit", "ten"], '--limit expects a positive whole number, not "ten"'],
      [["watch", "x", "-o", "yaml"], '-o/--output must be json, not "yaml"'],
      [["help", "nope"], 'no command "nope" (see petrel help)'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect({ args, code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
        args,
        code: 2,
        stderr: `petrel: ${message}\n`,
        stdout: "",
      });
    }
  }, 60_000);

  it("--version prints the package.json version", async () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.resolve(import.meta.dirname, "../../../package.json"), "utf8"),
    );
    for (const args of [["--version"], ["--endpoint", "localhost:1", "--version"]]) {
      const r = await petrel(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`petrel ${pkg.version}\n`);
    }
  }, 60_000);

  it("help lists the commands; help COMMAND and COMMAND --help show its flags", async () => {
    const all = await petrel(["help"]);
    expect(all.code).toBe(0);
    for (const c of ["get", "run", "watch", "signal", "completion"])
      expect(all.stdout).toMatch(new RegExp(`^ {2}${c} `, "m"));
    const run = await petrel(["help", "run"]);
    expect(run.stdout).toContain("usage: petrel run launch-plan|workflow|task NAME");
    expect(run.stdout).toMatch(/^ {2}--wait +follow the execution/m);
    expect((await petrel(["run", "--help"])).stdout).toBe(run.stdout);
    const signal = await petrel(["signal", "--help"]);
    expect(signal.stdout).toContain("wait EXECUTION SIGNAL [--timeout 5m]");
  }, 60_000);

  it("serve --help lists every server flag with its environment variable and default", async () => {
    const r = await petrel(["serve", "--help"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const s of Object.values(CONFIG_SETTINGS))
      expect(r.stdout).toMatch(new RegExp(`^ {2}${s.flag} .* ${s.env} .*\\(default: .+\\)$`, "m"));
    expect(r.stdout).toMatch(/--grpc-port N +PETREL_GRPC_PORT .*\(default: 8089\)/);
  }, 60_000);

  it("completion prints bash and zsh scripts", async () => {
    const bash = await petrel(["completion", "bash"]);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain("complete -F _petrel petrel");
    expect(bash.stdout).toContain("get) flags=");
    const zsh = await petrel(["completion", "zsh"]);
    expect(zsh.stdout.startsWith("#compdef petrel\n")).toBe(true);
    const fish = await petrel(["completion", "fish"]);
    expect([fish.code, fish.stderr]).toEqual([2, 'petrel: completion takes bash or zsh, not "fish"\n']);
  }, 60_000);
});

describe("petrel CLI: executions", () => {
  it("a missing execution is an error naming it, not an empty table", async () => {
    for (const args of [
      ["watch", "nope"],
      ["get", "node-executions", "nope"],
      ["signal", "list", "nope"],
      ["terminate", "nope"],
    ]) {
      const r = await cli(...args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({
        args,
        code: 1,
        stderr: `petrel: no execution nope in ${P}/development\n`,
      });
    }
  }, 60_000);

  it("run --wait and watch print plain lines off a terminal, phases by name; watch -o json keeps JSON", async () => {
    const r = await cli("run", "task", "double", "--input", "a=21", "--wait");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const name = created(r.stdout);
    const lines = r.stdout.trim().split("\n");
    // The execution's console page, on the endpoint (as flytekit's links are): the gRPC port serves it too.
    expect(lines.slice(0, 2)).toEqual([
      `execution ${name} created`,
      `console: http://${t.grpcAddress}/console/projects/${P}/domains/development/executions/${name}`,
    ]);
    expect(lines).not.toContainEqual(expect.stringContaining("\x1b["));
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}node \S+: SUCCEEDED {2}task double {2}attempt 1 {2}\d/),
    );
    expect(lines.slice(-2)).toEqual([`${name}: SUCCEEDED`, '{"o":42}']);
    const w = await cli("watch", name);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/^ {2}node \S+: SUCCEEDED {2}task double {2}attempt 1/m);
    expect(w.stdout.trim().split("\n").at(-1)).toBe(`${name}: SUCCEEDED`);
    const json = await cli("watch", name, "-o", "json");
    const events = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.some((e) => e.execution?.closure?.phase === "SUCCEEDED")).toBe(true);
  }, 60_000);

  it("signal wait waits for the gate; approve, terminate, relaunch and recover say what they did", async () => {
    const started = await cli("run", "launch-plan", "approved", "--input", "x=5");
    const name = created(started.stdout);
    const full = `${P}/development/${name}`;
    const early = await cli("signal", "approve", "nosuch", name);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(new RegExp(`^petrel: no signal "?nosuch"? in execution .*${name}.*\\n$`));
    const waited = await cli("signal", "wait", name, "go", "--timeout", "30s");
    expect([waited.code, waited.stdout]).toEqual([0, `signal go of ${full} is waiting (type boolean)\n`]);
    const approved = await cli("signal", "approve", "go", name);
    expect([approved.code, approved.stdout]).toEqual([0, `approved signal go of ${full}\n`]);
    const id = { project: P, domain: "development", name };
    await eventually(
      () => t.admin.getExecution({ id }),
      (e) => e.closure?.phase === WorkflowExecution_Phase.SUCCEEDED,
      30_000,
      100,
    );
    const after = await cli("signal", "wait", name, "go");
    expect(after.stdout).toBe(`signal go of ${full} is set: true\n`);

    const page = (n: string) =>
      `http://${t.grpcAddress}/console/projects/${P}/domains/development/executions/${n}`;
    const relaunched = await cli("relaunch", name);
    const again =
      new RegExp(`^relaunched ${full} as ${P}/development/(\\S+)\\n`).exec(relaunched.stdout)?.[1] ?? "";
    expect(relaunched.stdout).toBe(
      `relaunched ${full} as ${P}/development/${again}\nconsole: ${page(again)}\n`,
    );
    const terminated = await cli("terminate", again);
    expect([terminated.code, terminated.stdout]).toEqual([0, `terminated ${P}/development/${again}\n`]);
    const recovered = await petrel(["--endpoint", t.grpcAddress, "--project", P, "recover", again], {
      PETREL_CONSOLE_URL: "https://petrel.example",
    });
    expect(recovered.stdout).toMatch(
      new RegExp(
        `^recovered ${P}/development/${again} as ${P}/development/(\\S+)\\n` +
          `console: https://petrel\\.example/console/projects/${P}/domains/development/executions/\\1\\n$`,
      ),
    );
  }, 90_000);

  it("signal set converts the value with the signal's type; signal wait fails once the execution is over", async () => {
    const name = created((await cli("run", "launch-plan", "valued", "--input", "x=0")).stdout);
    const full = `${P}/development/${name}`;
    expect((await cli("signal", "wait", name, "n", "--timeout", "30s")).stdout).toBe(
      `signal n of ${full} is waiting (type integer)\n`,
    );
    const set = await cli("signal", "set", "n", name, "4");
    expect([set.code, set.stdout]).toEqual([0, `set signal n of ${full} to 4\n`]);
    const w = await cli("watch", name);
    expect(w.stdout.trim().split("\n").at(-1)).toBe(`${name}: SUCCEEDED`);
    const late = await cli("signal", "wait", name, "other", "--timeout", "10s");
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(
      new RegExp(`^petrel: execution ${name} finished without waiting for signal other\\n$`),
    );
  }, 90_000);
});
