// Executions encoded from their stored bytes (execution-wire.ts, wire-answers.ts) decode to exactly the messages
// rowToExecution and rowToExecutionSummary build, for every shape a closure takes; touching an answer drops its
// encoding, and the message it then reads as is the decoded one.
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  type ExecutionClosure,
  ExecutionClosureSchema,
  ExecutionListSchema,
  ExecutionSchema,
  type ExecutionSpec,
  ExecutionSpecSchema,
} from "../../../gen/flyteidl/admin/execution_pb.js";
import { WorkflowExecution_Phase as W } from "../../../gen/flyteidl/core/execution_pb.js";
import { WatchEventSchema } from "../../../gen/petrel/v1/watch_pb.js";
import type { ExecutionRow } from "../../../server/repositories/execution-repo.js";
import { rowToExecution, rowToExecutionSummary } from "../../../server/transformers/execution.js";
import { executionWire } from "../../../server/transformers/execution-wire.js";
import {
  executionSummaryWire,
  lazyExecution,
  lazyExecutionEvent,
  lazyExecutionList,
  wireOf,
} from "../../../server/transformers/wire-answers.js";

type SpecInit = Parameters<typeof create<typeof ExecutionSpecSchema>>[1];
type ClosureInit = Parameters<typeof create<typeof ExecutionClosureSchema>>[1];

const literals = {
  literals: {
    x: {
      value: {
        case: "scalar",
        value: { value: { case: "primitive", value: { value: { case: "integer", value: 7n } } } },
      },
    },
  },
} as never;

function row(over: Partial<ExecutionRow>, spec: SpecInit = {}, closure: ClosureInit = {}): ExecutionRow {
  return {
    id: "1",
    execution_project: "flytesnacks",
    execution_domain: "development",
    execution_name: "abc",
    launch_plan_id: null,
    workflow_id: "1",
    task_id: null,
    phase: "RUNNING",
    spec: Buffer.from(toBinary(ExecutionSpecSchema, create(ExecutionSpecSchema, spec) as ExecutionSpec)),
    closure: Buffer.from(
      toBinary(ExecutionClosureSchema, create(ExecutionClosureSchema, closure) as ExecutionClosure),
    ),
    started_at: new Date(Date.UTC(2026, 11, 1, 5, 0, 0, 123)),
    execution_created_at: new Date(Date.UTC(2026, 11, 1, 4, 59, 59, 999)),
    execution_updated_at: new Date(Date.UTC(2026, 11, 1, 5, 0, 1, 0)),
    duration: 0,
    abort_cause: "",
    mode: 0,
    source_execution_id: null,
    parent_node_execution_id: null,
    cluster: "",
    inputs_uri: "",
    user_inputs_uri: "",
    error_kind: "",
    error_code: "",
    user: "",
    state: 0,
    launch_entity: "",
    created_at: new Date(),
    updated_at: new Date(),
    ...over,
  };
}

const richSpec: SpecInit = {
  launchPlan: { resourceType: 3, project: "flytesnacks", domain: "development", name: "lp", version: "v1" },
  inputs: literals,
  metadata: { principal: "me", nesting: 2 },
  labels: { values: { team: "a" } },
  tags: ["t1", "t2"],
};
const richClosure: ClosureInit = {
  computedInputs: literals,
  workflowId: { resourceType: 2, project: "flytesnacks", domain: "development", name: "wf", version: "v1" },
  notifications: [{ phases: [W.SUCCEEDED], type: { case: "email", value: { recipientsEmail: ["a@b.c"] } } }],
  stateChangeDetails: { state: 1, principal: "p" },
  // Stale copies of what the columns own: the columns win.
  phase: W.QUEUED,
  createdAt: timestampFromDate(new Date(0)),
  startedAt: timestampFromDate(new Date(5)),
};

const cases: [string, ExecutionRow][] = [
  ["running, everything set", row({}, richSpec, richClosure)],
  ["queued, not started", row({ phase: "QUEUED", started_at: null }, richSpec, {})],
  [
    "succeeded with outputs by URI and a duration",
    row({ phase: "SUCCEEDED", duration: 1.2345 }, richSpec, {
      ...richClosure,
      outputResult: { case: "outputs", value: { data: { case: "uri", value: "s3://b/o.pb" } } },
    }),
  ],
  [
    "succeeded with output data",
    row({ phase: "SUCCEEDED", duration: 3 }, {}, { outputResult: { case: "outputData", value: literals } }),
  ],
  [
    "aborted without a result",
    row({ phase: "ABORTED", abort_cause: "stopped by me" }, richSpec, richClosure),
  ],
  ["aborted without a cause", row({ phase: "ABORTED" }, {}, {})],
  [
    "aborted with abort metadata stored",
    row(
      { phase: "ABORTED", abort_cause: "col" },
      {},
      {
        outputResult: { case: "abortMetadata", value: { cause: "stored", principal: "x" } },
      },
    ),
  ],
  [
    "failed with a short error",
    row({ phase: "FAILED", duration: 0.5 }, richSpec, {
      outputResult: { case: "error", value: { code: "E", message: "short", kind: 1 } },
    }),
  ],
  ["an unknown phase name", row({ phase: "NOT_A_PHASE" }, {}, {})],
  [
    "names and a cause beyond ASCII",
    row({ phase: "ABORTED", execution_name: "ausführung-é", abort_cause: "停止 — by ünïcode" }, richSpec, {}),
  ],
  [
    "created before 1970 (left to the decoder)",
    row({ execution_created_at: new Date(-86_400_123), started_at: new Date(-5) }, {}, {}),
  ],
  ["empty spec and closure", row({ started_at: null }, {}, {})],
];

describe("executionWire", () => {
  it.each(cases)("%s: decodes to rowToExecution", (_, r) => {
    const bytes = executionWire(r, false);
    if (r.execution_created_at.getTime() < 0) {
      expect(bytes).toBeUndefined();
      return;
    }
    expect(bytes).toBeDefined();
    const decoded = fromBinary(ExecutionSchema, bytes as Uint8Array);
    expect(equals(ExecutionSchema, decoded, rowToExecution(r))).toBe(true);
    // Byte for byte what encoding the decoded message gives (the gRPC paths answer alike).
    expect(Buffer.from(bytes as Uint8Array).toString("hex")).toBe(
      Buffer.from(toBinary(ExecutionSchema, rowToExecution(r))).toString("hex"),
    );
  });

  it.each(cases)("%s: the list form decodes to rowToExecutionSummary", (_, r) => {
    const bytes = executionWire(r, true);
    const expected = rowToExecutionSummary(r);
    if (bytes === undefined) {
      // Only an error (its message is cut) and times before 1970 are left to the decoder.
      expect(expected.closure?.outputResult.case === "error" || r.execution_created_at.getTime() < 0).toBe(
        true,
      );
      return;
    }
    expect(equals(ExecutionSchema, fromBinary(ExecutionSchema, bytes), expected)).toBe(true);
    expect(Buffer.from(bytes).toString("hex")).toBe(
      Buffer.from(toBinary(ExecutionSchema, expected)).toString("hex"),
    );
  });

  it("leaves a list entry with an error to the decoder, which cuts its message", () => {
    const r = row(
      { phase: "FAILED" },
      {},
      {
        outputResult: { case: "error", value: { message: "m".repeat(300) } },
      },
    );
    expect(executionWire(r, true)).toBeUndefined();
    expect(
      fromBinary(ExecutionSchema, executionWire(r, false) as Uint8Array).closure?.outputResult.value,
    ).toMatchObject({ message: "m".repeat(300) });
  });
});

describe("lazy answers", () => {
  const r = cases[0]?.[1] as ExecutionRow;

  it("carry their encoding until a field is read, then read as the decoded message", () => {
    const e = lazyExecution(r);
    expect(wireOf(e)).toEqual(executionWire(r, false));
    expect(e.closure?.phase).toBe(W.RUNNING);
    expect(wireOf(e)).toBeUndefined();
    expect(equals(ExecutionSchema, e, rowToExecution(r))).toBe(true);
    expect(
      equals(ExecutionSchema, fromBinary(ExecutionSchema, toBinary(ExecutionSchema, e)), rowToExecution(r)),
    ).toBe(true);
  });

  it("drop their encoding when a field is set", () => {
    const e = lazyExecution(r);
    e.spec = undefined;
    expect(wireOf(e)).toBeUndefined();
    expect(fromBinary(ExecutionSchema, toBinary(ExecutionSchema, e)).spec).toBeUndefined();
  });

  it("encode a list as the summaries would be, with its token (an entry with an error through the decoder)", () => {
    const rows = cases.map(([, c]) => c);
    const list = lazyExecutionList(rows.map(executionSummaryWire), "next-page");
    const bytes = wireOf(list);
    expect(bytes).toBeDefined();
    const expected = create(ExecutionListSchema, {
      executions: rows.map(rowToExecutionSummary),
      token: "next-page",
    });
    expect(equals(ExecutionListSchema, fromBinary(ExecutionListSchema, bytes as Uint8Array), expected)).toBe(
      true,
    );
    expect(equals(ExecutionListSchema, list, expected)).toBe(true);
  });

  it("fall back to the decoder once the executions were read or the token changed", () => {
    const expected = create(ExecutionListSchema, {
      executions: [r, r].map(rowToExecutionSummary),
      token: "t",
    });
    const touched = lazyExecutionList([r, r].map(executionSummaryWire), "t");
    void touched.executions[1]?.id;
    expect(wireOf(touched)).toBeUndefined();
    expect(
      equals(
        ExecutionListSchema,
        fromBinary(ExecutionListSchema, toBinary(ExecutionListSchema, touched)),
        expected,
      ),
    ).toBe(true);
    const retokened = lazyExecutionList([executionSummaryWire(r)], "t");
    retokened.token = "u";
    expect(wireOf(retokened)).toBeUndefined();
    const grown = lazyExecutionList([executionSummaryWire(r)], "t");
    grown.executions.push(rowToExecutionSummary(r));
    expect(wireOf(grown)).toBeUndefined();
    expect(fromBinary(ExecutionListSchema, toBinary(ExecutionListSchema, grown)).executions).toHaveLength(2);
  });

  it("encode a watch event of an execution as the decoded event would be", () => {
    const expected = create(WatchEventSchema, { kind: { case: "execution", value: rowToExecution(r) } });
    const event = lazyExecutionEvent(r);
    const bytes = wireOf(event);
    expect(bytes).toBeDefined();
    expect(equals(WatchEventSchema, fromBinary(WatchEventSchema, bytes as Uint8Array), expected)).toBe(true);
    expect(event.kind.case).toBe("execution");
    expect(wireOf(event)).toBeUndefined();
    expect(equals(WatchEventSchema, event, expected)).toBe(true);
  });
});
