// Clients that cancel many streams: a gated workflow to watch (it waits for an approval), and storms of
// WatchExecution streams each cancelled right after it starts, over one HTTP/2 connection.
import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import type { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { WatchExecutionRequestSchema, type WatchService } from "../../gen/petrel/v1/watch_pb.js";
import {
  bind,
  intType,
  launchPlanId,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { envelope } from "./raw-wire.js";

export const WATCH_PATH = "/petrel.v1.WatchService/WatchExecution";
const P = { project: "flytesnacks", domain: "development" };

/** Registers a launch plan "gated" whose executions wait at a gate for signal "go", then run an `echo` task. */
export async function registerGated(admin: Client<typeof AdminService>): Promise<void> {
  await admin.registerProject({ project: { id: P.project, name: P.project } });
  await admin.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const gate = create(NodeSchema, {
    id: "gate",
    inputs: [bind("a", "", "x")],
    target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId: "go" } } } },
  });
  const template = workflowTemplate({
    inputs: { x: intType() },
    nodes: [gate, taskNode("after", taskId("echo"), [bind("a", "gate", "a")])],
  });
  await admin.createWorkflow({ id: workflowId("gated"), spec: { template } });
  await admin.createLaunchPlan({ id: launchPlanId("gated"), spec: { workflowId: workflowId("gated") } });
}

/** Starts an execution of "gated" named `name`; it waits for signal "go". */
export async function startGated(admin: Client<typeof AdminService>, name: string) {
  const { id } = await admin.createExecution({
    ...P,
    name,
    spec: { launchPlan: launchPlanId("gated") },
    inputs: { literals: { x: literalInt(1) } },
  });
  if (id === undefined) throw new Error("CreateExecution returned no id");
  return id;
}

export function watchRequest(name: string): Uint8Array {
  const req = create(WatchExecutionRequestSchema, { id: { ...P, name } });
  return envelope(toBinary(WatchExecutionRequestSchema, req));
}

/**
 * Opens up to `count` watch streams on `session`, `batch` at a time, each cancelled (RST_STREAM CANCEL) at once or
 * when its first answer arrives; stops early once the session cannot take new streams. Returns how many it opened.
 */
export async function rawResetStorm(
  session: http2.ClientHttp2Session,
  body: Uint8Array,
  count: number,
  batch = 50,
): Promise<number> {
  let opened = 0;
  const usable = () => !session.closed && !session.destroyed;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      if (!usable()) return resolve();
      const stream = session.request({
        ":method": "POST",
        ":path": WATCH_PATH,
        "content-type": "application/grpc",
        te: "trailers",
      });
      opened++;
      stream.on("error", () => undefined);
      stream.once("close", () => resolve());
      stream.resume();
      const cancel = () => stream.close(http2.constants.NGHTTP2_CANCEL);
      stream.end(body);
      if (i % 2 === 0) setImmediate(cancel);
      else stream.once("response", cancel);
    });
  for (let i = 0; i < count && usable(); i += batch) {
    await Promise.all(Array.from({ length: batch }, (_, k) => one(i + k)));
  }
  return opened;
}

/** Like `rawResetStorm`, through a Connect client: each watch aborted when its first event arrives. */
export async function connectResetStorm(
  watch: Client<typeof WatchService>,
  name: string,
  count: number,
  batch = 50,
): Promise<void> {
  const one = async () => {
    const abort = new AbortController();
    try {
      for await (const _ of watch.watchExecution({ id: { ...P, name } }, { signal: abort.signal })) {
        abort.abort();
      }
    } catch {
      // Cancelled, as intended.
    }
  };
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: batch }, one));
  }
}

/** A watch on `session` that runs until its execution ends: `started` once its first answer arrived. */
export function longWatch(session: http2.ClientHttp2Session, name: string) {
  const stream = session.request({
    ":method": "POST",
    ":path": WATCH_PATH,
    "content-type": "application/grpc",
  });
  stream.end(watchRequest(name));
  const started = new Promise<void>((resolve) => stream.once("response", () => resolve()));
  const done = new Promise<{ status: unknown; frames: number }>((resolve, reject) => {
    let frames = 0;
    let status: unknown;
    stream.on("data", () => frames++);
    stream.on("trailers", (h) => {
      status = h["grpc-status"];
    });
    stream.on("error", reject);
    stream.on("end", () => resolve({ status, frames }));
  });
  return { started, done };
}
