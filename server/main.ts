// `petrel serve`: starts the server from flags and environment, and stops it cleanly on SIGINT/SIGTERM.
import { startPetrel } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { serveHelp } from "./config-help.js";
import { createLogger } from "./logger.js";

export async function serve(argv: readonly string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${serveHelp()}\n`);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`petrel: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // When the server cannot go on (its embedded Postgres cannot be restarted), it has stopped: exit for a supervisor.
  const server = await startPetrel(config, logger, { onFatal: () => process.exit(1) });
  const scheme = config.tlsCert === undefined ? "http" : "https";
  // A wildcard listen address is no address to open: the console link names this machine instead.
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  logger.info("petrel is serving", {
    grpc: `${config.host}:${server.grpcPort}`,
    http: `${config.host}:${server.httpPort}`,
    console: `${config.publicUrl ?? `${scheme}://${host}:${server.httpPort}`}/console/`,
    data: server.embeddedDataDir ?? "external Postgres (DATABASE_URL)",
  });
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn("second signal: exiting now");
      process.exit(1);
    }
    logger.info("shutting down", { signal });
    server.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error("shutdown failed", { error: err });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  // SIGHUP: serve the renewed TLS certificate and key to new connections.
  process.on("SIGHUP", () => {
    try {
      if (server.reloadTls()) logger.info("reloaded the TLS certificate and key");
      else logger.info("SIGHUP ignored: TLS is not configured");
    } catch (err) {
      logger.error("cannot reload the TLS certificate and key; keeping the current ones", { error: err });
    }
  });
}

const isEntry =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (isEntry) {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== "serve") {
    process.stderr.write("usage: petrel serve [flags] (petrel serve --help lists them)\n");
    process.exit(2);
  }
  serve(rest).catch((err: unknown) => {
    process.stderr.write(`petrel: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
