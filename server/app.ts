// The composition root: database, managers, engine and listeners, started and stopped as one unit.
import path from "node:path";
import type { Knex } from "knex";
import { AuthMetadata } from "./auth/auth-metadata.js";
import { Authenticator } from "./auth/authenticator.js";
import type { PetrelConfig } from "./config.js";
import { authEnabled, isLoopbackHost } from "./config-auth.js";
import { createDatabase, migrateDatabase } from "./db/database.js";
import { DatabaseWatch } from "./db/database-watch.js";
import {
  type EmbeddedPostgres,
  type EmbeddedPostgresEvent,
  startEmbeddedPostgres,
} from "./db/embedded-postgres.js";
import type { RestartPolicy } from "./db/embedded-postgres-supervisor.js";
import { NotificationHub } from "./db/notifications.js";
import { Engine } from "./engine/engine.js";
import type { EngineOptions } from "./engine/engine-context.js";
import type { Logger } from "./logger.js";
import { createManagers } from "./managers/managers.js";
import { WatchManager } from "./managers/watch-manager.js";
import { WATCH_CHANNEL } from "./managers/workflow-event-recorder.js";
import { metricsRoute } from "./metrics/metrics-route.js";
import { PetrelMetrics } from "./metrics/petrel-metrics.js";
import { rpcMetricsInterceptor } from "./metrics/rpc-metrics.js";
import {
  type NotificationService,
  outboxPolicy,
  startNotifications,
} from "./notifications/notification-service.js";
import type { OutboxSenderOptions } from "./notifications/outbox-sender.js";
import { TieredDataStore } from "./repositories/data-store.js";
import { SCHEDULE_CHANNEL } from "./repositories/schedule-repo.js";
import { WORK_CHANNEL } from "./repositories/work-repo.js";
import { type RetentionOptions, RetentionService } from "./retention/retention-service.js";
import { Scheduler } from "./scheduler/scheduler.js";
import { BlobMaterializer, type MaterializerOptions } from "./storage/blob-materializer.js";
import type { BlobStore } from "./storage/blob-store.js";
import { createBlobStore } from "./storage/create-blob-store.js";
import { createUrlSigner } from "./storage/signed-urls.js";
import { authMetadataRoutes, requireToken } from "./transport/auth/auth-routes.js";
import { authInterceptor } from "./transport/auth-interceptor.js";
import { blobRoutes } from "./transport/blob-routes.js";
import { consoleRoute } from "./transport/console-route.js";
import { HealthState, healthzRoute } from "./transport/health.js";
import { combineRoutes, logsRoute } from "./transport/http-routes.js";
import { errorInterceptor, requestLogInterceptor } from "./transport/interceptors.js";
import { OUTBOX_PATH, outboxRoute } from "./transport/outbox-route.js";
import { restGatewayRoute } from "./transport/rest/rest-gateway.js";
import { buildRoutes, servedServiceNames } from "./transport/router.js";
import { startListeners } from "./transport/servers.js";
import { DEFAULT_SESSION_GUARD } from "./transport/session-guard.js";

export interface PetrelServer {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly databaseUrl: string;
  /** Set when Petrel started its own Postgres. */
  readonly embeddedDataDir: string | undefined;
  /** The blob store's root URI (file:///… or s3://…). */
  readonly storageRoot: string;
  readonly db: Knex;
  /** Retention's loop (its passes can also be run by hand, as of a given time). */
  readonly retention: Pick<RetentionService, "pass">;
  /** Re-reads the TLS certificate and key (SIGHUP); false without TLS; throws, keeping the old pair, when unusable. */
  reloadTls(): boolean;
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Embedded Postgres only: trade durability for speed (tests). */
  readonly unsafeFastDatabase?: boolean;
  /** Embedded Postgres only: how it is restarted should it stop on its own (tests shorten it). */
  readonly embeddedRestart?: Partial<RestartPolicy>;
  /** Engine tuning (tests shorten leases). */
  readonly engine?: Partial<EngineOptions>;
  /** How the blob outbox is swept (tests shorten it). */
  readonly materializer?: Partial<MaterializerOptions>;
  /** The built console's directory (default: the package's dist/console; tests serve a build of their own). */
  readonly consoleDir?: string;
  /** How the notification and event-sink outbox is delivered (tests shorten polls and backoff). */
  readonly outbox?: Partial<OutboxSenderOptions>;
  /** How retention batches and paces its work (tests and benchmarks). */
  readonly retention?: Partial<Omit<RetentionOptions, "retainDays">>;
  /**
   * Called once the server has stopped because it cannot go on (the embedded Postgres could not be restarted);
   * `petrel serve` exits non-zero, for a supervisor to start it again.
   */
  readonly onFatal?: (err: Error) => void;
}

export async function startPetrel(
  config: PetrelConfig,
  logger: Logger,
  opts: StartOptions = {},
): Promise<PetrelServer> {
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.databaseUrl;
  if (databaseUrl === undefined) {
    embedded = await startEmbeddedPostgres({
      dir: config.home,
      logger,
      ...(opts.unsafeFastDatabase === true ? { unsafeFast: true } : {}),
      ...(opts.embeddedRestart === undefined ? {} : { restart: opts.embeddedRestart }),
    });
    databaseUrl = embedded.url;
  }
  const db = createDatabase(databaseUrl, config.dbPoolMax, logger);
  const metrics = new PetrelMetrics(db, logger);
  // Health follows the database: NOT_SERVING while it cannot be reached (or the embedded one is being restarted).
  const health = new HealthState(servedServiceNames());
  const dbWatch = new DatabaseWatch(databaseUrl, logger, (reason) => health.setDatabaseUnavailable(reason));
  // Until the server is up, a Postgres that cannot be restarted is remembered, and dealt with once it is.
  let lost: Error | undefined;
  let giveUp = (err: Error): void => {
    lost = err;
  };
  const unwatchEmbedded = embedded?.onEvent((e: EmbeddedPostgresEvent) => {
    switch (e.kind) {
      case "exited":
        return dbWatch.hold(`the embedded Postgres ${e.reason}; restarting it`);
      case "restarted":
        return dbWatch.release();
      case "gave-up":
        return giveUp(e.error);
    }
  });
  let engine: Engine | undefined;
  let blobs: BlobStore | undefined;
  let stopMaterializer: (() => Promise<void>) | undefined;
  let notifications: NotificationHub | undefined;
  let schedules: Scheduler | undefined;
  let outbox: NotificationService | undefined;
  let retention: RetentionService | undefined;
  try {
    const applied = await migrateDatabase(db, databaseUrl);
    if (applied.length > 0) logger.info("applied migrations", { migrations: applied.join(",") });
    // Blobs live in the store (local under PETREL_HOME by default); signed URLs point at the HTTP port.
    const signer = await createUrlSigner(config);
    blobs = createBlobStore(config, signer);
    const data = new TieredDataStore(blobs);
    const managers = createManagers(db, config, data, signer);
    // One LISTEN connection serves the engine, the watch streams and the scheduler.
    const hub = new NotificationHub(databaseUrl, [WORK_CHANNEL, WATCH_CHANNEL, SCHEDULE_CHANNEL], logger);
    notifications = hub;
    await hub.start();
    const started = new Engine(db, hub, managers.data, logger, {
      leaseMs: config.engineLeaseMs,
      workRoot: path.join(config.home, "work"),
      taskRuntime: config.taskRuntime,
      dockerHost: config.dockerHost,
      // flytekit reaches an S3-compatible store through FLYTE_AWS_ENDPOINT; credentials only as configured.
      taskEnv: {
        ...(config.storageEndpoint === undefined ? {} : { FLYTE_AWS_ENDPOINT: config.storageEndpoint }),
        ...config.taskEnv,
      },
      secrets: { dir: config.secretsDir, env: config.secretsEnv },
      outbox: outboxPolicy(config),
      ...opts.engine,
    });
    engine = started;
    const materializer = new BlobMaterializer(db, blobs, logger, opts.materializer);
    materializer.start();
    data.materializeWith((b) => materializer.push(b));
    stopMaterializer = () => materializer.stop();
    started.setCompiler(managers.compiler);
    started.setChildLauncher((req, o) => managers.launcher.createExecution(req, o));
    if (config.engine) {
      started.start();
      managers.launcher.setLocalEngine(started);
      managers.signals.setLocalEngine(started);
    }
    const scheduler = new Scheduler(db, (req) => managers.launcher.createExecution(req), hub, logger);
    schedules = scheduler;
    if (config.scheduler) scheduler.start();
    const watch = new WatchManager(db, hub);
    const auth = new Authenticator(config);
    const authMetadata = new AuthMetadata(config, auth);
    if (!authEnabled(config) && !isLoopbackHost(config.host)) {
      logger.warn("serving without authentication on a non-loopback address (--insecure-listen-any)", {
        host: config.host,
      });
    }
    const consolePages = consoleRoute(opts.consoleDir);
    const listeners = await startListeners({
      host: config.host,
      grpcPort: config.grpcPort,
      httpPort: config.httpPort,
      routes: buildRoutes({ managers, watch, workers: started.workerQueue(), health, authMetadata }),
      restGateway: (lookup) => restGatewayRoute(lookup, { maxBodyBytes: config.maxRequestBytes }),
      limits: config,
      sessionGuard: { ...DEFAULT_SESSION_GUARD, idleMs: config.connectionIdleMs },
      interceptors: [
        requestLogInterceptor(logger),
        rpcMetricsInterceptor(metrics),
        errorInterceptor(logger),
        ...(authEnabled(config) ? [authInterceptor(auth, config.authzRules)] : []),
      ],
      ...(config.tlsCert === undefined || config.tlsKey === undefined
        ? {}
        : { tls: { cert: config.tlsCert, key: config.tlsKey } }),
      logger,
      httpRoutes: combineRoutes(
        healthzRoute(health),
        metricsRoute(metrics),
        authMetadataRoutes(authMetadata),
        authEnabled(config)
          ? requireToken(auth, (p) => p.startsWith("/api/v1/logs/"), logsRoute(db, managers.data))
          : logsRoute(db, managers.data),
        authEnabled(config)
          ? requireToken(auth, (p) => p.startsWith(OUTBOX_PATH), outboxRoute(db))
          : outboxRoute(db),
        blobRoutes({
          store: managers.data.blobs,
          verifier: signer,
          maxUploadBytes: config.maxUploadBytes,
          logger,
        }),
        consolePages,
      ),
      http2Routes: consolePages,
    });
    const publicHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
    const scheme = config.tlsCert === undefined ? "http" : "https";
    // Log links are followed from outside (a container's published port, a proxy): the public URL when configured.
    started.setLogBaseUrl(config.publicUrl ?? `${scheme}://${publicHost}:${listeners.httpPort}`);
    signer.setDefaultBaseUrl(`${scheme}://${publicHost}:${listeners.httpPort}`);
    const publicBase = config.publicUrl ?? `${scheme}://${publicHost}:${listeners.httpPort}`;
    outbox = await startNotifications(db, config, logger, metrics.registry, publicBase, opts.outbox);
    const notifier = outbox;
    const retainer = new RetentionService(db, blobs, logger, metrics.registry, {
      ...opts.retention,
      retainDays: config.retainExecutionsDays,
    });
    retention = retainer;
    retainer.start();
    dbWatch.start();
    let stopping: Promise<void> | undefined;
    const server: PetrelServer = {
      grpcPort: listeners.grpcPort,
      httpPort: listeners.httpPort,
      databaseUrl,
      embeddedDataDir: embedded?.dataDir,
      storageRoot: managers.data.root,
      db,
      retention: retainer,
      reloadTls: () => listeners.reloadTls(),
      stop(graceMs = 10_000) {
        stopping ??= (async () => {
          health.setNotServing();
          await listeners.close(graceMs);
          await scheduler.stop();
          await started.stop(graceMs);
          await notifier.stop();
          await retainer.stop();
          await stopMaterializer?.();
          await managers.close();
          await blobs?.close();
          await hub.stop();
          await dbWatch.stop();
          unwatchEmbedded?.();
          metrics.close();
          await db.destroy();
          await embedded?.stop();
        })();
        return stopping;
      },
    };
    giveUp = (err) => {
      logger.error("the embedded Postgres cannot be restarted: stopping Petrel", { error: err });
      server
        .stop(2_000)
        .catch((stopErr: unknown) =>
          logger.error("stopping after the database was lost failed", { error: stopErr }),
        )
        .finally(() => opts.onFatal?.(err));
    };
    if (lost !== undefined) giveUp(lost);
    return server;
  } catch (err) {
    await schedules?.stop();
    await engine?.stop(0);
    await outbox?.stop();
    await retention?.stop();
    await notifications?.stop();
    await stopMaterializer?.();
    await blobs?.close();
    await dbWatch.stop();
    unwatchEmbedded?.();
    metrics.close();
    await db.destroy();
    await embedded?.stop();
    throw err;
  }
}
