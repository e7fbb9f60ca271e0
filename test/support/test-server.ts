// Starts the real server on port 0 against a fresh database, with a Connect (gRPC) client and a grpc-js client.
// With PETREL_TEST_ENDPOINT=host:port the same clients connect to that server instead (see external-server.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { WatchService } from "../../gen/petrel/v1/watch_pb.js";
import { type PetrelServer, type StartOptions, startPetrel } from "../../server/app.js";
import { loadConfig } from "../../server/config.js";
import { createLogger } from "../../server/logger.js";
import { connectExternalServer, externalEndpoint } from "./external-server.js";
import { createGrpcJsClient, type GrpcJsClient } from "./grpc-js-client.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";

export interface TestServer {
  readonly server: PetrelServer;
  readonly database: TestDatabase;
  readonly admin: Client<typeof AdminService>;
  readonly signal: Client<typeof SignalService>;
  readonly watch: Client<typeof WatchService>;
  readonly dataProxy: Client<typeof DataProxyService>;
  readonly grpcJs: GrpcJsClient<typeof AdminService>;
  readonly grpcAddress: string;
  readonly httpBaseUrl: string;
  /** PETREL_HOME: blobs under `<home>/blobs`, task work directories under `<home>/work`. */
  readonly home: string;
  /** Stops the server but keeps the database, so a new server can start on it. */
  restart(): Promise<TestServer>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  readonly env?: Record<string, string>;
  readonly database?: TestDatabase;
  /** PETREL_HOME (blobs, task work directories, the signing key); a new temporary one by default. */
  readonly home?: string;
  /** Start options (tuning for tests). */
  readonly start?: StartOptions;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  if (externalEndpoint !== undefined) {
    if (Object.keys(opts).length > 0) {
      throw new Error(
        `startTestServer(options) needs an in-process server: PETREL_TEST_ENDPOINT=${externalEndpoint}`,
      );
    }
    return connectExternalServer(externalEndpoint);
  }
  const database = opts.database ?? (await createTestDatabase());
  const home = opts.home ?? fs.mkdtempSync(path.join(os.tmpdir(), "petrel-test-home-"));
  const config = loadConfig([], {
    PETREL_HOME: home,
    PETREL_GRPC_PORT: "0",
    PETREL_HTTP_PORT: "0",
    PETREL_HOST: "127.0.0.1",
    DATABASE_URL: database.url,
    PETREL_LOG_LEVEL: process.env.PETREL_TEST_LOG ?? "error",
    ...opts.env,
  });
  const server = await startPetrel(config, createLogger(config.logLevel), opts.start);
  const grpcAddress = `127.0.0.1:${server.grpcPort}`;
  const transport = createGrpcTransport({ baseUrl: `http://${grpcAddress}` });
  const grpcJs = createGrpcJsClient(AdminService, grpcAddress);
  const stopServer = async () => {
    grpcJs.close();
    await server.stop(2_000);
  };
  return {
    server,
    database,
    admin: createClient(AdminService, transport),
    signal: createClient(SignalService, transport),
    watch: createClient(WatchService, transport),
    dataProxy: createClient(DataProxyService, transport),
    grpcJs,
    grpcAddress,
    httpBaseUrl: `http://127.0.0.1:${server.httpPort}`,
    home,
    async restart() {
      await stopServer();
      return startTestServer({ ...opts, database, home });
    },
    async stop() {
      await stopServer();
      await database.drop();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
