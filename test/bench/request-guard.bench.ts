// Cost of the request guard (server/validation/message-guard.ts) per call on hot requests, measured in process.
// Run: npx tsx test/bench/request-guard.bench.ts
import { create, type DescMessage, type Message } from "@bufbuild/protobuf";
import {
  ExecutionCreateRequestSchema,
  WorkflowExecutionGetRequestSchema,
} from "../../gen/flyteidl/admin/execution_pb.js";
import { TaskCreateRequestSchema } from "../../gen/flyteidl/admin/task_pb.js";
import { checkMessage } from "../../server/validation/message-guard.js";
import { intType, literalInt, literalString, taskId, taskTemplate } from "../fixtures/flyte-builders.js";

const ITERATIONS = 200_000;

const getExecution = create(WorkflowExecutionGetRequestSchema, {
  id: { project: "flytesnacks", domain: "development", name: "abcdefghijklmnopqrst" },
});
const createExecution = create(ExecutionCreateRequestSchema, {
  project: "flytesnacks",
  domain: "development",
  name: "exec-123",
  spec: {
    launchPlan: taskId("t"),
    metadata: { principal: "me" },
    labels: { values: { team: "x", app: "y" } },
    annotations: { values: { k: "v" } },
    tags: ["x", "y"],
    envs: { values: [{ key: "A", value: "B" }] },
  },
  inputs: { literals: { a: literalInt(1), b: literalString("hello"), c: literalInt(3) } },
});
const createTask = create(TaskCreateRequestSchema, {
  id: taskId("t"),
  spec: { template: taskTemplate({ inputs: { a: intType(), b: intType() }, outputs: { o: intType() } }) },
});

function perCallMicros(desc: DescMessage, message: Message): number {
  for (let i = 0; i < ITERATIONS / 10; i++) checkMessage(desc, message);
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) checkMessage(desc, message);
  return Number(process.hrtime.bigint() - started) / ITERATIONS / 1000;
}

for (const [name, desc, message] of [
  ["GetExecution", WorkflowExecutionGetRequestSchema, getExecution],
  ["CreateExecution", ExecutionCreateRequestSchema, createExecution],
  ["CreateTask", TaskCreateRequestSchema, createTask],
] as const) {
  console.log(`${name.padEnd(16)} ${perCallMicros(desc, message).toFixed(3)} µs per call`);
}
