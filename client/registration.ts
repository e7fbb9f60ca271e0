// Registration through FriendlyRemote: DSL entities with everything they use under one version (launch plan inputs
// given as local files uploaded first), or raw create requests. Identical re-registration counts as success.
import { clone, type MessageInitShape } from "@bufbuild/protobuf";
import type { LaunchPlanCreateRequestSchema } from "../gen/flyteidl/admin/launch_plan_pb.js";
import type { TaskCreateRequestSchema } from "../gen/flyteidl/admin/task_pb.js";
import type { WorkflowCreateRequestSchema } from "../gen/flyteidl/admin/workflow_pb.js";
import { ResourceType } from "../gen/flyteidl/core/identifier_pb.js";
import { LiteralSchema } from "../gen/flyteidl/core/literals_pb.js";
import { launchPlanLiterals } from "./blob-literals.js";
import { localBlobKey, uploadLocalBlobs } from "./blob-uploads.js";
import { type Entity, type Registration, serialize } from "./dsl/serialize.js";
import { EntityAlreadyExistsError } from "./errors.js";
import type { SynchronousClient } from "./synchronous-client.js";

export type Registrable =
  | { readonly task: MessageInitShape<typeof TaskCreateRequestSchema> }
  | {
      readonly workflow: MessageInitShape<typeof WorkflowCreateRequestSchema>;
      readonly defaultLaunchPlan?: boolean;
    }
  | { readonly launchPlan: MessageInitShape<typeof LaunchPlanCreateRequestSchema> };

interface Scope {
  readonly client: SynchronousClient;
  readonly project: string;
  readonly domain: string;
}

export const ignoreExisting = (err: unknown) => {
  if (!(err instanceof EntityAlreadyExistsError)) throw err;
};

/** A raw task, workflow (with its default launch plan: same name and version, as flytekit does) or launch plan. */
export async function registerRequest(client: SynchronousClient, entity: Registrable): Promise<void> {
  if ("task" in entity) {
    await client.createTask(entity.task).catch(ignoreExisting);
  } else if ("workflow" in entity) {
    await client.createWorkflow(entity.workflow).catch(ignoreExisting);
    const id = entity.workflow.id;
    if (id !== undefined && entity.defaultLaunchPlan !== false) {
      const lpId = { ...id, resourceType: ResourceType.LAUNCH_PLAN };
      await client.createLaunchPlan({ id: lpId, spec: { workflowId: id } }).catch(ignoreExisting);
    }
  } else {
    await client.createLaunchPlan(entity.launchPlan).catch(ignoreExisting);
  }
}

/** DSL entities with everything they use, under one version (given, or derived from the content). */
export async function registerEntities(
  s: Scope,
  entities: readonly Entity[],
  opts: { version?: string },
): Promise<Registration> {
  const where = { project: s.project, domain: s.domain, ...opts };
  const probe = serialize(entities, where);
  // Copies: the launch plans' literals are the definitions' own.
  const lpInputs = Object.fromEntries(
    probe.launchPlans.flatMap((lp) =>
      Object.entries(launchPlanLiterals(lp)).map(([k, lit]) => [k, clone(LiteralSchema, lit)]),
    ),
  );
  const uploaded = await uploadLocalBlobs(s.client, s, lpInputs);
  const reg =
    uploaded.size === 0
      ? probe
      : serialize(entities, {
          ...where,
          blobUri: (uri, multipart) => uploaded.get(localBlobKey(uri, multipart)) ?? uri,
        });
  for (const x of reg.steps) {
    if ("task" in x) await s.client.createTask(x.task).catch(ignoreExisting);
    else if ("workflow" in x) await s.client.createWorkflow(x.workflow).catch(ignoreExisting);
    else await s.client.createLaunchPlan(x.launchPlan).catch(ignoreExisting);
  }
  return reg;
}
