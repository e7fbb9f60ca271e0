// A client that cancels streams faster than nghttp2's rapid-reset budget (WatchExecution streams, say) must not
// lose its other calls on the connection: the server drains the connection gracefully (GOAWAY NO_ERROR) instead
// of nghttp2's GOAWAY INTERNAL_ERROR, calls in flight finish, and new calls go to a new connection.
import http2 from "node:http2";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase } from "../../gen/flyteidl/core/execution_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
import { literalBool } from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { connectH2, envelope, request } from "../support/raw-wire.js";
import {
  connectResetStorm,
  longWatch,
  rawResetStorm,
  registerGated,
  startGated,
  watchRequest,
} from "../support/reset-storm.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;
const VERSION = "/flyteidl.service.AdminService/GetVersion";

beforeAll(async () => {
  t = await startTestServer();
  await registerGated(t.admin);
});
afterAll(async () => {
  await t?.stop();
});

describe("clients that cancel streams at a high rate", () => {
  it("closes the connection gracefully, not with INTERNAL_ERROR, and its calls in flight finish", async () => {
    const executionId = await startGated(t.admin, "storm-raw");
    const s = await connectH2(t.grpcAddress);
    let goaway: number | undefined;
    s.on("goaway", (code) => {
      goaway = code;
    });
    s.on("error", () => undefined);
    const watching = longWatch(s, "storm-raw");
    await watching.started;
    const unary: string[] = [];
    let storming = true;
    const calls = (async () => {
      while (storming && !s.closed && !s.destroyed) {
        try {
          const a = await request(s, { ":path": VERSION }, envelope(new Uint8Array()));
          unary.push(`grpc-status ${a.trailers["grpc-status"]}`);
        } catch (err) {
          unary.push(err instanceof Error ? err.message : String(err));
        }
      }
    })();
    const opened = await rawResetStorm(s, watchRequest("storm-raw"), 2_500);
    storming = false;
    await calls;
    expect(goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(opened).toBeLessThan(2_500);
    // Calls answered OK, or refused before the server saw them (safe to retry: REFUSED_STREAM).
    expect(unary.filter((u) => u !== "grpc-status 0" && !/REFUSED_STREAM|GOAWAY/.test(u))).toEqual([]);
    expect(unary.filter((u) => u === "grpc-status 0").length).toBeGreaterThan(0);
    await t.signal.setSignal({ id: { signalId: "go", executionId }, value: literalBool(true) });
    expect(await watching.done).toMatchObject({ status: "0" });
    // Other connections never noticed.
    await t.admin.getVersion({});
  });

  it("keeps a Connect client's other calls working while it cancels hundreds of watches", async () => {
    const executionId = await startGated(t.admin, "storm-connect");
    const transport = createGrpcTransport({ baseUrl: `http://${t.grpcAddress}` });
    const admin = createClient(AdminService, transport);
    const watch = createClient(WatchService, transport);
    const phases: WorkflowExecution_Phase[] = [];
    const watching = (async () => {
      for await (const e of watch.watchExecution({ id: executionId })) {
        if (e.kind.case === "execution") phases.push(e.kind.value.closure?.phase ?? 0);
      }
    })();
    await eventually(
      async () => phases.length,
      (n) => n > 0,
    );
    const failures: string[] = [];
    let answered = 0;
    let storming = true;
    const calls = (async () => {
      while (storming) {
        try {
          await admin.getVersion({});
          answered++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    })();
    await connectResetStorm(watch, "storm-connect", 1_500);
    storming = false;
    await calls;
    // Calls answered, or refused before the server saw them (REFUSED_STREAM: safe to retry).
    expect(failures.filter((f) => !/REFUSED_STREAM/.test(f))).toEqual([]);
    expect(answered).toBeGreaterThan(0);
    await t.signal.setSignal({ id: { signalId: "go", executionId }, value: literalBool(true) });
    await watching;
    expect(phases.at(-1)).toBe(WorkflowExecution_Phase.SUCCEEDED);
    await admin.getVersion({});
  });
});
