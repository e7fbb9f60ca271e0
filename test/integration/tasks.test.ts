import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { Resources_ResourceName, TaskTemplateSchema } from "../../gen/flyteidl/core/tasks_pb.js";
import { intType, stringType, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await t.admin.registerProject({ project: { id: "archived", name: "archived" } });
  await t.admin.updateProject({ id: "archived", state: 1 });
});
afterAll(async () => {
  await t?.stop();
});

const spec = (o: Parameters<typeof taskTemplate>[0] = {}) => ({ template: taskTemplate(o) });

describe("CreateTask / GetTask", () => {
  it("stores the template under the request id and returns it with its closure", async () => {
    const id = taskId("core.add", "v1");
    await t.admin.createTask({
      id,
      spec: {
        template: taskTemplate({
          id: taskId("something.else", "x"),
          inputs: { a: intType() },
          outputs: { o: intType() },
        }),
        description: {
          shortDescription: "adds",
          longDescription: { content: { case: "value", value: "adds numbers" } },
        },
      },
    });
    const task = await t.admin.getTask({ id });
    expect(task.id).toMatchObject({ name: "core.add", version: "v1", resourceType: ResourceType.TASK });
    expect(task.closure?.compiledTask?.template?.id?.name).toBe("core.add");
    expect(task.closure?.createdAt?.seconds).toBeGreaterThan(0n);
    expect(task.shortDescription).toBe("adds");
    const viaGrpcJs = await t.grpcJs.unary("getTask", {
      id: { ...id, resourceType: ResourceType.UNSPECIFIED },
    });
    expect(viaGrpcJs.closure?.compiledTask?.template?.type).toBe("python-task");
    const desc = await t.admin.getDescriptionEntity({ id }).catch(() => undefined);
    if (desc !== undefined)
      expect(desc.longDescription?.content).toEqual({ case: "value", value: "adds numbers" });
  });

  it("answers ALREADY_EXISTS for identical re-registration and INVALID_ARGUMENT with a diff otherwise", async () => {
    const id = taskId("core.same", "v1");
    await t.admin.createTask({ id, spec: spec({ inputs: { a: intType() } }) });
    await expectCode(
      t.admin.createTask({ id, spec: spec({ inputs: { a: intType() } }) }),
      Code.AlreadyExists,
      "task with identical structure already exists",
    );
    const err = await expectCode(
      t.admin.createTask({ id, spec: spec({ inputs: { a: stringType() } }) }),
      Code.InvalidArgument,
      /^core\.same task with different structure already exists\. \(Please register a new version of the task\):\n/,
    );
    expect(err.rawMessage).toContain(
      '/template/interface/inputs/variables/a/type/simple:\n\t- "INTEGER" \n\t+ "STRING"',
    );
  });

  it("lets exactly one of many concurrent identical registrations succeed; the rest see ALREADY_EXISTS", async () => {
    const id = taskId("core.race", "v1");
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => t.admin.createTask({ id, spec: spec({ inputs: { a: intType() } }) })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as { code: Code }).code).toBe(Code.AlreadyExists);
    }
  });

  it("validates in Flyte's order with Flyte's messages", async () => {
    const id = taskId("core.bad", "v1");
    await expectCode(t.admin.createTask({ spec: spec() }), Code.InvalidArgument, "missing id");
    await expectCode(
      t.admin.createTask({ id: { ...id, resourceType: ResourceType.WORKFLOW }, spec: spec() }),
      Code.InvalidArgument,
      /^unexpected resource type workflow for identifier \[.*name:"core.bad".*\], expected task instead$/,
    );
    for (const field of ["project", "domain", "name", "version"] as const) {
      await expectCode(
        t.admin.createTask({ id: { ...id, [field]: "" }, spec: spec() }),
        Code.InvalidArgument,
        `missing ${field}`,
      );
    }
    await expectCode(
      t.admin.createTask({ id: taskId("x", "v1", "nope"), spec: spec() }),
      Code.InvalidArgument,
      "failed to validate that project [nope] and domain [development] are registered, err: [project [nope] not found]",
    );
    const inactive = await expectCode(
      t.admin.createTask({ id: taskId("x", "v1", "archived"), spec: spec() }),
      Code.InvalidArgument,
      "project [archived] is not active",
    );
    expect(inactive.details).toHaveLength(1);
    await expectCode(
      t.admin.createTask({ id: taskId("x", "v1", "flytesnacks", "qa"), spec: spec() }),
      Code.InvalidArgument,
      "domain [qa] is unrecognized by system",
    );
    await expectCode(t.admin.createTask({ id }), Code.InvalidArgument, "missing spec");
    await expectCode(
      t.admin.createTask({ id, spec: spec({ type: "" }) }),
      Code.InvalidArgument,
      "missing type",
    );
    await expectCode(
      t.admin.createTask({
        id,
        spec: spec({
          edit: (x) => {
            x.metadata = undefined;
          },
        }),
      }),
      Code.InvalidArgument,
      "missing metadata",
    );
    await expectCode(
      t.admin.createTask({
        id,
        spec: spec({
          edit: (x) => {
            if (x.metadata?.runtime) x.metadata.runtime.version = "";
          },
        }),
      }),
      Code.InvalidArgument,
      "missing runtime version",
    );
    await expectCode(
      t.admin.createTask({
        id,
        spec: spec({
          edit: (x) => {
            x.interface = undefined;
          },
        }),
      }),
      Code.InvalidArgument,
      "missing typed interface",
    );
    await expectCode(
      t.admin.createTask({ id, spec: spec({ image: "" }) }),
      Code.InvalidArgument,
      "missing image",
    );
  });

  it("checks resources and compiles container tasks", async () => {
    const id = taskId("core.res", "v1");
    const withResources = (
      requests: [Resources_ResourceName, string][],
      limits: [Resources_ResourceName, string][],
    ) =>
      spec({
        edit: (x) => {
          if (x.target.case === "container") {
            x.target.value.resources = {
              $typeName: "flyteidl.core.Resources",
              requests: requests.map(([name, value]) => ({
                $typeName: "flyteidl.core.Resources.ResourceEntry",
                name,
                value,
              })),
              limits: limits.map(([name, value]) => ({
                $typeName: "flyteidl.core.Resources.ResourceEntry",
                name,
                value,
              })),
            };
          }
        },
      });
    const { CPU, MEMORY } = Resources_ResourceName;
    await expectCode(
      t.admin.createTask({ id, spec: withResources([[CPU, "2"]], [[CPU, "1"]]) }),
      Code.InvalidArgument,
      "requested cpu [2] is greater than its limit [1]",
    );
    await expectCode(
      t.admin.createTask({
        id,
        spec: withResources(
          [
            [MEMORY, "1Gi"],
            [MEMORY, "2Gi"],
          ],
          [],
        ),
      }),
      Code.InvalidArgument,
      "resource memory is specified more than once in requests",
    );
    await expectCode(
      t.admin.createTask({ id, spec: withResources([[CPU, "lots"]], []) }),
      Code.InvalidArgument,
      "invalid quantity [lots] for requests resource cpu",
    );
    await t.admin.createTask({
      id,
      spec: withResources(
        [
          [CPU, "500m"],
          [MEMORY, "1Gi"],
        ],
        [
          [CPU, "1"],
          [MEMORY, "2Gi"],
        ],
      ),
    });
    await expectCode(
      t.admin.createTask({
        id: taskId("core.nocmd"),
        spec: spec({ inputs: { a: intType() }, command: [], args: [] }),
      }),
      Code.InvalidArgument,
      "task failed compilation with Collected Errors: 1\n\tError 0: Code: ValueRequired, Node Id: root, Description: Value required [command].\n",
    );
  });

  it("gets a missing task as NOT_FOUND with Flyte's text", async () => {
    await expectCode(
      t.admin.getTask({ id: taskId("ghost", "v9") }),
      Code.NotFound,
      /^missing entity of type TASK with identifier resource_type:TASK project:"flytesnacks" domain:"development" name:"ghost" version:"v9"$/,
    );
  });

  it("keeps template fields it does not know, byte for byte", async () => {
    const id = taskId("core.future", "v1");
    const known = toBinary(TaskTemplateSchema, taskTemplate({ id }));
    // field 9001, length-delimited "abc": what a newer flyteidl could add
    const wire = new Uint8Array([...known, 0xca, 0xb2, 0x04, 0x03, 0x61, 0x62, 0x63]);
    await t.admin.createTask({ id, spec: { template: fromBinary(TaskTemplateSchema, wire) } });
    const task = await t.grpcJs.unary("getTask", { id });
    const template = task.closure?.compiledTask?.template;
    expect(template?.$unknown).toHaveLength(1);
    expect(toBinary(TaskTemplateSchema, template as NonNullable<typeof template>)).toEqual(wire);
  });
});

describe("ListTasks / ListTaskIds", () => {
  it("lists versions newest first by default and pages with keyset tokens", async () => {
    for (const v of ["a", "b", "c", "d", "e"])
      await t.admin.createTask({ id: taskId("list.me", v), spec: spec() });
    const scope = { project: "flytesnacks", domain: "development", name: "list.me" };
    const first = await t.admin.listTasks({ id: scope, limit: 2 });
    expect(first.tasks.map((x) => x.id?.version)).toEqual(["e", "d"]);
    const second = await t.admin.listTasks({ id: scope, limit: 2, token: first.token });
    expect(second.tasks.map((x) => x.id?.version)).toEqual(["c", "b"]);
    const third = await t.admin.listTasks({ id: scope, limit: 2, token: second.token });
    expect(third.tasks.map((x) => x.id?.version)).toEqual(["a"]);
    expect(third.token).toBe("");
    const latest = await t.admin.listTasks({
      id: scope,
      limit: 1,
      sortBy: { key: "created_at", direction: Sort_Direction.DESCENDING },
    });
    expect(latest.tasks[0]?.id?.version).toBe("e");
    const byVersion = await t.admin.listTasks({
      id: { project: "flytesnacks", domain: "development" },
      limit: 10,
      filters: "eq(version,c)",
    });
    expect(byVersion.tasks.map((x) => `${x.id?.name}@${x.id?.version}`)).toEqual(["list.me@c"]);
  });

  it("never skips or repeats an item while rows are inserted between pages", async () => {
    const originals = Array.from({ length: 10 }, (_, i) => `p${i}`);
    for (const v of originals) await t.admin.createTask({ id: taskId("page.me", v), spec: spec() });
    const scope = { project: "flytesnacks", domain: "development", name: "page.me" };
    for (const direction of [Sort_Direction.DESCENDING, Sort_Direction.ASCENDING]) {
      const seen: string[] = [];
      let token = "";
      let n = 0;
      do {
        const page = await t.admin.listTasks({
          id: scope,
          limit: 3,
          token,
          sortBy: { key: "created_at", direction },
        });
        seen.push(...page.tasks.map((x) => x.id?.version ?? ""));
        token = page.token;
        await t.admin.createTask({ id: taskId("page.me", `new-${direction}-${n++}`), spec: spec() });
      } while (token !== "");
      const old = seen.filter((v) => originals.includes(v));
      expect(old).toEqual(direction === Sort_Direction.DESCENDING ? [...originals].reverse() : originals);
      expect(new Set(seen).size).toBe(seen.length);
    }
  });

  it("filters on timestamps written with Z", async () => {
    const future = await t.admin.listTasks({
      id: { project: "flytesnacks", domain: "development" },
      limit: 5,
      filters: "gt(created_at,2999-01-01T00:00:00Z)",
    });
    expect(future.tasks).toEqual([]);
    const past = await t.admin.listTasks({
      id: { project: "flytesnacks", domain: "development" },
      limit: 5,
      filters: "gt(created_at,2000-01-01T00:00:00Z)",
    });
    expect(past.tasks).toHaveLength(5);
  });

  it("lists distinct names", async () => {
    const ids = await t.admin.listTaskIds({ project: "flytesnacks", domain: "development", limit: 100 });
    const names = ids.entities.map((e) => e.name);
    expect(names).toEqual([...new Set(names)].sort());
    expect(names).toContain("list.me");
    const page = await t.admin.listTaskIds({ project: "flytesnacks", domain: "development", limit: 1 });
    const next = await t.admin.listTaskIds({
      project: "flytesnacks",
      domain: "development",
      limit: 1,
      token: page.token,
    });
    expect(next.entities[0]?.name).toBe(names[1]);
  });

  it("rejects bad list requests", async () => {
    await expectCode(t.admin.listTasks({ limit: 1 }), Code.InvalidArgument, "missing project");
    await expectCode(
      t.admin.listTasks({ id: { project: "p" }, limit: 1 }),
      Code.InvalidArgument,
      "missing domain",
    );
    await expectCode(
      t.admin.listTasks({ id: { project: "p", domain: "d" } }),
      Code.InvalidArgument,
      "invalid value for limit",
    );
    await expectCode(
      t.admin.listTasks({ id: { project: "p", domain: "d" }, limit: 1, filters: "eq(workflow.name,x)" }),
      Code.InvalidArgument,
      "'w' entity is not allowed in filters",
    );
    await expectCode(
      t.admin.listTasks({ id: { project: "p", domain: "d" }, limit: 1, token: "bogus!" }),
      Code.InvalidArgument,
      "invalid pagination token bogus! for ListTasks",
    );
    await expectCode(
      t.admin.listTaskIds({ project: "p", domain: "d", limit: 0 }),
      Code.InvalidArgument,
      "invalid value for limit",
    );
  });
});
