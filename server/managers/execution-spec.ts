// The spec an execution runs with: request → launch plan → matchable attributes → defaults (pure).
import { clone, create } from "@bufbuild/protobuf";
import {
  ExecutionMetadata_ExecutionMode,
  ExecutionMetadataSchema,
  type ExecutionSpec,
  ExecutionSpecSchema,
} from "../../gen/flyteidl/admin/execution_pb.js";
import type { LaunchPlanSpec } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import type { MatchingAttributes } from "../../gen/flyteidl/admin/matchable_resource_pb.js";

const DEFAULT_MAX_PARALLELISM = 25;

export function mergeExecutionSpec(
  reqSpec: ExecutionSpec,
  lp: LaunchPlanSpec,
  attrs: MatchingAttributes | undefined,
  project: string,
  domain: string,
  principal = "",
): ExecutionSpec {
  const spec = clone(ExecutionSpecSchema, reqSpec);
  spec.inputs = undefined;
  const cfg = attrs?.target.case === "workflowExecutionConfig" ? attrs.target.value : undefined;
  const labels = {
    ...(cfg?.labels?.values ?? {}),
    ...(lp.labels?.values ?? {}),
    ...(reqSpec.labels?.values ?? {}),
  };
  spec.labels = { $typeName: "flyteidl.admin.Labels", values: labels };
  const annotations = {
    ...(cfg?.annotations?.values ?? {}),
    ...(lp.annotations?.values ?? {}),
    ...(reqSpec.annotations?.values ?? {}),
  };
  spec.annotations = { $typeName: "flyteidl.admin.Annotations", values: annotations };
  const envs = reqSpec.envs?.values.length ? reqSpec.envs : lp.envs?.values.length ? lp.envs : cfg?.envs;
  if (envs !== undefined) spec.envs = envs;
  spec.maxParallelism =
    reqSpec.maxParallelism || lp.maxParallelism || cfg?.maxParallelism || DEFAULT_MAX_PARALLELISM;
  const security = reqSpec.securityContext ?? lp.securityContext ?? cfg?.securityContext;
  if (security !== undefined) spec.securityContext = security;
  // An empty output_location_prefix does not count as set (FlyteAdmin's merge).
  const raw = [reqSpec.rawOutputDataConfig, lp.rawOutputDataConfig, cfg?.rawOutputDataConfig].find(
    (c) => (c?.outputLocationPrefix ?? "") !== "",
  );
  if (raw !== undefined) spec.rawOutputDataConfig = raw;
  const interruptible = reqSpec.interruptible ?? lp.interruptible ?? cfg?.interruptible;
  if (interruptible !== undefined) spec.interruptible = interruptible;
  spec.overwriteCache = reqSpec.overwriteCache || lp.overwriteCache || cfg?.overwriteCache === true;
  const metadata =
    spec.metadata ?? create(ExecutionMetadataSchema, { mode: ExecutionMetadata_ExecutionMode.MANUAL });
  metadata.principal = principal;
  metadata.artifactIds = [];
  metadata.systemMetadata = {
    $typeName: "flyteidl.admin.SystemMetadata",
    executionCluster: "",
    namespace: `${project}-${domain}`,
  };
  spec.metadata = metadata;
  return spec;
}
