import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { type Node, NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { loadConfig } from "../../server/config.js";
import type { BlobStore } from "../../server/storage/blob-store.js";
import { createBlobStore } from "../../server/storage/create-blob-store.js";
import { defaultRawPrefix, executionMetadataDirs, rawSandbox } from "../../server/storage/layout.js";
import { HmacUrlSigner } from "../../server/storage/signed-urls.js";
import {
  bind,
  echoWorkflow,
  executionRequest,
  gateWorkflow,
  intType,
  launchPlanId,
  literalInt,
  literalString,
  registerEchoProject,
  registerWorkflow,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { storeSubjects } from "../support/store-subjects.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const P = { project: "flytesnacks", domain: "development" };
const DAY = 24 * 3_600_000;
const RETENTION = { batch: 2, intervalMs: 3_600_000, pauseMs: 1 };
const key = (name: string) => ({ ...P, name });

const child: Node = create(NodeSchema, {
  id: "child",
  inputs: [bind("x", "", "x")],
  target: {
    case: "workflowNode",
    value: { reference: { case: "launchplanRef", value: launchPlanId("one") } },
  },
});

const run = (t: TestServer, name: string, lp: string, rawPrefix?: string) =>
  t.admin.createExecution(
    executionRequest(
      launchPlanId(lp),
      { x: literalInt(1) },
      name,
      rawPrefix === undefined ? {} : { rawOutputDataConfig: { outputLocationPrefix: rawPrefix } },
    ),
  );

const phaseOf = (t: TestServer, name: string) =>
  t.admin.getExecution({ id: key(name) }).then(
    (e) => e.closure?.phase ?? W.UNDEFINED,
    (err: unknown) => {
      if (ConnectError.from(err).code === Code.NotFound) return undefined;
      throw err;
    },
  );

const settled = (t: TestServer, name: string, phases = [W.SUCCEEDED]) =>
  eventually(
    () => phaseOf(t, name),
    (p) => p !== undefined && phases.includes(p),
    40_000,
  );

/** Makes executions look `days` old: last updated (and, unless `updatedOnly`, created) then. */
async function age(t: TestServer, names: string[], days: number, what: "all" | "created" = "all") {
  await t.server.db.raw(
    `UPDATE executions SET execution_created_at = now() - ? * interval '1 day'
       ${what === "all" ? ", updated_at = now() - ? * interval '1 day'" : ""}
      WHERE execution_name = ANY(?)`,
    what === "all" ? [days, days, names] : [days, names],
  );
}

const childOf = async (t: TestServer, parent: string) =>
  (
    (await t.server.db.raw(
      `SELECT c.execution_name FROM executions c JOIN node_executions n ON n.id = c.parent_node_execution_id
        JOIN executions p ON p.id = n.execution_id WHERE p.execution_name = ?`,
      [parent],
    )) as { rows: { execution_name: string }[] }
  ).rows[0]?.execution_name ?? "";

const count = async (t: TestServer, sql: string, bindings: readonly Knex.RawBinding[]) =>
  Number(((await t.server.db.raw(sql, bindings)) as { rows: { n: string }[] }).rows[0]?.n);

describe.each(storeSubjects())("retention on the $name store", (subject) => {
  let t: TestServer;
  let env: Record<string, string>;
  let store: BlobStore;
  const blobsUnder = async (dir: string) => (await store.list(`${dir}/`)).length;

  beforeAll(async () => {
    env = { ...(await subject.env()), PETREL_RETAIN_EXECUTIONS_DAYS: "30" };
    t = await startTestServer({ env, start: { retention: RETENTION } });
    store = createBlobStore(
      loadConfig([], { ...env, PETREL_HOME: t.home }),
      new HmacUrlSigner(randomBytes(32)),
    );
    await registerEchoProject(t.admin);
    await registerWorkflow(t.admin, workflowId("one"), echoWorkflow());
    await registerWorkflow(t.admin, workflowId("gate"), gateWorkflow());
    const parent = workflowTemplate({
      inputs: { x: intType() },
      outputs: { o: intType() },
      nodes: [child],
      outputBindings: [bind("o", "child", "o")],
    });
    await registerWorkflow(t.admin, workflowId("parent"), parent);
  });

  afterAll(async () => {
    await store?.close();
    await t?.stop();
    await subject.stop();
  });

  it("deletes old finished executions with their rows and blobs, in batches; keeps recent, running and referenced ones", async () => {
    const old = ["old-a", "old-b", "old-c", "old-d"];
    for (const name of old) await run(t, name, "one");
    const elsewhere = `${store.root}/elsewhere`;
    await run(t, "old-own", "one", elsewhere);
    await run(t, "old-gate", "gate");
    await run(t, "old-signalled", "gate");
    await run(t, "old-fam", "parent");
    await run(t, "young-fam", "parent");
    await run(t, "recent", "one");
    for (const name of [...old, "old-own", "old-fam", "young-fam", "recent"]) await settled(t, name);
    await settled(t, "old-gate", [W.RUNNING]);
    await t.signal.setSignal({
      id: { signalId: "go", executionId: key("old-signalled") },
      value: literalString("ok"),
    });
    await settled(t, "old-signalled");
    const [oldKid, youngKid] = [await childOf(t, "old-fam"), await childOf(t, "young-fam")];
    await settled(t, youngKid);
    // Raw outputs the tasks could have written: under the store's default prefix (Petrel's) and elsewhere (not).
    const ours = rawSandbox(defaultRawPrefix(store.root), key("old-a"), "n0", 0);
    const theirs = rawSandbox(elsewhere, key("old-own"), "n0", 0);
    for (const dir of [ours, theirs]) await store.put(`${dir}/file.txt`, Buffer.from("data"));
    const dirsOf = (name: string) => executionMetadataDirs(store.root, key(name));
    expect(await blobsUnder(dirsOf("old-a")[1] ?? "")).toBeGreaterThan(0);
    const doomed = [...old, "old-own", "old-signalled", "old-fam", oldKid];
    await age(t, [...doomed, "old-gate", youngKid], 40);
    await age(t, ["young-fam"], 40, "created");

    const report = await t.server.retention.pass();

    expect(report.deleted).toBe(doomed.length);
    for (const name of doomed) expect(await phaseOf(t, name)).toBeUndefined();
    for (const name of ["young-fam", youngKid, "recent"]) expect(await phaseOf(t, name)).toBe(W.SUCCEEDED);
    expect(await phaseOf(t, "old-gate")).toBe(W.RUNNING);
    for (const name of doomed) for (const dir of dirsOf(name)) expect(await blobsUnder(dir)).toBe(0);
    expect(await blobsUnder(ours)).toBe(0);
    expect(await blobsUnder(theirs)).toBe(1);
    expect(await blobsUnder(dirsOf("recent")[1] ?? "")).toBeGreaterThan(0);
    const rows = (table: string, column: string) =>
      count(t, `SELECT count(*) AS n FROM ${table} WHERE ${column} = ANY(?)`, [doomed]);
    expect(await rows("signals", "execution_name")).toBe(0);
    expect(
      await count(
        t,
        `SELECT count(*) AS n FROM node_executions n LEFT JOIN executions e ON e.id = n.execution_id
          WHERE e.id IS NULL`,
        [],
      ),
    ).toBe(0);
    const copies = doomed.flatMap((name) => dirsOf(name).map((d) => `${d}/%`));
    expect(await count(t, "SELECT count(*) AS n FROM data_blobs WHERE uri LIKE ANY(?)", [copies])).toBe(0);
    const data = await t.admin.getExecutionData({ id: key("recent") });
    expect(data.fullOutputs?.literals.o).toBeDefined();
    expect(await t.server.retention.pass()).toMatchObject({ deleted: 0 });
  }, 120_000);

  it("shares the work between replicas running retention at once", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `twin-${i}`);
    for (const name of names) await run(t, name, "one");
    for (const name of names) await settled(t, name);
    const finished = () =>
      count(t, "SELECT count(*) AS n FROM executions WHERE phase = ANY(?)", [
        ["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"],
      ]);
    const before = await finished();
    const replica = await startTestServer({
      env,
      database: t.database,
      home: t.home,
      start: { retention: RETENTION },
    });
    try {
      const later = new Date(Date.now() + 60 * DAY);
      const [a, b] = await Promise.all([
        t.server.retention.pass(later),
        replica.server.retention.pass(later),
      ]);
      expect(a.deleted + b.deleted).toBe(before - (await finished()));
      for (const name of names) expect(await phaseOf(t, name)).toBeUndefined();
      expect(await phaseOf(t, "old-gate")).toBe(W.RUNNING);
    } finally {
      replica.grpcJs.close();
      await replica.server.stop(2_000);
    }
  }, 120_000);
});
