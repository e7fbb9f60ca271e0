// What a node event carries besides its phase, and where a node execution sits (engine-context.ts records them).
import type { CatalogCacheStatus } from "../../gen/flyteidl/core/catalog_pb.js";
import type { ExecutionError } from "../../gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../../gen/flyteidl/core/identifier_pb.js";
import type { LiteralMap } from "../../gen/flyteidl/core/literals_pb.js";
import type { DynamicWorkflowNodeMetadata } from "../../gen/flyteidl/event/event_pb.js";

/** Where a node execution sits: under a parent node, and which template node it runs (when its id differs). */
export interface Placement {
  readonly parentNodeId?: string;
  readonly specNodeId?: string;
  readonly inDynamicChain?: boolean;
  readonly retryGroup?: string;
  readonly parentTask?: ParentTask;
}

/** The task attempt that produced a dynamic node's workflow. */
export interface ParentTask {
  readonly taskId: Identifier;
  readonly nodeId: string;
  readonly attempt: number;
}

/** What a node event carries besides its phase (see nodeEvent). */
export interface NodeEventExtra {
  readonly inputs?: LiteralMap;
  readonly outputs?: LiteralMap;
  /** Outputs already stored at this URI (a task attempt's outputs.pb), instead of `outputs`. */
  readonly outputUri?: string;
  readonly error?: ExecutionError;
  readonly parentNodeId?: string;
  readonly specNodeId?: string;
  readonly cacheStatus?: CatalogCacheStatus;
  readonly isParent?: boolean;
  readonly isDynamic?: boolean;
  readonly isArray?: boolean;
  /** The node runs under a dynamic node (at any depth). */
  readonly inDynamicChain?: boolean;
  readonly retryGroup?: string;
  readonly deckUri?: string;
  readonly checkpointUri?: string;
  readonly dynamicWorkflow?: DynamicWorkflowNodeMetadata;
  /** The task attempt whose dynamic workflow this node belongs to (ListNodeExecutionsForTask). */
  readonly parentTask?: ParentTask;
  readonly childExecution?: { project: string; domain: string; name: string };
}
