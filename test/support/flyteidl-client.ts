// A gRPC client built only from Flyte's published definitions (@flyteorg/flyteidl), independent of Petrel's gen/:
// the wire codec is the package's static protobufjs module (gen/pb-js), plain-object conversion (fromObject /
// toObject) comes from protobufjs reflection over the package's own .proto files (the static module is generated
// without converters). Also builds task registrations shaped as flytekit serializes them.
import { createRequire } from "node:module";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { flyteidl as FlyteidlNamespace } from "@flyteorg/flyteidl/gen/pb-js/flyteidl.js";
import * as grpc from "@grpc/grpc-js";
import type * as Protobuf from "protobufjs";

const require = createRequire(import.meta.url);
const staticRoot = require("@flyteorg/flyteidl/gen/pb-js/flyteidl.js") as {
  flyteidl: typeof FlyteidlNamespace;
};
const protobuf = require("protobufjs") as typeof Protobuf;
const PLAIN: Protobuf.IConversionOptions = { longs: String, enums: String, defaults: false };

/** The published static module's root namespace, for building or decoding messages in tests. */
export const flyteidl: typeof FlyteidlNamespace = staticRoot.flyteidl;

export type ServiceName = "AdminService" | "SignalService" | "DataProxyService";
type RpcNames<S> = Capitalize<Exclude<keyof S, keyof Protobuf.rpc.Service> & string>;
export interface ServiceMethods {
  AdminService: RpcNames<FlyteidlNamespace.service.AdminService>;
  SignalService: RpcNames<FlyteidlNamespace.service.SignalService>;
  DataProxyService: RpcNames<FlyteidlNamespace.service.DataProxyService>;
}
/** A message as `toObject(msg, { longs: String, enums: String, defaults: false })` gives it. */
export type PlainMessage = Record<string, unknown>;

export interface FlyteAdminClient {
  call<S extends ServiceName>(
    service: S,
    method: ServiceMethods[S],
    request: object,
    metadata?: Record<string, string>,
  ): Promise<PlainMessage>;
  close(): void;
}

interface StaticCodec {
  encode(message: object): { finish(): Uint8Array };
  decode(data: Uint8Array): object;
}

const PROTOS = path.join(path.dirname(require.resolve("@flyteorg/flyteidl/package.json")), "protos");
const SERVICE_FILES: Record<ServiceName, string> = {
  AdminService: "admin.proto",
  SignalService: "signal.proto",
  DataProxyService: "dataproxy.proto",
};

let reflection: Protobuf.Root | undefined;

/** The reflected definitions of the three services and everything they use (loaded once). */
function reflectedRoot(): Protobuf.Root {
  if (reflection !== undefined) return reflection;
  const root = new protobuf.Root();
  // google/protobuf/* ship with protobufjs; google/api and openapiv2 only carry options that are not needed here.
  root.resolvePath = (_origin, target) => {
    if (target.startsWith(PROTOS) || target.startsWith("google/protobuf/")) return target;
    return target.startsWith("flyteidl/") ? path.join(PROTOS, target) : null;
  };
  root.loadSync(
    Object.values(SERVICE_FILES).map((f) => path.join(PROTOS, "flyteidl/service", f)),
    { keepCase: false },
  );
  root.resolveAll();
  reflection = root;
  return root;
}

/** The static (gen/pb-js) class for a fully qualified message name such as `.flyteidl.admin.Task`. */
function staticCodec(fullName: string): StaticCodec {
  let node: unknown = staticRoot;
  for (const part of fullName.replace(/^\./, "").split(".")) {
    node = node === null || typeof node !== "object" ? undefined : (node as Record<string, unknown>)[part];
  }
  const codec = node as Partial<StaticCodec> | undefined;
  if (typeof codec?.encode !== "function" || typeof codec.decode !== "function") {
    throw new Error(`${fullName} is not in @flyteorg/flyteidl gen/pb-js`);
  }
  return codec as StaticCodec;
}

function methodTypes(service: ServiceName, method: string) {
  const m = reflectedRoot().lookupService(`flyteidl.service.${service}`).methods[method];
  if (m?.resolvedRequestType == null || m.resolvedResponseType == null) {
    throw new Error(`no unary method ${method} on flyteidl.service.${service}`);
  }
  if (m.requestStream === true || m.responseStream === true)
    throw new Error(`${method} is a streaming method`);
  const req = m.resolvedRequestType;
  const res = m.resolvedResponseType;
  return { req, res, reqCodec: staticCodec(req.fullName), resCodec: staticCodec(res.fullName) };
}

/** Converts a plain object (enum names, int64 as strings) to a message of a reflected type. */
export function fromPlain(typeName: string, value: object): object {
  return reflectedRoot()
    .lookupType(typeName)
    .fromObject(value as Record<string, unknown>);
}

/** Converts a message (static or reflected) to a plain object: int64 as strings, enums by name, no defaults. */
export function toPlain(typeName: string, message: object): PlainMessage {
  const type = reflectedRoot().lookupType(typeName);
  return type.toObject(message as Protobuf.Message, PLAIN);
}

/** A client for Flyte's admin-side services over @grpc/grpc-js, using the published definitions only. */
export function createFlyteAdminClient(address: string): FlyteAdminClient {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return {
    call(service, method, request, metadata = {}) {
      const { req, res, reqCodec, resCodec } = methodTypes(service, method);
      const body = reqCodec.encode(req.fromObject(request as Record<string, unknown>)).finish();
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          `/flyteidl.service.${service}/${method}`,
          (b: Uint8Array) => Buffer.from(b),
          (b: Buffer) => resCodec.decode(b),
          body,
          md,
          (err, out) => {
            if (err !== null || out === undefined) reject(err ?? new Error(`${method}: empty response`));
            else resolve(res.toObject(out as Protobuf.Message, PLAIN));
          },
        );
      });
    },
    close: () => client.close(),
  };
}

// ---- flytekit-shaped registrations -------------------------------------------------------------------------

export const FLYTEKIT_VERSION = "1.16.24";
export const DEFAULT_RESOLVER = "flytekit.core.python_auto_container.default_task_resolver";
export const MAP_RESOLVER = "flytekit.core.array_node_map_task.ArrayNodeMapTaskResolver";
export type SimpleTypeName = "INTEGER" | "FLOAT" | "STRING" | "BOOLEAN" | "DATETIME" | "DURATION" | "STRUCT";

export interface PythonTaskOptions {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
  readonly version: string;
  /** The python function's own interface (a map task's lists are derived from it). */
  readonly inputs?: Record<string, SimpleTypeName>;
  readonly outputs?: Record<string, SimpleTypeName>;
  /** The function name the resolver loads (`task-name`); the stand-in picks its behaviour by it. */
  readonly taskName: string;
  readonly taskModule?: string;
  readonly image?: string;
  /** Serialize as a map task (`pyflyte-map-execute`, ArrayNodeMapTaskResolver), with these bound inputs. */
  readonly map?: boolean | { readonly bound?: readonly string[] };
  /** A @dynamic task: flytekit adds the serialization context `_F_SS_C` to the container env. */
  readonly dynamic?: boolean;
  readonly fast?: { readonly distribution: string; readonly destDir?: string };
  readonly retries?: number;
  readonly deck?: boolean;
  readonly env?: Record<string, string>;
}

/** The container args flytekit serializes for a task (see task-contract.md §3.1, §5.1, §9). */
export function pythonTaskArgs(o: PythonTaskOptions): string[] {
  const io = ["--inputs", "{{.input}}", "--output-prefix", "{{.outputPrefix}}"];
  const paths = [
    "--raw-output-data-prefix",
    "{{.rawOutputDataPrefix}}",
    "--checkpoint-path",
    "{{.checkpointOutputPrefix}}",
    "--prev-checkpoint",
    "{{.prevCheckpointPrefix}}",
  ];
  const loader = ["task-module", o.taskModule ?? "standin.tasks", "task-name", o.taskName];
  const bound = typeof o.map === "object" ? [...(o.map.bound ?? [])].sort() : [];
  const args = o.map
    ? ["pyflyte-map-execute", ...io, ...paths, "--resolver", MAP_RESOLVER, "--"]
    : ["pyflyte-execute", ...io, ...paths, "--resolver", DEFAULT_RESOLVER, "--"];
  if (o.map) args.push("vars", bound.join(","), "resolver", DEFAULT_RESOLVER);
  args.push(...loader);
  if (o.fast === undefined) return args;
  const fast = ["pyflyte-fast-execute", "--additional-distribution", o.fast.distribution];
  return [...fast, "--dest-dir", o.fast.destDir || ".", "--", ...args];
}

/** The `_F_SS_C` value: gzip + base64 of the serialization settings JSON (an approximation of flytekit's). */
function serializedContext(o: PythonTaskOptions, image: string): string {
  const settings = {
    image_config: {
      default_image: { name: "default", fqn: image.split(":")[0], tag: image.split(":")[1] ?? null },
    },
    project: o.project,
    domain: o.domain,
    version: o.version,
    env: null,
    python_interpreter: "/opt/venv/bin/python3",
    fast_serialization_settings: {
      enabled: o.fast !== undefined,
      destination_dir: o.fast === undefined ? null : o.fast.destDir || ".",
      distribution_location: o.fast?.distribution ?? null,
    },
  };
  return gzipSync(JSON.stringify(settings)).toString("base64");
}

/** A TaskSpec (plain object, for `fromObject`) with the template flytekit writes for a `@task`/`@dynamic`. */
export function pythonTask(o: PythonTaskOptions): { template: PlainMessage } {
  const image = o.image ?? `cr.flyte.org/flyteorg/flytekit:py3.12-${FLYTEKIT_VERSION}`;
  const bound = new Set(typeof o.map === "object" ? (o.map.bound ?? []) : []);
  const variable = (name: string, t: SimpleTypeName, list: boolean) => ({
    type: list ? { collectionType: { simple: t } } : { simple: t },
    description: name,
  });
  const vars = (m: Record<string, SimpleTypeName> = {}, list: (name: string) => boolean) => ({
    variables: Object.fromEntries(Object.entries(m).map(([k, t]) => [k, variable(k, t, list(k))])),
  });
  const env = { ...(o.dynamic ? { _F_SS_C: serializedContext(o, image) } : {}), ...o.env };
  return {
    template: {
      id: { resourceType: "TASK", project: o.project, domain: o.domain, name: o.name, version: o.version },
      type: "python-task",
      metadata: {
        runtime: { type: "FLYTE_SDK", version: FLYTEKIT_VERSION, flavor: "python" },
        retries: o.retries ? { retries: o.retries } : {},
        generatesDeck: o.deck ? { value: true } : {},
        metadata: {},
      },
      interface: {
        inputs: vars(o.inputs, (k) => o.map !== undefined && o.map !== false && !bound.has(k)),
        outputs: vars(o.outputs, () => o.map !== undefined && o.map !== false),
      },
      container: {
        image,
        args: pythonTaskArgs(o),
        resources: {},
        env: Object.entries(env).map(([key, value]) => ({ key, value })),
      },
    },
  };
}
