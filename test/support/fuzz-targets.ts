// A valid base request for every Admin, Signal and DataProxy rpc, built on the state fuzz-seed.ts leaves. Call `i`
// gets fresh names where a request creates something (so each mutation is judged on its own, not as a duplicate);
// `prepare` makes what the call acts on, `followUp` reads back what an accepted call stored. The AdminService
// requests are in fuzz-admin-targets.ts (registration, projects, attributes, named entities) and
// fuzz-execution-targets.ts (executions, their nodes, attempts and events).
import type { DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { Sort_Direction as Dir } from "../../gen/flyteidl/admin/common_pb.js";
import type { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { ArtifactType, type DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import type { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { literalString, stringType, taskId } from "../fixtures/flyte-builders.js";
import { EXECUTIONS, GATE_SIGNAL, P } from "./fuzz-seed.js";

export interface Target<I, O> {
  readonly base: (i: number) => I;
  /** Runs before call `i` (not fuzzed itself). */
  readonly prepare?: (i: number) => Promise<void>;
  /** Reads back what an accepted call stored; its answer is held to the same rules. */
  readonly followUp?: (request: I, response: O, i: number) => Promise<unknown>;
  /** Served by the server with Petrel's engine off (the event rpcs). */
  readonly engineOff?: boolean;
}

export type Targets<S extends DescService> = {
  readonly [K in keyof S["method"]]: Target<
    MessageInitShape<S["method"][K]["input"]>,
    MessageShape<S["method"][K]["output"]>
  >;
};

export interface Clients {
  readonly admin: Client<typeof AdminService>;
  readonly signal: Client<typeof SignalService>;
  /** The engine-off server's admin client (events). */
  readonly events: Client<typeof AdminService>;
}

export const exec = (name: string) => ({ ...P, name });
export const ran = exec(EXECUTIONS.ran);
export const n1 = { nodeId: "n1", executionId: ran };
export const addAttempt = { taskId: taskId("add"), nodeExecutionId: n1, retryAttempt: 0 };
export const sort = (key: string, direction = Dir.DESCENDING) => ({ key, direction });
export const hi = () => ({ literals: { s: literalString("hi") } });
export const waiting = exec(EXECUTIONS.waiting);

export function signalTargets(c: Clients): Targets<typeof SignalService> {
  return {
    getOrCreateSignal: {
      base: (i) => ({ id: { signalId: `fz-s${i}`, executionId: waiting }, type: stringType() }),
      followUp: (req) =>
        c.signal.listSignals({ workflowExecutionId: req.id?.executionId ?? {}, limit: 1000 }),
    },
    listSignals: {
      base: () => ({
        workflowExecutionId: waiting,
        limit: 10,
        filters: `eq(signal_id,${GATE_SIGNAL})`,
        sortBy: sort("created_at"),
      }),
    },
    setSignal: {
      prepare: async (i) => {
        await c.signal.getOrCreateSignal({
          id: { signalId: `fz-set${i}`, executionId: waiting },
          type: stringType(),
        });
      },
      base: (i) => ({ id: { signalId: `fz-set${i}`, executionId: waiting }, value: literalString("x") }),
    },
  };
}

/** `storeRoot`: the server's blob store root (download locations must name a blob of its store). */
export function dataProxyTargets(storeRoot: string): Targets<typeof DataProxyService> {
  return {
    createUploadLocation: {
      base: () => ({
        ...P,
        filename: "f.txt",
        expiresIn: { seconds: 60n },
        contentMd5: new Uint8Array(16),
        filenameRoot: "upload-root",
        addContentMd5Metadata: true,
      }),
    },
    createDownloadLocation: {
      base: () => ({ nativeUrl: `${storeRoot}/${P.project}/${P.domain}/key`, expiresIn: { seconds: 60n } }),
    },
    createDownloadLink: {
      base: () => ({
        artifactType: ArtifactType.DECK,
        expiresIn: { seconds: 60n },
        source: { case: "nodeExecutionId", value: n1 },
      }),
    },
    getData: { base: () => ({ flyteUrl: `flyte://v1/${P.project}/${P.domain}/${EXECUTIONS.ran}/n1/o` }) },
  };
}
