// Deletes executions last updated before a cutoff, a batch at a time, with everything that is theirs: their rows
// (retention-repo.ts deleteExecutions) and their blobs — their metadata directories (inputs, outputs, errors, futures,
// decks, logs, dynamic workflows) and, when they wrote raw outputs under the store's default prefix, their attempts'
// raw-output sandboxes. A raw-output location the execution was given (raw_output_data_config elsewhere) is the
// user's and stays. Which executions:
// - finished ones only (a running one is never touched), the last update before the cutoff;
// - roots: a child execution goes with its parent (never while the parent is kept), and a parent waits while any
//   descendant has not finished; a child whose parent row is gone counts as a root;
// - not while an unfinished recovery of it runs (it reads the original's node executions).
// Raw-output sandboxes and the task cache name an execution by its name alone: while another execution with the same
// name (in another project or domain) is kept, the sandboxes and cached outputs of that name stay.
// Blobs go first, inside the transaction that holds the rows' locks: should deleting them fail, the rows stay and the
// next pass tries again, and a committed delete never leaves blobs behind. Replicas share the work: each locks its
// batch with SKIP LOCKED, so two never delete the same execution; a batch waits while the copy trimmer works.
import type { Knex } from "knex";
import {
  attemptsOf,
  deleteExecutions,
  executionTrees,
  lockDeletableRoots,
  namesKeptElsewhere,
  shareRetentionLock,
  TERMINAL_PHASES,
  type TreeMember,
  walkExecutions,
} from "../repositories/retention-repo.js";
import type { BlobStore } from "../storage/blob-store.js";
import { defaultRawPrefix, executionMetadataDirs, rawSandbox } from "../storage/layout.js";
import { decodeExecSpec } from "../transformers/execution.js";
import { COPIES_LOCK, keyOf } from "./copy-trimmer.js";

export interface DeleteResult {
  readonly executions: number;
  /** Blob-store directories deleted (whether or not they held anything). */
  readonly blobDirs: number;
  /** Where the next batch's walk starts. */
  readonly next: string;
  /** Whether older executions may follow. */
  readonly more: boolean;
}

const TERMINAL = new Set(TERMINAL_PHASES);
/** Blob-store deletions in flight at once. */
const DELETE_CONCURRENCY = 16;

/** One batch: the next `batch` executions after id `after`, of which those that qualify are deleted. */
export async function deleteOldExecutions(
  db: Knex,
  store: BlobStore,
  opts: { readonly cutoff: Date; readonly after: string; readonly batch: number },
): Promise<DeleteResult> {
  const cutoff = opts.cutoff.getTime();
  const window = await walkExecutions(db, opts.after, opts.batch);
  // Ids follow creation: past the first execution created after the cutoff, none is old enough.
  const young = window.findIndex((e) => e.execution_created_at.getTime() >= cutoff);
  const old = young < 0 ? window : window.slice(0, young);
  const next = old.at(-1)?.id ?? opts.after;
  const more = young < 0 && window.length === opts.batch;
  const ids = old.filter((e) => TERMINAL.has(e.phase) && e.updated_at.getTime() < cutoff).map((e) => e.id);
  if (ids.length === 0) return { executions: 0, blobDirs: 0, next, more };
  const done = await db.transaction((trx) => deleteBatch(trx, store, ids, opts.cutoff));
  return { ...done, next, more };
}

async function deleteBatch(trx: Knex, store: BlobStore, candidates: string[], cutoff: Date) {
  await shareRetentionLock(trx, COPIES_LOCK);
  const roots = await lockDeletableRoots(trx, candidates, cutoff);
  if (roots.length === 0) return { executions: 0, blobDirs: 0 };
  const tree = await executionTrees(trx, roots);
  const blocked = new Set(tree.filter((m) => !m.locked || !TERMINAL.has(m.phase)).map((m) => m.root));
  const members = tree.filter((m) => !blocked.has(m.root));
  if (members.length === 0) return { executions: 0, blobDirs: 0 };
  const ids = members.map((m) => m.id);
  const shared = await namesKeptElsewhere(trx, [...new Set(members.map((m) => m.execution_name))], ids);
  const dirs = members.flatMap((m) => executionMetadataDirs(store.root, keyOf(m)));
  const raw = await rawSandboxes(trx, store.root, members, shared);
  await forEachLimited([...dirs, ...raw], DELETE_CONCURRENCY, (dir) => store.deleteUnder(dir));
  const executions = await deleteExecutions(trx, {
    ids,
    keys: {
      projects: members.map((m) => m.execution_project),
      domains: members.map((m) => m.execution_domain),
      names: members.map((m) => m.execution_name),
    },
    dirs,
    cacheSources: [...new Set(members.map((m) => m.execution_name))].filter((n) => !shared.has(n)),
  });
  return { executions, blobDirs: dirs.length + raw.length };
}

/** The raw-output sandboxes of the members' attempts that are Petrel's to delete. */
async function rawSandboxes(
  trx: Knex,
  root: string,
  members: readonly TreeMember[],
  shared: ReadonlySet<string>,
): Promise<string[]> {
  const prefix = defaultRawPrefix(root);
  const owned = new Map(
    members
      .filter((m) => !shared.has(m.execution_name))
      .filter((m) => {
        const given = decodeExecSpec(m).rawOutputDataConfig?.outputLocationPrefix ?? "";
        return given === "" || given.replace(/\/+$/, "") === prefix;
      })
      .map((m) => [m.id, m]),
  );
  if (owned.size === 0) return [];
  const attempts = await attemptsOf(trx, [...owned.keys()]);
  return attempts.flatMap((a) => {
    const m = owned.get(a.execution_id);
    return m === undefined ? [] : [rawSandbox(prefix, keyOf(m), a.node_id, a.retry_attempt)];
  });
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
