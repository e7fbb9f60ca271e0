// Base requests of AdminService's registration, project, attribute and named-entity rpcs, and the whole service's
// targets with the execution rpcs of fuzz-execution-targets.ts (see fuzz-targets.ts).
import { Sort_Direction as Dir } from "../../gen/flyteidl/admin/common_pb.js";
import { LaunchPlanState } from "../../gen/flyteidl/admin/launch_plan_pb.js";
import { MatchableResource as MR } from "../../gen/flyteidl/admin/matchable_resource_pb.js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { ResourceType as RT } from "../../gen/flyteidl/core/identifier_pb.js";
import { Resources_ResourceName as RN } from "../../gen/flyteidl/core/tasks_pb.js";
import type { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import {
  intType,
  launchPlanId,
  literalInt,
  literalString,
  taskId,
  taskTemplate,
  workflowId,
} from "../fixtures/flyte-builders.js";
import { executionTargets } from "./fuzz-execution-targets.js";
import { ATTR_PROJECT, chainWorkflow, P, UPDATED_PROJECT } from "./fuzz-seed.js";
import { type Clients, hi, sort, type Targets } from "./fuzz-targets.js";

/** Where matchable attributes are fuzzed: their own project, so they shape no other execution. */
const scope = { project: ATTR_PROJECT, domain: P.domain };

const richTask = () =>
  taskTemplate({
    inputs: { a: intType(), b: intType() },
    outputs: { o: intType() },
    command: ["sh", "-c", "echo $(({{.inputs.a}} + {{.inputs.b}})) > {{.outputPrefix}}/o"],
    args: ["--flag"],
    retries: 2,
    edit: (t) => {
      t.custom = { plugin: { args: ["a", "b"], n: 1 } };
      t.config = { key: "value" };
      if (t.metadata !== undefined) {
        t.metadata.timeout = { $typeName: "google.protobuf.Duration", seconds: 600n, nanos: 0 };
        t.metadata.discoverable = true;
        t.metadata.discoveryVersion = "1";
        t.metadata.tags = { team: "ml" };
        t.metadata.cacheIgnoreInputVars = ["b"];
      }
      if (t.target.case === "container") {
        const c = t.target.value;
        c.env = [{ $typeName: "flyteidl.core.KeyValuePair", key: "K", value: "V" }];
        c.resources = {
          $typeName: "flyteidl.core.Resources",
          requests: [{ $typeName: "flyteidl.core.Resources.ResourceEntry", name: RN.CPU, value: "500m" }],
          limits: [{ $typeName: "flyteidl.core.Resources.ResourceEntry", name: RN.MEMORY, value: "1Gi" }],
        };
      }
    },
  });

const attributesOf = (project: string) => ({
  project,
  domain: P.domain,
  matchingAttributes: {
    target: {
      case: "workflowExecutionConfig" as const,
      value: {
        maxParallelism: 5,
        securityContext: { runAs: { k8sServiceAccount: "sa" } },
        rawOutputDataConfig: { outputLocationPrefix: "s3://bucket/prefix" },
        labels: { values: { team: "ml" } },
        annotations: { values: { note: "x" } },
        interruptible: true,
        envs: { values: [{ key: "K", value: "V" }] },
      },
    },
  },
});

/** An execution in the attributes project, launched after stored attributes changed: they must still apply. */
const launchUnderAttributes = (c: Clients, i: number) =>
  c.admin.createExecution({
    project: ATTR_PROJECT,
    domain: P.domain,
    name: `fz-fa-${i}`,
    spec: { launchPlan: launchPlanId("echo-lp", "v1", ATTR_PROJECT) },
    inputs: hi(),
  });

export function adminTargets(c: Clients): Targets<typeof AdminService> {
  const objectGet = (id: ReturnType<typeof taskId>) => ({ base: () => ({ id }) });
  return {
    createTask: {
      base: (i) => ({
        id: taskId("fz-task", `v${i}`),
        spec: {
          template: richTask(),
          description: {
            shortDescription: "d",
            longDescription: { content: { case: "value", value: "# x" }, iconLink: "https://x/i.png" },
          },
        },
      }),
      followUp: (req) => c.admin.getTask({ id: req.id ?? {} }),
    },
    getTask: objectGet(taskId("echo")),
    listTaskIds: {
      base: () => ({
        ...P,
        limit: 10,
        token: "1",
        sortBy: sort("name", Dir.ASCENDING),
        filters: "ne(name,zzz)",
      }),
    },
    listTasks: {
      base: () => ({
        id: { ...P, name: "echo" },
        limit: 10,
        token: "0",
        filters: "gte(created_at,2020-01-01T00:00:00Z)+eq(version,v1)",
        sortBy: sort("created_at"),
      }),
    },
    createWorkflow: {
      base: (i) => ({
        id: workflowId("fz-wf", `v${i}`),
        spec: { template: chainWorkflow(), description: { shortDescription: "wf" } },
      }),
      // What was accepted also runs: registered under a launch plan and launched (settled at the end).
      followUp: async (req, _res, i) => {
        const id = req.id ?? {};
        await c.admin.getWorkflow({ id });
        const lp = { ...id, resourceType: RT.LAUNCH_PLAN };
        await c.admin.createLaunchPlan({ id: lp, spec: { workflowId: id } });
        return c.admin.createExecution({
          ...P,
          name: `fz-wr-${i}`,
          spec: { launchPlan: lp },
          inputs: { literals: { s: literalString("hi"), a: literalInt(2), b: literalInt(3) } },
        });
      },
    },
    getWorkflow: objectGet(workflowId("wf")),
    listWorkflowIds: { base: () => ({ ...P, limit: 10, sortBy: sort("name"), filters: "contains(name,w)" }) },
    listWorkflows: {
      base: () => ({
        id: { ...P, name: "wf" },
        limit: 5,
        filters: "eq(version,v1)",
        sortBy: sort("version"),
      }),
    },
    createLaunchPlan: {
      base: (i) => ({
        id: launchPlanId("fz-lp", `v${i}`),
        spec: {
          workflowId: workflowId("wf"),
          entityMetadata: {
            schedule: {
              ScheduleExpression: { case: "cronSchedule", value: { schedule: "0 0 1 1 *", offset: "PT1M" } },
            },
            notifications: [
              { phases: [W.FAILED], type: { case: "email", value: { recipientsEmail: ["a@b.c"] } } },
            ],
          },
          defaultInputs: {
            parameters: {
              a: {
                var: { type: intType(), description: "a" },
                behavior: { case: "default", value: literalInt(1) },
              },
              b: { var: { type: intType() }, behavior: { case: "default", value: literalInt(2) } },
            },
          },
          fixedInputs: { literals: { s: literalString("fixed") } },
          labels: { values: { team: "ml" } },
          annotations: { values: { note: "x" } },
          rawOutputDataConfig: { outputLocationPrefix: "s3://bucket/prefix" },
          maxParallelism: 4,
          envs: { values: [{ key: "K", value: "V" }] },
        },
      }),
      followUp: (req) => c.admin.getLaunchPlan({ id: req.id ?? {} }),
    },
    getLaunchPlan: objectGet(launchPlanId("echo-lp")),
    getActiveLaunchPlan: { base: () => ({ id: { ...P, name: "echo-lp" } }) },
    listActiveLaunchPlans: { base: () => ({ ...P, limit: 10, token: "0", sortBy: sort("name") }) },
    listLaunchPlanIds: { base: () => ({ ...P, limit: 10, sortBy: sort("name"), filters: "eq(state,1)" }) },
    listLaunchPlans: {
      base: () => ({
        id: { ...P, name: "echo-lp" },
        limit: 10,
        filters: "eq(workflow.name,echo-wf)",
        sortBy: sort("id"),
      }),
    },
    updateLaunchPlan: {
      base: () => ({ id: launchPlanId("lp-upd"), state: LaunchPlanState.ACTIVE }),
      followUp: () => c.admin.getActiveLaunchPlan({ id: { ...P, name: "lp-upd" } }),
    },
    registerProject: {
      base: (i) => ({
        project: {
          id: `fz-p${i}`,
          name: "Fuzz",
          description: "fuzzed",
          labels: { values: { team: "ml" } },
          state: 0,
        },
      }),
      followUp: (req) => c.admin.getProject({ id: req.project?.id ?? "" }),
    },
    updateProject: {
      base: () => ({
        id: UPDATED_PROJECT,
        name: "n",
        description: "d",
        labels: { values: { a: "b" } },
        state: 0,
      }),
      followUp: () => c.admin.getProject({ id: UPDATED_PROJECT }),
    },
    getProject: { base: () => ({ id: P.project }) },
    listProjects: {
      base: () => ({ limit: 10, token: "0", filters: "eq(state,0)", sortBy: sort("identifier") }),
    },
    getDomains: { base: () => ({}) },
    updateProjectDomainAttributes: {
      base: () => ({ attributes: attributesOf(ATTR_PROJECT) }),
      followUp: (_req, _res, i) => launchUnderAttributes(c, i),
    },
    getProjectDomainAttributes: {
      base: () => ({ project: ATTR_PROJECT, domain: P.domain, resourceType: MR.WORKFLOW_EXECUTION_CONFIG }),
    },
    deleteProjectDomainAttributes: {
      prepare: async () => {
        const target = { case: "executionQueueAttributes" as const, value: { tags: ["q"] } };
        await c.admin.updateProjectDomainAttributes({
          attributes: { ...scope, matchingAttributes: { target } },
        });
      },
      base: () => ({ ...scope, resourceType: MR.EXECUTION_QUEUE }),
    },
    updateProjectAttributes: {
      base: () => ({
        attributes: {
          project: ATTR_PROJECT,
          matchingAttributes: {
            target: {
              case: "taskResourceAttributes",
              value: { defaults: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
            },
          },
        },
      }),
      followUp: (_req, _res, i) => launchUnderAttributes(c, i),
    },
    getProjectAttributes: { base: () => ({ project: ATTR_PROJECT, resourceType: MR.TASK_RESOURCE }) },
    deleteProjectAttributes: {
      prepare: async () => {
        const target = { case: "clusterResourceAttributes" as const, value: { attributes: { quota: "1" } } };
        await c.admin.updateProjectAttributes({
          attributes: { project: ATTR_PROJECT, matchingAttributes: { target } },
        });
      },
      base: () => ({ project: ATTR_PROJECT, resourceType: MR.CLUSTER_RESOURCE }),
    },
    updateWorkflowAttributes: {
      base: () => ({
        attributes: {
          ...attributesOf(ATTR_PROJECT),
          workflow: "echo-wf",
          matchingAttributes: {
            target: {
              case: "pluginOverrides",
              value: { overrides: [{ taskType: "python-task", pluginId: ["a"], missingPluginBehavior: 0 }] },
            },
          },
        },
      }),
      followUp: (_req, _res, i) => launchUnderAttributes(c, i),
    },
    getWorkflowAttributes: {
      base: () => ({
        project: ATTR_PROJECT,
        domain: P.domain,
        workflow: "echo-wf",
        resourceType: MR.PLUGIN_OVERRIDE,
      }),
    },
    deleteWorkflowAttributes: {
      prepare: async () => {
        const target = {
          case: "qualityOfService" as const,
          value: { designation: { case: "tier" as const, value: 1 } },
        };
        await c.admin.updateWorkflowAttributes({
          attributes: { ...scope, workflow: "echo-wf", matchingAttributes: { target } },
        });
      },
      base: () => ({ ...scope, workflow: "echo-wf", resourceType: MR.QUALITY_OF_SERVICE_SPECIFICATION }),
    },
    listMatchableAttributes: { base: () => ({ resourceType: MR.WORKFLOW_EXECUTION_CONFIG }) },
    listNamedEntities: {
      base: () => ({
        resourceType: RT.WORKFLOW,
        ...P,
        limit: 10,
        sortBy: sort("name"),
        filters: "eq(state,0)",
      }),
    },
    getNamedEntity: { base: () => ({ resourceType: RT.WORKFLOW, id: { ...P, name: "wf" } }) },
    updateNamedEntity: {
      base: () => ({
        resourceType: RT.WORKFLOW,
        id: { ...P, name: "wf" },
        metadata: { description: "the chain", state: 0 },
      }),
      followUp: (req) => c.admin.getNamedEntity({ resourceType: req.resourceType ?? 0, id: req.id ?? {} }),
    },
    getVersion: { base: () => ({}) },
    getDescriptionEntity: objectGet(taskId("echo")),
    listDescriptionEntities: {
      base: () => ({
        resourceType: RT.TASK,
        id: { ...P, name: "echo" },
        limit: 10,
        sortBy: sort("created_at"),
      }),
    },
    ...executionTargets(c),
  };
}
