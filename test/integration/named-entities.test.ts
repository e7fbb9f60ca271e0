import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NamedEntityState } from "../../gen/flyteidl/admin/common_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { intType, taskId, taskTemplate } from "../fixtures/flyte-builders.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const P = { project: "flytesnacks", domain: "development" };
beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  for (const [name, version] of [
    ["alpha", "v1"],
    ["alpha", "v2"],
    ["beta", "v1"],
    [".flytegen.beta", "v1"],
    ["gamma", "v1"],
  ] as const) {
    await t.admin.createTask({
      id: taskId(name, version),
      spec: {
        template: taskTemplate({ inputs: { a: intType() } }),
        description: {
          shortDescription: `${name} short`,
          longDescription: { content: { case: "value", value: `${name} long` } },
        },
      },
    });
  }
});
afterAll(async () => {
  await t?.stop();
});

describe("named entities", () => {
  it("lists distinct names, hiding .flytegen wrappers by default", async () => {
    const list = await t.admin.listNamedEntities({ resourceType: ResourceType.TASK, ...P, limit: 10 });
    expect(list.entities.map((e) => e.id?.name)).toEqual(["alpha", "beta", "gamma"]);
    expect(list.entities.every((e) => e.metadata?.state === NamedEntityState.NAMED_ENTITY_ACTIVE)).toBe(true);
    const all = await t.admin.listNamedEntities({
      resourceType: ResourceType.TASK,
      ...P,
      limit: 10,
      filters: "eq(state,0)",
    });
    expect(all.entities.map((e) => e.id?.name)).toEqual([".flytegen.beta", "alpha", "beta", "gamma"]);
    const page = await t.admin.listNamedEntities({ resourceType: ResourceType.TASK, ...P, limit: 2 });
    const next = await t.admin.listNamedEntities({
      resourceType: ResourceType.TASK,
      ...P,
      limit: 2,
      token: page.token,
    });
    expect([...page.entities, ...next.entities].map((e) => e.id?.name)).toEqual(["alpha", "beta", "gamma"]);
  });

  it("archives and describes through UpdateNamedEntity", async () => {
    await t.admin.updateNamedEntity({
      resourceType: ResourceType.TASK,
      id: { ...P, name: "beta" },
      metadata: { description: "old stuff", state: NamedEntityState.NAMED_ENTITY_ARCHIVED },
    });
    const got = await t.admin.getNamedEntity({ resourceType: ResourceType.TASK, id: { ...P, name: "beta" } });
    expect(got.metadata).toMatchObject({
      description: "old stuff",
      state: NamedEntityState.NAMED_ENTITY_ARCHIVED,
    });
    const active = await t.admin.listNamedEntities({
      resourceType: ResourceType.TASK,
      ...P,
      limit: 10,
      filters: "eq(state,0)+not_like(name,.flytegen%)",
    });
    expect(active.entities.map((e) => e.id?.name)).toEqual(["alpha", "gamma"]);
    // archived names stay fetchable by version
    expect((await t.admin.getTask({ id: taskId("beta") })).id?.name).toBe("beta");
  });

  it("rejects bad requests with Flyte's messages", async () => {
    await expectCode(
      t.admin.getNamedEntity({ id: { ...P, name: "alpha" } }),
      Code.InvalidArgument,
      "invalid value for resource_type",
    );
    await expectCode(
      t.admin.getNamedEntity({ resourceType: ResourceType.TASK, id: { ...P, name: "nope" } }),
      Code.NotFound,
      "entry not found",
    );
    await expectCode(
      t.admin.updateNamedEntity({ resourceType: ResourceType.TASK, id: { ...P, name: "alpha" } }),
      Code.InvalidArgument,
      "missing metadata",
    );
    await expectCode(
      t.admin.updateNamedEntity({
        resourceType: ResourceType.WORKFLOW,
        id: { ...P, name: "alpha" },
        metadata: { description: "x" },
      }),
      Code.NotFound,
      "entry not found",
    );
    await expectCode(
      t.admin.listNamedEntities({ resourceType: ResourceType.TASK, ...P }),
      Code.InvalidArgument,
      "invalid value for limit",
    );
  });
});

describe("description entities", () => {
  it("gets and lists the descriptions stored at registration", async () => {
    const d = await t.admin.getDescriptionEntity({ id: taskId("alpha", "v2") });
    expect(d.shortDescription).toBe("alpha short");
    expect(d.longDescription?.content).toEqual({ case: "value", value: "alpha long" });
    const list = await t.admin.listDescriptionEntities({
      resourceType: ResourceType.TASK,
      id: { ...P, name: "alpha" },
      limit: 10,
    });
    expect(list.descriptionEntities.map((x) => x.id?.version)).toEqual(["v2", "v1"]);
    await expectCode(
      t.admin.getDescriptionEntity({ id: { ...taskId("alpha"), resourceType: ResourceType.UNSPECIFIED } }),
      Code.InvalidArgument,
      "invalid value for resource_type",
    );
    await expectCode(t.admin.getDescriptionEntity({ id: taskId("nope") }), Code.NotFound, "entry not found");
    await expectCode(
      t.admin.listDescriptionEntities({ resourceType: ResourceType.TASK, id: P, limit: 10 }),
      Code.InvalidArgument,
      "missing name",
    );
  });
});
