import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatchableResource } from "../../gen/flyteidl/admin/matchable_resource_pb.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await t.admin.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
});
afterAll(async () => {
  await t?.stop();
});

const queue = (tag: string) => ({
  target: { case: "executionQueueAttributes" as const, value: { tags: [tag] } },
});
const Q = MatchableResource.EXECUTION_QUEUE;

describe("matchable attributes", () => {
  it("stores, returns, lists and deletes at every level; the most specific wins", async () => {
    const m = t.server;
    await t.admin.updateProjectAttributes({
      attributes: { project: "flytesnacks", matchingAttributes: queue("project") },
    });
    await t.admin.updateProjectDomainAttributes({
      attributes: { project: "flytesnacks", domain: "development", matchingAttributes: queue("domain") },
    });
    await t.admin.updateWorkflowAttributes({
      attributes: {
        project: "flytesnacks",
        domain: "development",
        workflow: "wf",
        matchingAttributes: queue("workflow"),
      },
    });
    const p = await t.admin.getProjectAttributes({ project: "flytesnacks", resourceType: Q });
    expect(p.attributes?.matchingAttributes?.target).toMatchObject({
      case: "executionQueueAttributes",
      value: { tags: ["project"] },
    });
    const w = await t.grpcJs.unary("getWorkflowAttributes", {
      project: "flytesnacks",
      domain: "development",
      workflow: "wf",
      resourceType: Q,
    });
    expect(w.attributes?.matchingAttributes?.target.value).toMatchObject({ tags: ["workflow"] });
    // upsert replaces
    await t.admin.updateProjectDomainAttributes({
      attributes: { project: "flytesnacks", domain: "development", matchingAttributes: queue("domain2") },
    });
    const list = await t.admin.listMatchableAttributes({ resourceType: Q });
    expect(list.configurations.map((c) => [c.project, c.domain, c.workflow])).toEqual([
      ["flytesnacks", "", ""],
      ["flytesnacks", "development", ""],
      ["flytesnacks", "development", "wf"],
    ]);
    const effective = async (domain: string, workflow: string) => {
      const { AttributesManager } = await import("../../server/managers/attributes-manager.js");
      const { ProjectManager } = await import("../../server/managers/project-manager.js");
      const { loadConfig } = await import("../../server/config.js");
      const attributes = new AttributesManager(m.db, new ProjectManager(m.db, loadConfig([], {}).domains));
      const a = await attributes.effective({ project: "flytesnacks", domain, workflow }, Q);
      return a?.target.case === "executionQueueAttributes" ? a.target.value.tags[0] : undefined;
    };
    expect(await effective("development", "wf")).toBe("workflow");
    expect(await effective("development", "other")).toBe("domain2");
    expect(await effective("staging", "wf")).toBe("project");
    await t.admin.deleteWorkflowAttributes({
      project: "flytesnacks",
      domain: "development",
      workflow: "wf",
      resourceType: Q,
    });
    expect(await effective("development", "wf")).toBe("domain2");
    await expectCode(
      t.admin.getWorkflowAttributes({
        project: "flytesnacks",
        domain: "development",
        workflow: "wf",
        resourceType: Q,
      }),
      Code.NotFound,
      "Resource [project:flytesnacks domain:development workflow:wf resource_type:EXECUTION_QUEUE] not found",
    );
  });

  it("validates the target", async () => {
    await expectCode(
      t.admin.updateProjectDomainAttributes({
        attributes: { project: "flytesnacks", domain: "development" },
      }),
      Code.InvalidArgument,
      "missing matching_attributes",
    );
    await expectCode(
      t.admin.updateProjectDomainAttributes({
        attributes: { project: "ghost", domain: "development", matchingAttributes: queue("x") },
      }),
      Code.InvalidArgument,
      /^failed to validate that project \[ghost\] and domain \[development\] are registered/,
    );
    await expectCode(
      t.admin.getProjectDomainAttributes({ project: "flytesnacks", resourceType: Q }),
      Code.InvalidArgument,
      "missing domain",
    );
  });
});
