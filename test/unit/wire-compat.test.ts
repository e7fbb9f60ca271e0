import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import {
  compareRoots,
  listProtoFiles,
  loadProtos,
  OURS_DIR,
  REFERENCE_DIR,
  rpcNames,
} from "../support/proto-compat.js";

const SERVICES = {
  "flyteidl.service.AdminService": 56,
  "flyteidl.service.SignalService": 3,
  "flyteidl.service.DataProxyService": 4,
  "flyteidl.service.AuthMetadataService": 2,
  "flyteidl.service.IdentityService": 1,
} as const;

/** Reference fields Petrel deliberately leaves out (none so far). */
const ALLOWED_OMISSIONS: readonly string[] = [];

const ours = loadProtos(
  OURS_DIR,
  listProtoFiles(OURS_DIR).filter((f) => f.startsWith("flyteidl/")),
);
const reference = loadProtos(REFERENCE_DIR, [
  "flyteidl/service/admin.proto",
  "flyteidl/service/signal.proto",
  "flyteidl/service/dataproxy.proto",
  "flyteidl/service/auth.proto",
  "flyteidl/service/identity.proto",
  "flyteidl/event/event.proto",
  "flyteidl/core/errors.proto",
  "flyteidl/core/dynamic_job.proto",
]);

describe("wire compatibility with flyteidl 1.16", () => {
  it("defines every message, enum and service exactly as the reference does", () => {
    const report = compareRoots(ours, reference, "flyteidl");
    expect(report.differences).toEqual([]);
    expect(report.omitted.filter((f) => !ALLOWED_OMISSIONS.includes(f))).toEqual([]);
  });

  it("has all 66 rpcs of AdminService, SignalService, DataProxyService, AuthMetadataService and IdentityService", () => {
    let total = 0;
    for (const [service, count] of Object.entries(SERVICES)) {
      const want = rpcNames(reference, service);
      expect(want).toHaveLength(count);
      expect(rpcNames(ours, service).sort()).toEqual([...want].sort());
      total += want.length;
    }
    expect(total).toBe(66);
  });

  it("covers the messages the rpcs and events need", () => {
    for (const name of [
      "flyteidl.core.Literal",
      "flyteidl.core.LiteralType",
      "flyteidl.core.TypedInterface",
      "flyteidl.core.TaskTemplate",
      "flyteidl.core.K8sPod",
      "flyteidl.core.Sql",
      "flyteidl.core.WorkflowTemplate",
      "flyteidl.core.ArrayNode",
      "flyteidl.core.GateNode",
      "flyteidl.core.CompiledWorkflowClosure",
      "flyteidl.event.TaskExecutionEvent",
      "flyteidl.admin.LaunchPlan",
      "flyteidl.admin.Schedule",
      "flyteidl.admin.MatchableAttributesConfiguration",
      "flyteidl.core.Span",
    ]) {
      expect(ours.lookup(name), name).not.toBeNull();
    }
  });
});

describe("the comparer", () => {
  const parse = (text: string) => {
    const root = protobuf.parse(`syntax = "proto3"; package flyteidl.x; ${text}`, { keepCase: true }).root;
    root.resolveAll();
    return root;
  };
  const base = `
    message M { string a = 1; oneof o { int64 b = 2; string c = 3; } map<string, int32> m = 4; optional bool p = 5; }
    enum E { ZERO = 0; ONE = 1; }
    service S { rpc Get(M) returns (M); rpc Watch(M) returns (stream M); }`;

  it("finds nothing when the definitions match", () => {
    expect(compareRoots(parse(base), parse(base), "flyteidl").differences).toEqual([]);
  });

  it("reports a changed field number, type, oneof, map key, optional flag, enum value and streaming flag", () => {
    const variants = [
      base.replace("string a = 1", "string a = 9"),
      base.replace("string a = 1", "bytes a = 1"),
      base.replace("oneof o { int64 b = 2; string c = 3; }", "int64 b = 2; oneof o { string c = 3; }"),
      base.replace("map<string, int32>", "map<int64, int32>"),
      base.replace("optional bool p = 5", "bool p = 5"),
      base.replace("ONE = 1", "ONE = 2"),
      base.replace("returns (stream M)", "returns (M)"),
      base.replace("rpc Get(M) returns (M);", ""),
      `${base} message Extra {}`,
    ];
    for (const v of variants) {
      expect(compareRoots(parse(v), parse(base), "flyteidl").differences.length, v).toBeGreaterThan(0);
    }
  });

  it("lists reference fields we leave out separately", () => {
    const report = compareRoots(parse(base.replace("string a = 1;", "")), parse(base), "flyteidl");
    expect(report.differences).toEqual([]);
    expect(report.omitted).toEqual(["flyteidl.x.M.a"]);
  });
});
