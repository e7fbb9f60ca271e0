import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sort_Direction } from "../../gen/flyteidl/admin/common_pb.js";
import { InactiveProjectSchema, Project_ProjectState } from "../../gen/flyteidl/admin/project_pb.js";
import { expectCode } from "../support/expect-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

describe("projects", () => {
  it("registers, gets and lists a project with the configured domains", async () => {
    await t.admin.registerProject({
      project: {
        id: "flytesnacks",
        name: "Flyte Snacks",
        description: "examples",
        labels: { values: { team: "ml" } },
      },
    });
    const p = await t.admin.getProject({ id: "flytesnacks" });
    expect(p).toMatchObject({ id: "flytesnacks", name: "Flyte Snacks", description: "examples" });
    expect(p.labels?.values).toEqual({ team: "ml" });
    expect(p.state).toBe(Project_ProjectState.ACTIVE);
    expect(p.domains.map((d) => d.id)).toEqual(["development", "staging", "production"]);
    const viaGrpcJs = await t.grpcJs.unary("getProject", { id: "flytesnacks" });
    expect(viaGrpcJs.name).toBe("Flyte Snacks");
  });

  it("rejects bad registrations with Flyte's messages", async () => {
    await expectCode(t.admin.registerProject({}), Code.InvalidArgument, "missing project");
    await expectCode(
      t.admin.registerProject({ project: { id: "", name: "x" } }),
      Code.InvalidArgument,
      "missing project_id",
    );
    await expectCode(
      t.admin.registerProject({ project: { id: "Bad_Id", name: "x" } }),
      Code.InvalidArgument,
      /^invalid project id \[Bad_Id\]: \[a lowercase RFC 1123 label must consist of/,
    );
    await expectCode(
      t.admin.registerProject({ project: { id: "ok" } }),
      Code.InvalidArgument,
      "missing project_name",
    );
    await expectCode(
      t.admin.registerProject({ project: { id: "ok", name: "n".repeat(65) } }),
      Code.InvalidArgument,
      "project_name cannot exceed 64 characters",
    );
    await expectCode(
      t.admin.registerProject({ project: { id: "ok", name: "n", description: "d".repeat(301) } }),
      Code.InvalidArgument,
      "project_description cannot exceed 300 characters",
    );
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    await expectCode(
      t.admin.registerProject({ project: { id: "ok", name: "n", labels: { values: many } } }),
      Code.InvalidArgument,
      "labels map cannot exceed 16 entries",
    );
    await expectCode(
      t.admin.registerProject({ project: { id: "ok", name: "n", labels: { values: { "-bad": "v" } } } }),
      Code.InvalidArgument,
      /^invalid label key \[-bad\]: \[name part must consist of/,
    );
    await expectCode(
      t.admin.registerProject({
        project: { id: "ok", name: "n", labels: { values: { good: "bad value" } } },
      }),
      Code.InvalidArgument,
      /^invalid label value \[bad value\]: \[a valid label must be/,
    );
    await expectCode(
      t.admin.registerProject({ project: { id: "ok", name: "n", domains: [{ id: "x", name: "x" }] } }),
      Code.InvalidArgument,
      "Domains are currently only set system wide. Please retry without domains included in your request.",
    );
  });

  it("answers ALREADY_EXISTS for a duplicate id, also over grpc-js", async () => {
    await t.admin.registerProject({ project: { id: "dup", name: "dup" } });
    await expectCode(
      t.admin.registerProject({ project: { id: "dup", name: "dup" } }),
      Code.AlreadyExists,
      "value with matching already exists (duplicate project)",
    );
    const err = (await t.grpcJs
      .unary("registerProject", { project: { id: "dup", name: "dup" } })
      .catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(6);
  });

  it("gets a missing project as NOT_FOUND", async () => {
    await expectCode(t.admin.getProject({ id: "nope" }), Code.NotFound, "project [nope] not found");
    await expectCode(t.admin.getProject({ id: "" }), Code.InvalidArgument, "missing project_id");
  });

  it("updates partially: empty fields are kept, state is always written", async () => {
    await t.admin.registerProject({ project: { id: "upd", name: "orig", description: "keep me" } });
    await t.admin.updateProject({ id: "upd", name: "", labels: { values: { a: "b" } } });
    let p = await t.admin.getProject({ id: "upd" });
    expect(p).toMatchObject({ name: "orig", description: "keep me", state: Project_ProjectState.ACTIVE });
    expect(p.labels?.values).toEqual({ a: "b" });
    await t.admin.updateProject({ id: "upd", name: "renamed", state: Project_ProjectState.ARCHIVED });
    p = await t.admin.getProject({ id: "upd" });
    expect(p).toMatchObject({ name: "renamed", state: Project_ProjectState.ARCHIVED });
    await expectCode(
      t.admin.updateProject({ id: "ghost", name: "x" }),
      Code.NotFound,
      "project [ghost] not found",
    );
  });

  it("lists: archived hidden by default, filters drop the default, limit 0 = all, keyset tokens", async () => {
    for (const id of ["l-a", "l-b", "l-c", "l-d"])
      await t.admin.registerProject({ project: { id, name: id } });
    await t.admin.updateProject({ id: "l-b", state: Project_ProjectState.ARCHIVED });
    const all = await t.admin.listProjects({});
    const ids = all.projects.map((p) => p.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(["l-a", "l-c", "l-d"]));
    expect(ids).not.toContain("l-b");
    expect(all.token).toBe("");
    const archived = await t.admin.listProjects({ filters: "eq(state,1)" });
    expect(archived.projects.map((p) => p.id)).toContain("l-b");
    const page1 = await t.admin.listProjects({ limit: 2, filters: "contains(identifier,l-)" });
    expect(page1.projects.map((p) => p.id)).toEqual(["l-a", "l-b"]);
    expect(page1.token).not.toBe("");
    const page2 = await t.admin.listProjects({
      limit: 2,
      filters: "contains(identifier,l-)",
      token: page1.token,
    });
    expect(page2.projects.map((p) => p.id)).toEqual(["l-c", "l-d"]);
    const page3 = await t.admin.listProjects({
      limit: 2,
      filters: "contains(identifier,l-)",
      token: page2.token,
    });
    expect(page3.projects).toEqual([]);
    expect(page3.token).toBe("");
    const byName = await t.admin.listProjects({
      limit: 10,
      filters: "value_in(name,l-a;l-d)",
      sortBy: { key: "name", direction: Sort_Direction.DESCENDING },
    });
    expect(byName.projects.map((p) => p.id)).toEqual(["l-d", "l-a"]);
    const offset = await t.admin.listProjects({ limit: 2, filters: "contains(identifier,l-)", token: "2" });
    expect(offset.projects.map((p) => p.id)).toEqual(["l-c", "l-d"]);
  });

  it("rejects bad list parameters", async () => {
    await expectCode(
      t.admin.listProjects({ filters: "eq(bogus,1)" }),
      Code.InvalidArgument,
      "'p.bogus' is invalid filter",
    );
    await expectCode(
      t.admin.listProjects({ filters: "foo(name,1)" }),
      Code.InvalidArgument,
      "unrecognized filter function: foo",
    );
    await expectCode(
      t.admin.listProjects({ filters: "eq name" }),
      Code.InvalidArgument,
      "invalid value for filters",
    );
    await expectCode(
      t.admin.listProjects({ filters: "eq(task.name,x)" }),
      Code.InvalidArgument,
      "'t' entity is not allowed in filters",
    );
    await expectCode(
      t.admin.listProjects({ sortBy: { key: "bogus", direction: Sort_Direction.ASCENDING } }),
      Code.InvalidArgument,
      "invalid sort key 'bogus'",
    );
    await expectCode(
      t.admin.listProjects({ limit: 1, token: "not-a-token" }),
      Code.InvalidArgument,
      "invalid pagination token not-a-token for ListProjects",
    );
  });

  it("the inactive-project detail type exists for writes into archived projects", () => {
    expect(create(InactiveProjectSchema, { id: "x" }).id).toBe("x");
  });
});
