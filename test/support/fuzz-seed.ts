// A realistic state for request fuzzing: projects, an echo task and a container task, workflows with a branch and a
// signal gate, launch plans, executions that ran and one waiting on a signal, named-entity metadata and matchable
// attributes. Mutated requests then reach the deep code paths, not just "not found".
import { create } from "@bufbuild/protobuf";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { type Node, NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { compareInt, Op } from "../fixtures/branch-builders.js";
import {
  addTask,
  bind,
  echoTask,
  executionRequest,
  intDefault,
  intType,
  launchPlanId,
  literalInt,
  literalString,
  registerWorkflow,
  signalGate,
  stringType,
  taskId,
  taskNode,
  waitDone as waitFinished,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "./eventually.js";
import type { TestServer } from "./test-server.js";

export const P = { project: "flytesnacks", domain: "development" } as const;
/** UpdateProject is fuzzed on a project of its own; matchable attributes in one whose executions they shape. */
export const UPDATED_PROJECT = "fuzz-upd";
export const ATTR_PROJECT = "fuzz-attr";

/** Executions the seed leaves behind (in flytesnacks/development). */
export const EXECUTIONS = {
  /** echo then a container process, with a branch; SUCCEEDED. */
  ran: "ran",
  /** the echo workflow; SUCCEEDED. */
  ranEcho: "ran-echo",
  /** a signal gate; RUNNING until the end. */
  waiting: "waiting",
  /** for UpdateExecution. */
  updated: "upd-exec",
} as const;
export const GATE_SIGNAL = "go";

function branch(): Node {
  return create(NodeSchema, {
    id: "pick",
    inputs: [bind("a", "", "a"), bind("s", "", "s")],
    metadata: { name: "pick", timeout: { seconds: 600n }, retries: { retries: 1 } },
    target: {
      case: "branchNode",
      value: {
        ifElse: {
          case: {
            condition: compareInt("a", Op.GT, 1),
            thenNode: taskNode("big", taskId("echo"), [bind("s", "", "s")]),
          },
          default: { case: "elseNode", value: taskNode("small", taskId("echo"), [bind("s", "", "s")]) },
        },
      },
    },
  });
}

/** echo, then the container task, then a branch between two echoes. */
export function chainWorkflow() {
  return workflowTemplate({
    inputs: { s: stringType(), a: intType(), b: intType() },
    outputs: { s: stringType(), o: intType() },
    nodes: [
      taskNode("n0", taskId("echo"), [bind("s", "", "s")]),
      taskNode("n1", taskId("add"), [bind("a", "", "a"), bind("b", "", "b")], ["n0"]),
      branch(),
    ],
    outputBindings: [bind("s", "n0", "s"), bind("o", "n1", "o")],
  });
}

/** The echo workflow: `s` through echo. */
function echoWorkflow() {
  return workflowTemplate({
    inputs: { s: stringType() },
    outputs: { s: stringType() },
    nodes: [taskNode("n0", taskId("echo"), [bind("s", "", "s")])],
    outputBindings: [bind("s", "n0", "s")],
  });
}

async function registerEcho(t: TestServer, project: string) {
  const scope = { project, domain: P.domain };
  await t.admin.createTask({
    id: taskId("echo", "v1", project),
    spec: {
      template: echoTask("s", stringType),
      description: {
        shortDescription: "echoes s",
        longDescription: { content: { case: "value", value: "# Echo\nreturns its input" }, format: 1 },
      },
    },
  });
  await t.admin.createWorkflow({
    id: workflowId("echo-wf", "v1", project),
    spec: { template: echoWorkflow() },
  });
  await t.admin.createLaunchPlan({
    id: launchPlanId("echo-lp", "v1", project),
    spec: { workflowId: workflowId("echo-wf", "v1", project), labels: { values: { team: "ml" } } },
  });
  await t.admin.updateLaunchPlan({ id: launchPlanId("echo-lp", "v1", project), state: 1 });
  return scope;
}

/** Polls a seed execution until it has finished. */
export const waitDone = (t: TestServer, name: string, project: string = P.project) =>
  waitFinished(t.admin, name, { project, domain: P.domain });

/** Seeds the main server (engine on). */
export async function seedMain(t: TestServer): Promise<void> {
  await t.admin.registerProject({
    project: { id: P.project, name: "flytesnacks", description: "seed", labels: { values: { team: "ml" } } },
  });
  await t.admin.registerProject({ project: { id: UPDATED_PROJECT, name: "updated" } });
  await t.admin.registerProject({ project: { id: ATTR_PROJECT, name: "attributes" } });
  await registerEcho(t, P.project);
  await registerEcho(t, ATTR_PROJECT);
  await t.admin.createTask({ id: taskId("add"), spec: { template: addTask() } });
  await registerWorkflow(t.admin, workflowId("wf"), chainWorkflow(), {
    defaultInputs: { parameters: { b: intDefault(2) } },
  });
  await registerWorkflow(
    t.admin,
    workflowId("gate"),
    workflowTemplate({ nodes: [signalGate("g", GATE_SIGNAL)] }),
  );
  await t.admin.createLaunchPlan({
    id: launchPlanId("lp-upd"),
    spec: {
      workflowId: workflowId("echo-wf"),
      defaultInputs: {
        parameters: {
          s: { var: { type: stringType() }, behavior: { case: "default", value: literalString("x") } },
        },
      },
      entityMetadata: {
        schedule: { ScheduleExpression: { case: "cronSchedule", value: { schedule: "0 0 1 1 *" } } },
      },
    },
  });
  await t.admin.updateNamedEntity({
    resourceType: 2,
    id: { ...P, name: "wf" },
    metadata: { description: "the chain", state: 0 },
  });
  await t.admin.updateProjectDomainAttributes({
    attributes: {
      project: ATTR_PROJECT,
      domain: P.domain,
      matchingAttributes: { target: { case: "workflowExecutionConfig", value: { maxParallelism: 3 } } },
    },
  });
  const s = literalString("hello");
  await t.admin.createExecution(
    executionRequest(launchPlanId("wf"), { s, a: literalInt(5) }, EXECUTIONS.ran),
  );
  for (const [name, lp] of [
    [EXECUTIONS.ranEcho, "echo-lp"],
    [EXECUTIONS.updated, "echo-lp"],
    [EXECUTIONS.waiting, "gate"],
  ] as const) {
    await t.admin.createExecution(executionRequest(launchPlanId(lp), lp === "gate" ? {} : { s }, name));
  }
  for (const name of [EXECUTIONS.ran, EXECUTIONS.ranEcho]) {
    const done = await waitDone(t, name);
    if (done.closure?.phase !== W.SUCCEEDED) throw new Error(`seed execution ${name} did not succeed`);
  }
  await eventually(
    () => t.signal.listSignals({ workflowExecutionId: { ...P, name: EXECUTIONS.waiting }, limit: 10 }),
    (l) => l.signals.length === 1,
  );
}

/** Seeds the events server (engine off): a project and a task to create executions of. */
export async function seedEvents(t: TestServer): Promise<void> {
  await t.admin.registerProject({ project: { id: P.project, name: "flytesnacks" } });
  await t.admin.createTask({ id: taskId("add"), spec: { template: addTask() } });
}
