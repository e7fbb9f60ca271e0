// Where things live in the blob store, as Flyte lays them out (task-contract.md §1): a metadata prefix with the
// engine's and the tasks' small protobufs per execution, node and attempt, and a raw-output prefix per execution
// whose per-attempt sandboxes hold what tasks offload (files, directories, dataframes) and is kept. Node data
// directories are named by the node's unique id (nested nodes' ids are unique within their execution), so every node
// has `<execution dir>/<node id>/data`. Pure functions over URIs; the store decides what a URI means.

export interface ExecutionKey {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
}

const join = (base: string, ...segments: string[]) => [base.replace(/\/+$/, ""), ...segments].join("/");

/** The engine's directory of an execution: `<root>/metadata/propeller/<project>-<domain>-<name>`. */
export const executionDir = (root: string, e: ExecutionKey) =>
  join(root, "metadata", "propeller", `${e.project}-${e.domain}-${e.name}`);

/** FlyteAdmin's own copy of an execution's inputs (and the inputs as the user gave them). */
export const executionInputsUri = (root: string, e: ExecutionKey) =>
  join(root, "metadata", e.project, e.domain, e.name, "inputs");
export const executionUserInputsUri = (root: string, e: ExecutionKey) =>
  join(root, "metadata", e.project, e.domain, e.name, "user_inputs");

/**
 * Every directory of an execution's metadata: FlyteAdmin's (its inputs), the engine's (executionDir) and that of the
 * workflows its dynamic nodes compiled (dynamicWorkflowUri). Its raw outputs are in per-attempt sandboxes (rawSandbox).
 */
export const executionMetadataDirs = (root: string, e: ExecutionKey) => [
  join(root, "metadata", e.project, e.domain, e.name),
  executionDir(root, e),
  join(root, "metadata", "admin", e.project, e.domain, e.name),
];

/** A node's data directory: its inputs.pb, and one output directory per attempt. */
export const nodeDataDir = (root: string, e: ExecutionKey, nodeId: string) =>
  join(executionDir(root, e), nodeId, "data");
export const nodeInputsUri = (root: string, e: ExecutionKey, nodeId: string) =>
  join(nodeDataDir(root, e, nodeId), "inputs.pb");
/** An attempt's output directory (`{{.outputPrefix}}`): outputs.pb, error.pb, futures.pb, deck.html. */
export const attemptOutputDir = (root: string, e: ExecutionKey, nodeId: string, attempt: number) =>
  join(nodeDataDir(root, e, nodeId), String(attempt));
export const attemptOutputsUri = (root: string, e: ExecutionKey, nodeId: string, attempt: number) =>
  join(attemptOutputDir(root, e, nodeId, attempt), "outputs.pb");
/** FlyteAdmin's copy of the workflow a dynamic node compiled: `<root>/metadata/admin/<p>/<d>/<exec>/<node>/<wf>`. */
export const dynamicWorkflowUri = (
  root: string,
  e: ExecutionKey,
  nodeId: string,
  wf: { project: string; domain: string; name: string; version: string },
) =>
  join(
    root,
    "metadata",
    "admin",
    e.project,
    e.domain,
    e.name,
    nodeId,
    `${wf.project}_${wf.domain}_${wf.name}_${wf.version}`,
  );
/** The workflow's outputs, published as the end node's. */
export const executionOutputsUri = (root: string, e: ExecutionKey) =>
  attemptOutputsUri(root, e, "end-node", 0);

/**
 * An attempt's stdout or stderr, kept next to its outputs: `<output dir>/stdout.log` (no output variable can be named
 * so: variable names are identifiers).
 */
export const attemptLogUri = (
  root: string,
  e: ExecutionKey,
  nodeId: string,
  attempt: number,
  stream: "stdout" | "stderr",
) => join(attemptOutputDir(root, e, nodeId, attempt), `${stream}.log`);

// Flyte's base32 alphabet for these names (not RFC 4648's).
const BASE32 = "abcdefghijklmnopqrstuvwxyz123456";

function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, "utf8")) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Flyte's FixedLength: the text when it fits, else "f" + base32 (no padding) of its fnv-32a hash. */
export function fixedLength(text: string, max: number): string {
  if (text.length <= max) return text;
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(fnv32a(text));
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return `f${out}`;
}

const SHARD = "abcdefghijklmnopqrstuvwxyz0123456789";

/** One of the 1,296 two-character shards, picked by the key's fnv-32a hash. */
export function shardOf(key: string): string {
  const n = fnv32a(key) % (SHARD.length * SHARD.length);
  return `${SHARD[Math.floor(n / SHARD.length)]}${SHARD[n % SHARD.length]}`;
}

/** The attempt's unique id: `<execution>-<node>-<attempt>`, at most 50 characters (fixedLength). */
export const attemptUniqueId = (e: ExecutionKey, nodeId: string, attempt: number) =>
  fixedLength(`${e.name}-${nodeId}-${attempt}`, 50);

/**
 * An attempt's raw-output sandbox (`{{.rawOutputDataPrefix}}`): `<raw prefix>/<shard>/<unique id>`, where the raw
 * prefix is the execution's raw_output_data_config (else the store's default `<root>/raw`).
 */
export function rawSandbox(rawPrefix: string, e: ExecutionKey, nodeId: string, attempt: number): string {
  const id = attemptUniqueId(e, nodeId, attempt);
  return join(rawPrefix, shardOf(id), id);
}

/** The default raw-output prefix of a store. */
export const defaultRawPrefix = (root: string) => join(root, "raw");

/** `{{.perRetryUniqueKey}}`: the unique id with leading characters other than letters/`_` → `a`, others → `_`. */
export function perRetryUniqueKey(e: ExecutionKey, nodeId: string, attempt: number): string {
  return attemptUniqueId(e, nodeId, attempt)
    .replace(/^[^A-Za-z_]+/, "a")
    .replace(/[^A-Za-z0-9_]+/g, "_");
}
