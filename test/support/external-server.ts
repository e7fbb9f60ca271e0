// The test server as a client of a server already running elsewhere (the container image, docker compose):
// PETREL_TEST_ENDPOINT=host:port (gRPC), PETREL_TEST_HTTP_ENDPOINT=host:port (HTTP/1.1, optional). Only the clients
// exist; what needs the in-process server (its internals, its database, its home, a restart, other settings) throws
// naming the variable, and tests that need it are declared with `itInProcess` (skipped against an external server).
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { it } from "vitest";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
import { createGrpcJsClient } from "./grpc-js-client.js";
import type { TestServer } from "./test-server.js";

const endpoint = process.env.PETREL_TEST_ENDPOINT;
const httpEndpoint = process.env.PETREL_TEST_HTTP_ENDPOINT;

/** The external server's gRPC address, or undefined when tests start their own in-process server. */
export const externalEndpoint: string | undefined = endpoint === "" ? undefined : endpoint;

/** `it` for a test that needs the in-process server (its internals, files, settings or a restart). */
export const itInProcess = it.skipIf(externalEndpoint !== undefined);

function unavailable(what: string): never {
  throw new Error(
    `${what} needs an in-process server: not available against PETREL_TEST_ENDPOINT=${endpoint}`,
  );
}

export function connectExternalServer(grpcAddress: string): TestServer {
  const transport = createGrpcTransport({ baseUrl: `http://${grpcAddress}` });
  const grpcJs = createGrpcJsClient(AdminService, grpcAddress);
  return {
    get server() {
      return unavailable("t.server");
    },
    get database() {
      return unavailable("t.database");
    },
    get home() {
      return unavailable("t.home");
    },
    get httpBaseUrl() {
      return httpEndpoint
        ? `http://${httpEndpoint}`
        : unavailable("t.httpBaseUrl (set PETREL_TEST_HTTP_ENDPOINT)");
    },
    admin: createClient(AdminService, transport),
    signal: createClient(SignalService, transport),
    watch: createClient(WatchService, transport),
    dataProxy: createClient(DataProxyService, transport),
    grpcJs,
    grpcAddress,
    restart: () => unavailable("t.restart()"),
    async stop() {
      grpcJs.close();
    },
  };
}
