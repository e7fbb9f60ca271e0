// SynchronousClient: one method per rpc of AdminService, SignalService, DataProxyService and petrel.v1.WatchService,
// taking and returning the generated messages, with typed errors, retries of idempotent calls, and
// list<X>Paginated / list<X>All helpers that follow page tokens.
import { readFileSync } from "node:fs";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, Code, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "../gen/flyteidl/service/admin_pb.js";
import { DataProxyService } from "../gen/flyteidl/service/dataproxy_pb.js";
import { SignalService } from "../gen/flyteidl/service/signal_pb.js";
import { WatchService } from "../gen/petrel/v1/watch_pb.js";
import { WorkerService } from "../gen/petrel/v1/worker_pb.js";
import { type PetrelError, toPetrelError } from "./errors.js";
import { trustTransferCa } from "./http-transfer.js";
import { type ListHelpers, listHelpers } from "./list-helpers.js";

export interface ConnectOptions {
  /** host:port or a URL; plain host:port means http:// when insecure, https:// otherwise. */
  readonly endpoint: string;
  readonly insecure?: boolean;
  /** Sent as `authorization: Bearer <token>`. */
  readonly token?: string;
  /** PEM file of the CA(s) to trust for TLS (a private CA), on top of the system's. */
  readonly caFile?: string;
  readonly transport?: "grpc" | "connect";
  /** Attempts for idempotent calls that fail with UNAVAILABLE (default 4). */
  readonly maxAttempts?: number;
}

type Rpcs = Client<typeof AdminService> &
  Client<typeof SignalService> &
  Client<typeof DataProxyService> &
  Client<typeof WatchService> &
  Client<typeof WorkerService>;

/** Reads, and the DataProxy's signing calls (they only sign URLs). */
const IDEMPOTENT = /^(get|list|watch)|^create(UploadLocation|DownloadLocation|DownloadLink)$/;

function baseUrl(o: ConnectOptions): string {
  if (/^https?:\/\//.test(o.endpoint)) return o.endpoint;
  return `${o.insecure === true ? "http" : "https"}://${o.endpoint}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function wrap<S extends DescService>(client: Client<S>, maxAttempts: number): Client<S> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(client as Record<string, (...a: unknown[]) => unknown>)) {
    const retry = IDEMPOTENT.test(name);
    out[name] = (...args: unknown[]) => {
      const result = fn(...args);
      if (!(result instanceof Promise)) return errorsOf(result as AsyncIterable<unknown>);
      return (async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await (attempt === 1 ? result : fn(...args));
          } catch (err) {
            const e = toPetrelError(err);
            if (!retry || e.code !== Code.Unavailable || attempt >= maxAttempts) throw e;
            await sleep(Math.random() * 100 * 2 ** attempt);
          }
        }
      })();
    };
  }
  return out as Client<S>;
}

async function* errorsOf<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (err) {
    throw toPetrelError(err);
  }
}

export interface SynchronousClient extends Rpcs, ListHelpers {}

export const SynchronousClient = {
  /** Connects to a Petrel (or FlyteAdmin) endpoint; no network traffic happens until the first call. */
  connect(options: ConnectOptions): SynchronousClient {
    const interceptors: Interceptor[] = [];
    if (options.token !== undefined) {
      const token = options.token;
      interceptors.push((next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      });
    }
    const ca = options.caFile === undefined ? undefined : readFileSync(options.caFile);
    // The same CA serves the signed blob URLs the server hands out (its HTTP port, with TLS on).
    if (ca !== undefined) trustTransferCa(ca.toString());
    const tls = ca === undefined ? {} : { nodeOptions: { ca } };
    const transport: Transport =
      options.transport === "connect"
        ? createConnectTransport({ baseUrl: baseUrl(options), httpVersion: "1.1", interceptors, ...tls })
        : createGrpcTransport({ baseUrl: baseUrl(options), interceptors, ...tls });
    return SynchronousClient.fromTransport(transport, options.maxAttempts);
  },

  fromTransport(transport: Transport, maxAttempts = 4): SynchronousClient {
    const rpcs = Object.assign(
      {},
      wrap(createClient(AdminService, transport), maxAttempts),
      wrap(createClient(SignalService, transport), maxAttempts),
      wrap(createClient(DataProxyService, transport), maxAttempts),
      wrap(createClient(WatchService, transport), maxAttempts),
      wrap(createClient(WorkerService, transport), maxAttempts),
    ) as Rpcs;
    return Object.assign(rpcs, listHelpers(rpcs));
  },
};

export type { PetrelError };
