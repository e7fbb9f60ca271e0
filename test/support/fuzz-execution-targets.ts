// Base requests of AdminService's execution rpcs: executions, node and task executions, and the event rpcs (served
// by the engine-off server). See fuzz-targets.ts.
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Sort_Direction as Dir } from "../../gen/flyteidl/admin/common_pb.js";
import {
  ExecutionState,
  ExecutionMetadata_ExecutionMode as Mode,
} from "../../gen/flyteidl/admin/execution_pb.js";
import {
  NodeExecution_Phase as N,
  TaskExecution_Phase as T,
  TaskLog_MessageFormat,
  WorkflowExecution_Phase as W,
} from "../../gen/flyteidl/core/execution_pb.js";
import type { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { launchPlanId, literalInt, literalString, taskId } from "../fixtures/flyte-builders.js";
import { EXECUTIONS, P } from "./fuzz-seed.js";
import { addAttempt, type Clients, exec, n1, ran, sort, type Targets } from "./fuzz-targets.js";

type ExecutionRpc =
  | "createExecution"
  | "relaunchExecution"
  | "recoverExecution"
  | "getExecution"
  | "updateExecution"
  | "getExecutionData"
  | "listExecutions"
  | "terminateExecution"
  | "getNodeExecution"
  | "getDynamicNodeWorkflow"
  | "listNodeExecutions"
  | "listNodeExecutionsForTask"
  | "getNodeExecutionData"
  | "createWorkflowEvent"
  | "createNodeEvent"
  | "createTaskEvent"
  | "getTaskExecution"
  | "listTaskExecutions"
  | "getTaskExecutionData"
  | "getExecutionMetrics";

export function executionTargets(c: Clients): Pick<Targets<typeof AdminService>, ExecutionRpc> {
  return {
    createExecution: {
      base: (i) => ({
        ...P,
        name: `fz-ce-${i}`,
        spec: {
          launchPlan: launchPlanId("wf"),
          metadata: { mode: Mode.MANUAL, principal: "fuzz" },
          labels: { values: { team: "ml" } },
          annotations: { values: { note: "x" } },
          envs: { values: [{ key: "K", value: "V" }] },
          tags: ["fuzz"],
          maxParallelism: 5,
          notifications: {
            notifications: [
              { phases: [W.SUCCEEDED], type: { case: "slack", value: { recipientsEmail: ["a@b.c"] } } },
            ],
          },
        },
        inputs: { literals: { s: literalString("hi"), a: literalInt(5) } },
      }),
      followUp: (_req, res) => c.admin.getExecution({ id: res.id ?? {} }),
    },
    relaunchExecution: {
      base: (i) => ({ id: exec(EXECUTIONS.ranEcho), name: `fz-rl-${i}`, overwriteCache: true }),
      followUp: (_req, res) => c.admin.getExecution({ id: res.id ?? {} }),
    },
    recoverExecution: {
      base: (i) => ({
        id: exec(EXECUTIONS.ranEcho),
        name: `fz-rc-${i}`,
        metadata: { mode: Mode.RECOVERED, principal: "fuzz", nesting: 1 },
      }),
      followUp: (_req, res) => c.admin.getExecution({ id: res.id ?? {} }),
    },
    getExecution: { base: () => ({ id: ran }) },
    updateExecution: {
      base: () => ({ id: exec(EXECUTIONS.updated), state: ExecutionState.EXECUTION_ARCHIVED }),
      followUp: (req) => c.admin.getExecution({ id: req.id ?? {} }),
    },
    getExecutionData: { base: () => ({ id: ran }) },
    listExecutions: {
      base: () => ({
        id: P,
        limit: 10,
        token: "0",
        filters: "eq(launch_plan.name,wf)+value_in(phase,SUCCEEDED;RUNNING)+gte(duration,0)",
        sortBy: sort("execution_created_at"),
      }),
    },
    terminateExecution: {
      prepare: async (i) => {
        await c.admin.createExecution({ ...exec(`fz-te-${i}`), spec: { launchPlan: launchPlanId("gate") } });
      },
      base: (i) => ({ id: exec(`fz-te-${i}`), cause: "fuzz" }),
      followUp: (req) => c.admin.getExecution({ id: req.id ?? {} }),
    },
    getNodeExecution: { base: () => ({ id: n1 }) },
    getDynamicNodeWorkflow: { base: () => ({ id: n1 }) },
    listNodeExecutions: {
      base: () => ({
        workflowExecutionId: ran,
        limit: 10,
        token: "0",
        filters: "eq(phase,SUCCEEDED)",
        sortBy: sort("created_at", Dir.ASCENDING),
        uniqueParentId: "",
      }),
    },
    listNodeExecutionsForTask: {
      base: () => ({
        taskExecutionId: addAttempt,
        limit: 10,
        filters: "ne(node_id,x)",
        sortBy: sort("node_id"),
      }),
    },
    getNodeExecutionData: { base: () => ({ id: n1 }) },
    createWorkflowEvent: {
      engineOff: true,
      prepare: (i) => createEventExecution(c, `fz-we-${i}`, false),
      base: (i) => ({
        requestId: `r${i}`,
        event: {
          executionId: exec(`fz-we-${i}`),
          producerId: "propeller",
          phase: W.SUCCEEDED,
          occurredAt: timestampNow(),
          outputResult: { case: "outputData", value: { literals: { o: literalInt(3) } } },
        },
      }),
      followUp: (req) => c.events.getExecution({ id: req.event?.executionId ?? {} }),
    },
    createNodeEvent: {
      engineOff: true,
      prepare: (i) => createEventExecution(c, `fz-ne-${i}`, false),
      base: (i) => ({
        requestId: `r${i}`,
        event: {
          id: { nodeId: "n0", executionId: exec(`fz-ne-${i}`) },
          producerId: "propeller",
          phase: N.RUNNING,
          occurredAt: timestampNow(),
          inputValue: { case: "inputData", value: { literals: { a: literalInt(1) } } },
          specNodeId: "n0",
          nodeName: "add",
          retryGroup: "0",
          targetMetadata: { case: "taskNodeMetadata", value: { checkpointUri: "s3://b/cp" } },
        },
      }),
      followUp: (req) => c.events.getNodeExecution({ id: req.event?.id ?? {} }),
    },
    createTaskEvent: {
      engineOff: true,
      prepare: (i) => createEventExecution(c, `fz-tk-${i}`, true),
      base: (i) => ({
        requestId: `r${i}`,
        event: {
          taskId: taskId("add"),
          parentNodeExecutionId: { nodeId: "n0", executionId: exec(`fz-tk-${i}`) },
          retryAttempt: 0,
          phase: T.RUNNING,
          phaseVersion: 0,
          producerId: "propeller",
          logs: [{ uri: "https://logs/x", name: "log", messageFormat: TaskLog_MessageFormat.JSON }],
          occurredAt: timestampNow(),
          customInfo: { k: "v" },
          reason: "started",
          taskType: "python-task",
          metadata: { generatedName: "g", externalResources: [{ externalId: "x", index: 0 }] },
        },
      }),
      followUp: (req) =>
        c.events.listTaskExecutions({ nodeExecutionId: req.event?.parentNodeExecutionId ?? {}, limit: 10 }),
    },
    getTaskExecution: { base: () => ({ id: addAttempt }) },
    listTaskExecutions: {
      base: () => ({
        nodeExecutionId: n1,
        limit: 10,
        filters: "eq(retry_attempt,0)",
        sortBy: sort("created_at"),
      }),
    },
    getTaskExecutionData: { base: () => ({ id: addAttempt }) },
    getExecutionMetrics: { base: () => ({ id: ran, depth: 10 }) },
  };
}

/** An execution on the engine-off server; with `node`, its node n0 is RUNNING (task events need one). */
async function createEventExecution(c: Clients, name: string, node: boolean): Promise<void> {
  const id = exec(name);
  await c.events.createExecution({
    ...id,
    spec: { launchPlan: taskId("add") },
    inputs: { literals: { a: literalInt(1), b: literalInt(2) } },
  });
  await c.events.createWorkflowEvent({
    event: { executionId: id, phase: W.RUNNING, occurredAt: timestampNow() },
  });
  if (node) {
    await c.events.createNodeEvent({
      event: { id: { nodeId: "n0", executionId: id }, phase: N.RUNNING, occurredAt: timestampNow() },
    });
  }
}
