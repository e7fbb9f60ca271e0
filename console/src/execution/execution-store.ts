// The live state of one execution, fed by its watch stream: the execution, its node executions by unique id (nested
// ones too), each node's task attempts, and which nodes were listed under which parent. Graph nodes listen to their
// own id only, so an event re-renders the one node it changed; all listeners hear of changes once per animation frame.
import type { Execution } from "../../../gen/flyteidl/admin/execution_pb.js";
import type { NodeExecution } from "../../../gen/flyteidl/admin/node_execution_pb.js";
import type { TaskExecution } from "../../../gen/flyteidl/admin/task_execution_pb.js";
import type { WatchEvent } from "../../../gen/petrel/v1/watch_pb.js";

type Listener = () => void;

const NO_ATTEMPTS: readonly TaskExecution[] = [];

/** A nested node's unique id as the engine names it: `<parent>-<attempt>-<spec id>`. */
export const childNodeId = (parentId: string, specId: string, attempt = 0) =>
  `${parentId}-${attempt}-${specId}`;

export interface WatchStatus {
  /**
   * "live" while the stream is open, "retrying" between attempts, "done" once the execution finished, "stopped" when
   * the server refused the stream for good (not found, no permission).
   */
  readonly state: "connecting" | "live" | "retrying" | "done" | "stopped";
  /** Why the last stream ended early. */
  readonly error: string | undefined;
}

export class ExecutionStore {
  private exec: Execution | undefined;
  private watchStatus: WatchStatus = { state: "connecting", error: undefined };
  private readonly nodes = new Map<string, NodeExecution>();
  private readonly attempts = new Map<string, TaskExecution[]>();
  private readonly children = new Map<string, string[]>();
  private readonly nodeListeners = new Map<string, Set<Listener>>();
  private readonly listeners = new Set<Listener>();
  private readonly dirty = new Set<string>();
  private frame: number | undefined;
  private version = 0;

  get execution(): Execution | undefined {
    return this.exec;
  }

  /** How the watch stream feeding this store is doing. */
  get status(): WatchStatus {
    return this.watchStatus;
  }

  setStatus(s: WatchStatus): void {
    if (s.state === this.watchStatus.state && s.error === this.watchStatus.error) return;
    this.watchStatus = s;
    this.changed();
  }

  /** Bumped on every change (what `useSyncExternalStore` compares). */
  getVersion = (): number => this.version;

  node(id: string): NodeExecution | undefined {
    return this.nodes.get(id);
  }

  allNodes(): IterableIterator<NodeExecution> {
    return this.nodes.values();
  }

  /** A node's task attempts, by retry attempt. */
  attemptsOf(id: string): readonly TaskExecution[] {
    return this.attempts.get(id) ?? NO_ATTEMPTS;
  }

  /** The node executions under a parent (listed, then seen on the stream), in the order they appeared. */
  childrenOf(parentId: string): NodeExecution[] {
    const ids = this.children.get(parentId) ?? [];
    return ids.flatMap((id) => this.nodes.get(id) ?? []);
  }

  /** The latest execution of a nested spec node under a parent (its retries get new attempt numbers). */
  childFor(parentId: string, specId: string): NodeExecution | undefined {
    const all = this.childrenOf(parentId).filter((n) => n.metadata?.specNodeId === specId);
    return all[all.length - 1];
  }

  apply(event: WatchEvent): void {
    const k = event.kind;
    switch (k.case) {
      case "execution":
        this.exec = k.value;
        break;
      case "nodeExecution":
        this.putNode(k.value);
        break;
      case "taskExecution":
        this.putAttempt(k.value);
        break;
      case undefined:
        return;
    }
    this.changed();
  }

  /**
   * Starts filing nested nodes under a parent: those already here whose id extends the parent's, and from now on
   * every new one (the longest matching parent wins, for nesting in nesting).
   */
  trackChildren(parentId: string): void {
    if (this.children.has(parentId)) return;
    this.children.set(parentId, []);
    for (const [p, ids] of this.children) {
      if (parentId.startsWith(`${p}-`))
        this.children.set(
          p,
          ids.filter((id) => !id.startsWith(`${parentId}-`)),
        );
    }
    for (const n of this.nodes.values()) {
      const id = n.id?.nodeId ?? "";
      if (this.parentOf(n) === parentId) this.children.get(parentId)?.push(id);
    }
    this.changed();
  }

  /** Records what ListNodeExecutions answered for a parent. */
  setChildren(parentId: string, nodes: readonly NodeExecution[]): void {
    this.trackChildren(parentId);
    const ids = this.children.get(parentId) ?? [];
    for (const n of nodes) {
      this.putNode(n);
      const id = n.id?.nodeId;
      if (id !== undefined && !ids.includes(id)) ids.push(id);
    }
    this.changed();
  }

  /** Merges task attempts listed by ListTaskExecutions. */
  putAttempts(list: readonly TaskExecution[]): void {
    for (const t of list) this.putAttempt(t);
    this.changed();
  }

  /** Called (at most once a frame) when this node or its task attempts changed. */
  subscribeNode(id: string, listener: Listener): () => void {
    let set = this.nodeListeners.get(id);
    if (set === undefined) {
      set = new Set();
      this.nodeListeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.nodeListeners.delete(id);
    };
  }

  /** Called at most once per animation frame after any change. */
  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private putNode(n: NodeExecution): void {
    const id = n.id?.nodeId;
    if (id === undefined) return;
    const known = this.nodes.has(id);
    this.nodes.set(id, n);
    const parent = known ? undefined : this.parentOf(n);
    if (parent !== undefined) this.children.get(parent)?.push(id);
    this.dirty.add(id);
  }

  /** The tracked parent a nested node belongs to: the longest one its id extends (top-level nodes have none). */
  private parentOf(n: NodeExecution): string | undefined {
    const id = n.id?.nodeId ?? "";
    if (n.metadata === undefined || n.metadata.specNodeId === id) return undefined;
    let parent: string | undefined;
    for (const p of this.children.keys()) {
      if (id.startsWith(`${p}-`) && (parent === undefined || p.length > parent.length)) parent = p;
    }
    return parent;
  }

  private putAttempt(t: TaskExecution): void {
    const nodeId = t.id?.nodeExecutionId?.nodeId;
    if (nodeId === undefined || t.id === undefined) return;
    const list = [...(this.attempts.get(nodeId) ?? [])]; // a new array: readers compare by identity
    const attempt = t.id.retryAttempt;
    const at = list.findIndex((a) => a.id?.retryAttempt === attempt);
    if (at >= 0) list[at] = t;
    else list.push(t);
    list.sort((a, b) => (a.id?.retryAttempt ?? 0) - (b.id?.retryAttempt ?? 0));
    this.attempts.set(nodeId, list);
    this.dirty.add(nodeId);
  }

  /** Listeners hear of changes once per animation frame: a burst of events becomes one render. */
  private changed(): void {
    this.version++;
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      for (const id of ids) for (const l of this.nodeListeners.get(id) ?? []) l();
      for (const l of this.listeners) l();
    });
  }
}
