// Error texts reach every client intact: the grpc-message trailer is encoded as the gRPC spec says (grpc-js decodes
// it with decodeURI, which leaves ':' and ',' encoded if the server encodes them), and a long message — non-ASCII
// text triples when encoded — is cut to fit a trailer instead of breaking the HTTP/2 connection.

import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  encodeGrpcMessage,
  fitGrpcMessage,
  MAX_ENCODED_MESSAGE,
} from "../../server/transport/grpc-message.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.stop();
});

/** grpc-js's error: code and details (the decoded grpc-message). */
async function grpcJsError(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (err) {
    return err as { code: number; details: string };
  }
  throw new Error("expected an error");
}

describe("error messages", () => {
  it("reach grpc-js with ':' ',' '/' ';' '+' and non-ASCII text as sent", async () => {
    const err = await grpcJsError(
      t.grpcJs.unary("getTask", {
        id: { resourceType: 1, project: "p+q", domain: "d;é", name: "a/b,c", version: "v:1" },
      }),
    );
    expect(err.code).toBe(Code.NotFound);
    expect(err.details).not.toMatch(/%[0-9A-F]{2}/);
    expect(err.details).toContain("d;é");
  });

  it("are cut to fit a trailer, and the connection keeps working", async () => {
    const domain = "é".repeat(50_000);
    for (let i = 0; i < 3; i++) {
      const err = await grpcJsError(
        t.grpcJs.unary("getExecution", { id: { project: "p", domain, name: "n" } }),
      );
      expect(err.code).toBe(Code.NotFound);
      expect(encodeGrpcMessage(err.details).length).toBeLessThanOrEqual(MAX_ENCODED_MESSAGE);
      const viaConnect = await t.admin
        .getExecution({ id: { project: "p", domain, name: "n" } })
        .catch((e) => e);
      expect(viaConnect).toBeInstanceOf(ConnectError);
      expect((viaConnect as ConnectError).code).toBe(Code.NotFound);
    }
    expect((await t.grpcJs.unary("getVersion", {})).controlPlaneVersion).toBeDefined();
    expect((await t.admin.getVersion({})).controlPlaneVersion).toBeDefined();
  });

  it("are cut at whole characters", () => {
    expect(fitGrpcMessage("aé", 3)).toBe("a");
    expect(fitGrpcMessage("aé", 7)).toBe("aé");
    expect(encodeGrpcMessage("50% é:,")).toBe("50%25 %C3%A9:,");
  });
});
