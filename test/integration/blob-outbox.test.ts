// The blob outbox: a blob whose database copy committed but whose store copy was never written (the server died
// first) is written to the store by the next sweep, from its database copy, and leaves the outbox.
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ start: { materializer: { sweepMs: 100, staleMs: 500 } } });
});

afterAll(async () => {
  await t?.stop();
});

describe("the blob outbox", () => {
  it("writes what a crash left in it from the database copies", async () => {
    const uri = `${t.server.storageRoot}/metadata/propeller/p-d-crashed/n0/data/inputs.pb`;
    const data = Buffer.from("left behind by a crash");
    await t.server.db.raw("INSERT INTO data_blobs (uri, data) VALUES (?, ?)", [uri, data]);
    await t.server.db.raw(
      "INSERT INTO blob_outbox (uri, created_at) VALUES (?, now() - interval '1 minute')",
      [uri],
    );
    const file = uri.slice("file://".length);
    await eventually(
      async () => fs.existsSync(file),
      (exists) => exists,
    );
    expect(fs.readFileSync(file)).toEqual(data);
    await eventually(
      async () => Number((await t.server.db.raw("SELECT count(*) AS n FROM blob_outbox")).rows[0].n),
      (n) => n === 0,
    );
  });

  it("empties as the engine's blobs reach the store", async () => {
    await t.admin.registerProject({ project: { id: "p1", name: "p1" } });
    const pending = async () =>
      Number((await t.server.db.raw("SELECT count(*) AS n FROM blob_outbox")).rows[0].n);
    const { taskId, taskTemplate, intType, literalInt } = await import("../fixtures/flyte-builders.js");
    await t.admin.createTask({
      id: taskId("echo", "v1", "p1"),
      spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
    });
    await t.admin.createExecution({
      project: "p1",
      domain: "development",
      name: "e1",
      spec: { launchPlan: taskId("echo", "v1", "p1") },
      inputs: { literals: { a: literalInt(7) } },
    });
    await eventually(pending, (n) => n === 0);
    const rows = (await t.server.db.raw("SELECT uri FROM data_blobs WHERE uri LIKE ?", [
      `${t.server.storageRoot}/metadata/propeller/p1-development-e1/%`,
    ])) as { rows: { uri: string }[] };
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const { uri } of rows.rows) expect(fs.existsSync(uri.slice("file://".length)), uri).toBe(true);
  });
});
