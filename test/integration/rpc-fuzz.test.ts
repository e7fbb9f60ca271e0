// The robustness proof: every Admin, Signal and DataProxy rpc gets its valid base request with one field at a time
// replaced by a hostile value (a fixed-seed PRNG picks the fields and values, within a bounded number of calls), over
// gRPC on the gRPC port (the direct path) and a sample over Connect on the HTTP port. No answer may be INTERNAL,
// UNKNOWN or DATA_LOSS (or UNIMPLEMENTED for a built rpc), none may carry internal text, and the server still answers
// GetVersion quickly and runs an execution afterwards. Set PETREL_FUZZ_SEED / PETREL_FUZZ_CALLS to explore further.

import { writeFileSync } from "node:fs";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  type Message,
} from "@bufbuild/protobuf";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Execution } from "../../gen/flyteidl/admin/execution_pb.js";
import { NodeExecution_Phase, WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { walkNodes } from "../../server/compiler/requirements.js";
import { launchPlanId, literalString } from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { type Mutation, planMutations, shuffle } from "../support/fuzz.js";
import { adminTargets } from "../support/fuzz-admin-targets.js";
import { internalTextIn } from "../support/fuzz-checks.js";
import { mutate, pathText } from "../support/fuzz-paths.js";
import { answerOf, call, encodable, FuzzRun, report, rpcName } from "../support/fuzz-run.js";
import { P, seedEvents, seedMain, waitDone } from "../support/fuzz-seed.js";
import { type Clients, dataProxyTargets, signalTargets, type Target } from "../support/fuzz-targets.js";
import { prng } from "../support/fuzz-values.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const SEED = Number(process.env.PETREL_FUZZ_SEED ?? 0x5eed_f1e1);
/** Fuzzed calls over gRPC, shared among the rpcs (more to the ones with more fields); Connect gets a sample. */
const GRPC_CALLS = Number(process.env.PETREL_FUZZ_CALLS ?? 1_800);
const CONNECT_PER_RPC = 4;
/** Only the rpcs whose names contain this text (exploring one rpc at a time). */
const ONLY = process.env.PETREL_FUZZ_ONLY ?? "";
const CALL_TIMEOUT_MS = 15_000;
const PING_EVERY = 200;
const PING_TIMEOUT_MS = 2_000;
/** Rpcs without an implementation (Connect: Unimplemented): none now. */
const NOT_BUILT: ReadonlySet<string> = new Set<string>();

let main: TestServer;
let events: TestServer;
let clients: Clients;

/** Base requests that are not accepted by design (Petrel has no dynamic workflows). */
const BASE_REFUSED: Readonly<Record<string, string>> = {
  "AdminService.GetDynamicNodeWorkflow": "NotFound",
  // The fuzz's nodes have no deck (no deck_uri in their closures).
  "DataProxyService.CreateDownloadLink": "NotFound",
};

const run = new FuzzRun(NOT_BUILT);
/** What each rpc's unmutated base request got over gRPC: "OK" or the code's name. */
const baseAnswers = new Map<string, string>();
const stats = { unsendable: 0, followUps: 0 };

const services: readonly DescService[] = [AdminService, SignalService, DataProxyService];

function targetsOf(service: DescService): Record<string, Target<unknown, Message>> {
  const all =
    service === AdminService
      ? adminTargets(clients)
      : service === SignalService
        ? signalTargets(clients)
        : dataProxyTargets(`file://${main.home}/blobs`);
  return all as unknown as Record<string, Target<unknown, Message>>;
}

interface Plan {
  readonly method: DescMethod;
  readonly target: Target<unknown, Message>;
  readonly mutations: Mutation[];
}

/** Shares `total` calls among the rpcs by the square root of how many mutations each has. */
function plans(total: number, random: () => number): Plan[] {
  const all = services.flatMap((s) =>
    s.methods
      .filter((m) => rpcName(m).includes(ONLY))
      .map((method) => {
        const target = targetsOf(s)[method.localName];
        if (target === undefined) throw new Error(`no fuzz target for ${rpcName(method)}`);
        const base = create(method.input as DescMessage, target.base(0) as never);
        return { method, target, every: planMutations(method.input, base, Number.MAX_SAFE_INTEGER, random) };
      }),
  );
  const weight = all.reduce((sum, p) => sum + Math.sqrt(p.every.length), 0);
  return all.map(({ method, target, every }) => {
    const cap = Math.max(8, Math.round((total * Math.sqrt(every.length)) / weight));
    return { method, target, mutations: every.slice(0, cap) };
  });
}

let counter = 0;
let nextPing = PING_EVERY;

/** Runs `mutations` (undefined: the base request) of one rpc over gRPC or Connect. */
async function fuzz(via: Via, plan: Plan, mutations: readonly (Mutation | undefined)[]) {
  const { method, target } = plan;
  for (const m of mutations) {
    const i = ++counter;
    if (target.prepare !== undefined)
      run.recordPreparation(via, method, await answerOf(target.prepare(i)), i);
    const base = create(method.input as DescMessage, target.base(i) as never);
    const request = m === undefined ? base : mutate(method.input, base, m.path, m.hostile.make());
    const where =
      m === undefined ? { field: "-", value: "base" } : { field: pathText(m.path), value: m.hostile.label };
    if (!encodable(method.input, request, via === "connect")) {
      stats.unsendable++;
      continue;
    }
    const answer = await call(transportFor(via, target.engineOff === true), method, request, CALL_TIMEOUT_MS);
    run.record(via, method, where, answer, i);
    if (m === undefined && via === "grpc")
      baseAnswers.set(rpcName(method), answer.ok ? "OK" : Code[answer.error.code]);
    if (answer.ok && target.followUp !== undefined) {
      stats.followUps++;
      run.record(
        `${via} follow-up`,
        method,
        where,
        await answerOf(target.followUp(request, answer.message, i)),
        i,
      );
    }
    if (run.calls >= nextPing) {
      nextPing = run.calls + PING_EVERY;
      await run.ping(
        transportFor("grpc", false),
        `${rpcName(method)} ${where.field}=${where.value}`,
        PING_TIMEOUT_MS,
      );
    }
  }
}

type Via = "grpc" | "connect";
const transports = new Map<string, Transport>();
const transportFor = (via: Via, engineOff: boolean) =>
  transports.get(`${via}${engineOff ? " events" : ""}`) as Transport;

beforeAll(async () => {
  [main, events] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { PETREL_ENGINE: "off", PETREL_SCHEDULER: "off" } }),
  ]);
  transports.set("grpc", createGrpcTransport({ baseUrl: `http://${main.grpcAddress}` }));
  transports.set("grpc events", createGrpcTransport({ baseUrl: `http://${events.grpcAddress}` }));
  const json = { httpVersion: "1.1", useBinaryFormat: false } as const;
  transports.set("connect", createConnectTransport({ baseUrl: main.httpBaseUrl, ...json }));
  transports.set("connect events", createConnectTransport({ baseUrl: events.httpBaseUrl, ...json }));
  clients = {
    admin: main.admin,
    signal: main.signal,
    events: createClient(AdminService, createGrpcTransport({ baseUrl: `http://${events.grpcAddress}` })),
  };
  await Promise.all([seedMain(main), seedEvents(events)]);
});
afterAll(async () => {
  await Promise.all([main?.stop(), events?.stop()]);
});

const TERMINAL = [W.SUCCEEDED, W.FAILED, W.ABORTED, W.TIMED_OUT];
const SETTLE_MS = 60_000;

async function listAll(): Promise<Execution[]> {
  const out: Execution[] = [];
  let token = "";
  do {
    const page = await clients.admin.listExecutions({
      id: P,
      limit: 500,
      token,
      filters: "value_in(state,0;1)",
    });
    out.push(...page.executions);
    token = page.token;
  } while (token !== "");
  return out;
}

/**
 * Whether a running execution waits at a gate node (a signal nobody sets, a long sleep: the seeded gate workflow,
 * and workflows whose mutation turned a node into a gate), which is no fault.
 */
async function waitsAtGate(e: Execution): Promise<boolean> {
  const id = e.id;
  const workflowId = e.closure?.workflowId;
  if (id === undefined || workflowId === undefined) return false;
  const [nodes, workflow] = await Promise.all([
    clients.admin.listNodeExecutions({ workflowExecutionId: id, limit: 1000 }),
    clients.admin.getWorkflow({ id: workflowId }),
  ]);
  const gates = new Set<string>();
  const compiled = workflow.closure?.compiledWorkflow;
  for (const t of [compiled?.primary?.template, ...(compiled?.subWorkflows ?? []).map((w) => w.template)])
    for (const root of t?.nodes ?? [])
      for (const n of walkNodes(root)) if (n.target.case === "gateNode") gates.add(n.id);
  return nodes.nodeExecutions.some(
    (n) => n.closure?.phase === NodeExecution_Phase.RUNNING && gates.has(n.id?.nodeId ?? ""),
  );
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

describe(`rpc fuzz (seed ${SEED})`, () => {
  it("every rpc has a base request", async () => {
    for (const s of services) {
      const targets = targetsOf(s);
      expect(Object.keys(targets).sort()).toEqual(s.methods.map((m) => m.localName).sort());
    }
  });

  it("mutating one field at a time never gets INTERNAL, UNKNOWN or internal text, over gRPC and Connect", async () => {
    const random = prng(SEED);
    const started = performance.now();
    const all = plans(GRPC_CALLS, random);
    for (const plan of all) await fuzz("grpc", plan, [undefined, ...plan.mutations]);
    const grpcCalls = run.calls;
    for (const plan of all) {
      const sample = shuffle(plan.mutations, random).slice(0, CONNECT_PER_RPC);
      await fuzz("connect", plan, [undefined, ...sample]);
    }
    await run.ping(transportFor("grpc", false), "the end", PING_TIMEOUT_MS);
    await run.ping(transportFor("connect", false), "the end", PING_TIMEOUT_MS);
    const fields = new Set(
      all.flatMap((p) => p.mutations.map((m) => `${rpcName(p.method)} ${pathText(m.path)}`)),
    );
    console.info(
      `rpc fuzz seed=${SEED}: ${all.length} rpcs, ${fields.size} fields, ${run.calls} calls ` +
        `(${grpcCalls} over gRPC, ${run.calls - grpcCalls} over Connect; ${stats.followUps} follow-ups; ` +
        `${stats.unsendable} mutations the client cannot encode), ${Math.round(performance.now() - started)} ms; ` +
        `codes ${JSON.stringify(Object.fromEntries(run.codes))}`,
    );
    if (process.env.PETREL_FUZZ_REPORT !== undefined) {
      const { findings, accepted } = run;
      writeFileSync(process.env.PETREL_FUZZ_REPORT, JSON.stringify({ findings, accepted }, null, 1));
    }
    expect(
      run.findings.length,
      `seed ${SEED}, ${run.findings.length} findings:\n${report(run.findings)}`,
    ).toBe(0);
    // Valid base requests are accepted, so the mutations of each reach past "not found".
    const expected = all.map((p) => {
      const rpc = rpcName(p.method);
      return [rpc, BASE_REFUSED[rpc] ?? (NOT_BUILT.has(rpc) ? "Unimplemented" : "OK")];
    });
    expect(all.map((p) => [rpcName(p.method), baseAnswers.get(rpcName(p.method))])).toEqual(expected);
  }, 240_000);

  it("every execution the fuzz started finishes, without internal text in its error", async () => {
    const open = (e: Execution) => !TERMINAL.includes(e.closure?.phase ?? W.UNDEFINED);
    const settle = async () => {
      const list = await listAll();
      const unsettled: Execution[] = [];
      for (const e of list) if (open(e) && !(await waitsAtGate(e))) unsettled.push(e);
      return { list, unsettled };
    };
    const all = await eventually(settle, (r) => r.unsettled.length === 0, SETTLE_MS).catch(settle);
    const stuck = all.unsettled.map((e) => `${e.id?.name} ${W[e.closure?.phase ?? 0]}`);
    const leaks = all.list.flatMap((e) => {
      const r = e.closure?.outputResult;
      const text = r?.case === "error" ? r.value.message : "";
      const leak = internalTextIn(text);
      return leak === undefined ? [] : [`${e.id?.name}: ${leak} in ${JSON.stringify(text.slice(0, 300))}`];
    });
    const phases = countBy(all.list, (e) => W[e.closure?.phase ?? 0] ?? "?");
    console.info(`rpc fuzz: ${all.list.length} executions; phases ${JSON.stringify(phases)}`);
    expect({ stuck, leaks }).toEqual({ stuck: [], leaks: [] });
  }, 120_000);

  it("the server still runs an execution afterwards", async () => {
    const name = "after-fuzz";
    await clients.admin.createExecution({
      ...P,
      name,
      spec: { launchPlan: launchPlanId("echo-lp") },
      inputs: { literals: { s: literalString("still here") } },
    });
    const done = await waitDone(main, name);
    expect(done.closure?.phase).toBe(W.SUCCEEDED);
  });
});
