// The secrets a task asks for through its security context, from the configured directory and environment prefix,
// as flytekit reads them (`_FSEC_<GROUP>_<KEY>` variables, files under FLYTE_SECRETS_DEFAULT_DIR): exactly those,
// never others; one that is not configured fails the attempt at once, naming the secret and not any value.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import {
  type Secret_MountType,
  SecretSchema,
  SecurityContextSchema,
} from "../../gen/flyteidl/core/security_pb.js";
import { DataLoadingConfigSchema } from "../../gen/flyteidl/core/tasks_pb.js";
import {
  bind,
  launchPlanId,
  stringType,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };
const ENV = 1 as Secret_MountType;
const FILE = 2 as Secret_MountType;
const ANY = 0 as Secret_MountType;

const SCRIPT = [
  'env | grep -E "^_FSEC_|^FLYTE_SECRETS_ENV_PREFIX=" | sort > /var/outputs/seen',
  'if [ -n "$FLYTE_SECRETS_DEFAULT_DIR" ]; then (cd "$FLYTE_SECRETS_DEFAULT_DIR" && find . -type f | sort && cat api/v2/token && echo) >> /var/outputs/seen; fi',
  "env | grep -c nope >> /var/outputs/seen || true",
].join("; ");

describe("task secrets", () => {
  let t: TestServer;
  let dir: string;

  async function run(
    name: string,
    secrets: { group: string; key: string; groupVersion?: string; mountRequirement: Secret_MountType }[],
  ) {
    await t.admin.createTask({
      id: taskId(name),
      spec: {
        template: taskTemplate({
          outputs: { seen: stringType() },
          command: ["sh", "-c", SCRIPT],
          edit: (tt) => {
            if (tt.target.case === "container")
              tt.target.value.dataConfig = create(DataLoadingConfigSchema, {
                enabled: true,
                inputPath: "/var/inputs",
                outputPath: "/var/outputs",
              });
            tt.securityContext = create(SecurityContextSchema, {
              secrets: secrets.map((s) => create(SecretSchema, s)),
            });
          },
        }),
      },
    });
    const wf = workflowTemplate({
      outputs: { seen: stringType() },
      nodes: [taskNode("n0", taskId(name), [])],
      outputBindings: [bind("seen", "n0", "seen")],
    });
    await t.admin.createWorkflow({ id: workflowId(name), spec: { template: wf } });
    await t.admin.createLaunchPlan({ id: launchPlanId(name), spec: { workflowId: workflowId(name) } });
    await t.admin.createExecution({ ...P, name, spec: { launchPlan: launchPlanId(name) }, inputs: {} });
    return eventually(
      () => t.admin.getExecution({ id: { ...P, name } }),
      (e) => e.closure?.phase === W.SUCCEEDED || e.closure?.phase === W.FAILED,
      30_000,
    );
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-secrets-"));
    const put = (rel: string, value: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), value);
    };
    put("db/password", "dir-pass");
    put("api/v2/token", "versioned");
    put("other/unasked", "nope-file");
    t = await startTestServer({
      env: {
        PETREL_SECRETS_DIR: dir,
        PETREL_SECRETS_ENV_PREFIX: "PETREL_TEST_SECRET_",
        PETREL_TEST_SECRET_MAIL_KEY: "env-mail",
        PETREL_TEST_SECRET_UNASKED_X: "nope-env",
      },
    });
    await t.admin.registerProject({ project: { id: P.project, name: P.project } });
  });
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("gives a task exactly the secrets it asks for, from the directory and the environment", async () => {
    const done = await run("asks", [
      { group: "db", key: "password", mountRequirement: ENV },
      { group: "mail", key: "key", mountRequirement: ANY },
      { group: "api", groupVersion: "v2", key: "token", mountRequirement: FILE },
    ]);
    expect(done.closure?.phase, JSON.stringify(done.closure?.outputResult)).toBe(W.SUCCEEDED);
    const out = (await t.admin.getExecutionData({ id: done.id })).fullOutputs?.literals.seen;
    const seen =
      out?.value.case === "scalar" && out.value.value.value.case === "primitive"
        ? out.value.value.value.value.value.value
        : "";
    expect(String(seen).trim().split("\n")).toEqual([
      "FLYTE_SECRETS_ENV_PREFIX=_FSEC_",
      "_FSEC_DB_PASSWORD=dir-pass",
      "_FSEC_MAIL_KEY=env-mail",
      "./api/v2/token",
      "versioned",
      "0",
    ]);
  });

  it("gives a task that asks for none no secrets", async () => {
    const done = await run("none", []);
    expect(done.closure?.phase).toBe(W.SUCCEEDED);
    const out = (await t.admin.getExecutionData({ id: done.id })).fullOutputs?.literals.seen;
    const seen =
      out?.value.case === "scalar" && out.value.value.value.case === "primitive"
        ? out.value.value.value.value.value.value
        : "";
    expect(String(seen).trim()).toBe("0");
  });

  it("fails the attempt at once, naming a secret that is not configured", async () => {
    const done = await run("missing", [
      { group: "db", key: "password", mountRequirement: ENV },
      { group: "absent", key: "thing", mountRequirement: ANY },
    ]);
    expect(done.closure?.phase).toBe(W.FAILED);
    const error = done.closure?.outputResult.case === "error" ? done.closure.outputResult.value : undefined;
    expect(error?.code).toContain("SecretNotFound");
    expect(error?.message).toContain(
      `secret "absent/thing" is not configured: looked for file ${path.join(dir, "absent", "thing")} or variable PETREL_TEST_SECRET_ABSENT_THING`,
    );
    expect(error?.message).not.toContain("dir-pass");
  });
});
