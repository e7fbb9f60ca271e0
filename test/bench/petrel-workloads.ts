// What the benchmarks run on Petrel: chains of `echo` tasks (no process) and of process tasks (`sh -c true` through
// the process runtime), registered in project `bench`, and two ways to wait for an execution: the WatchExecution
// stream (Petrel's own) and polling GetExecution every 2 ms from a client built from Flyte's published definitions.
import type { Client } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { flyteidl as Flyteidl } from "@flyteorg/flyteidl/gen/pb-js/flyteidl.js";
import * as grpc from "@grpc/grpc-js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import type { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
import {
  bind,
  identifier,
  intType,
  launchPlanId,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { flyteidl, fromPlain } from "../support/flyteidl-client.js";
import { sleep } from "./stats.js";

export const PROJECT = "bench";
const DOMAIN = "development";
const P = { project: PROJECT, domain: DOMAIN };

/** What an execution runs: a launch plan (`chain<n>`, `proc<n>`) or a single task (`proc-task`). */
export interface Target {
  readonly kind: ResourceType.LAUNCH_PLAN | ResourceType.TASK;
  readonly name: string;
}

export const echoChain = (n: number): Target => ({ kind: ResourceType.LAUNCH_PLAN, name: `chain${n}` });
export const processChain = (n: number): Target => ({ kind: ResourceType.LAUNCH_PLAN, name: `proc${n}` });
export const processTask: Target = { kind: ResourceType.TASK, name: "true" };

type Admin = Client<typeof AdminService>;

async function registerChain(admin: Admin, name: string, nodes: ReturnType<typeof taskNode>[], io: boolean) {
  const last = nodes[nodes.length - 1]?.id ?? "";
  const template = workflowTemplate({
    ...(io ? { inputs: { x: intType() }, outputs: { o: intType() } } : {}),
    nodes,
    ...(io ? { outputBindings: [bind("o", last, "a")] } : {}),
  });
  await admin.createWorkflow({ id: workflowId(name, "v1", PROJECT), spec: { template } });
  await admin.createLaunchPlan({
    id: launchPlanId(name, "v1", PROJECT),
    spec: { workflowId: workflowId(name, "v1", PROJECT) },
  });
}

/** Registers project `bench`, the `echo` task, `echo` chains of the given lengths and process-task chains. */
export async function registerWorkloads(
  admin: Admin,
  echoLengths: readonly number[],
  processLengths: readonly number[] = [],
): Promise<void> {
  await admin.registerProject({ project: { id: PROJECT, name: PROJECT } });
  const echo = taskId("echo", "v1", PROJECT);
  await admin.createTask({
    id: echo,
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  for (const n of echoLengths) {
    const nodes = Array.from({ length: n }, (_, i) =>
      taskNode(`n${i}`, echo, [i === 0 ? bind("a", "", "x") : bind("a", `n${i - 1}`, "a")]),
    );
    await registerChain(admin, `chain${n}`, nodes, true);
  }
  if (processLengths.length === 0) return;
  const proc = taskId(processTask.name, "v1", PROJECT);
  await admin.createTask({ id: proc, spec: { template: taskTemplate({ command: ["sh", "-c", "true"] }) } });
  for (const n of processLengths) {
    const nodes = Array.from({ length: n }, (_, i) =>
      taskNode(`n${i}`, proc, [], i === 0 ? [] : [`n${i - 1}`]),
    );
    await registerChain(admin, `proc${n}`, nodes, false);
  }
}

const inputsOf = (t: Target) => (t.name.startsWith("chain") ? { x: literalInt(1) } : {});

let seq = 0;
const nextName = (t: Target) => `${t.name}-${process.pid}-${seq++}`;

/** CreateExecution → the terminal phase arriving on WatchExecution; ms. */
export function watchRunner(admin: Admin, grpcPort: number) {
  const watch = createClient(WatchService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }));
  return async (t: Target): Promise<number> => {
    const start = performance.now();
    const res = await admin.createExecution({
      ...P,
      name: nextName(t),
      spec: { launchPlan: identifier(t.kind, t.name, "v1", PROJECT, DOMAIN) },
      inputs: { literals: inputsOf(t) },
    });
    let phase: W | undefined;
    for await (const e of watch.watchExecution({ id: res.id })) {
      if (e.kind.case === "execution") phase = e.kind.value.closure?.phase;
    }
    if (phase !== W.SUCCEEDED) throw new Error(`${t.name} ended in phase ${phase}`);
    return performance.now() - start;
  };
}

/** Unary calls on a grpc-js channel with the bodies as bytes (callers encode and decode). */
export function rawUnary(address: string) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = (path: string, body: Uint8Array): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        path,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        body,
        (err, out) => (err !== null || out === undefined ? reject(err ?? new Error("empty")) : resolve(out)),
      );
    });
  return { call, close: () => client.close() };
}

const ADMIN = "/flyteidl.service.AdminService";
const PhaseEnum = flyteidl.core.WorkflowExecution.Phase;
/** The integer literal 1 (int64 goes through protobufjs' reflection, which builds its Long). */
const ONE = fromPlain("flyteidl.core.Literal", {
  scalar: { primitive: { integer: "1" } },
}) as Flyteidl.core.ILiteral;

/**
 * How a Flyte client (flytekit's FlyteRemote, flytectl) sees an execution: CreateExecution, then GetExecution every
 * 2 ms until a terminal phase, over grpc-js with the messages of @flyteorg/flyteidl (pb-js); ms.
 */
export function pollingRunner(grpcPort: number) {
  const rpc = rawUnary(`127.0.0.1:${grpcPort}`);
  const run = async (t: Target): Promise<number> => {
    const id = { ...P, name: nextName(t) };
    const literals = t.name.startsWith("chain") ? { x: ONE } : {};
    const create = flyteidl.admin.ExecutionCreateRequest.encode({
      ...id,
      spec: { launchPlan: { resourceType: t.kind, ...P, name: t.name, version: "v1" } },
      inputs: { literals },
    }).finish();
    const get = flyteidl.admin.WorkflowExecutionGetRequest.encode({ id }).finish();
    const start = performance.now();
    await rpc.call(`${ADMIN}/CreateExecution`, create);
    for (;;) {
      const phase = flyteidl.admin.Execution.decode(await rpc.call(`${ADMIN}/GetExecution`, get)).closure
        ?.phase;
      if (phase === PhaseEnum.SUCCEEDED) return performance.now() - start;
      if (phase === PhaseEnum.FAILED || phase === PhaseEnum.ABORTED || phase === PhaseEnum.TIMED_OUT)
        throw new Error(`${t.name} ended in phase ${phase}`);
      await sleep(2);
    }
  };
  return { run, close: rpc.close };
}
