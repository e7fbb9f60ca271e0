// The workflow DSL: types, tasks, workflows, launch plans and control flow.
export { approve, Cases, conditional, type MapOptions, map, sleep, waitForInput } from "./control.js";
export {
  type Bindable,
  type CallOptions,
  Condition,
  DslError,
  type NodeOutputs,
  type Ordering,
  Ref,
} from "./graph.js";
export { type Entity, isEntity, type Registration, serialize } from "./serialize.js";
export {
  type CacheOptions,
  type ContainerTaskSpec,
  containerTask,
  type DurationLike,
  type NodeOverrides,
  type TaskContext,
  type TaskEntity,
  type TaskFn,
  type TaskSpec,
  task,
} from "./tasks.js";
export { literalOf, type Type, type TypeMap, t, type ValueOf, type ValuesOf, valueFrom } from "./types.js";
export {
  type LaunchPlanEntity,
  type LaunchPlanSpec,
  launchPlan,
  type Notification,
  type Schedule,
  type WorkflowEntity,
  type WorkflowSpec,
  workflow,
} from "./workflows.js";
