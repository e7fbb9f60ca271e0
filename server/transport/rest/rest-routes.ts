// FlyteAdmin's REST routes (the google.api.http bindings of flyteidl 1.16's AdminService, SignalService and
// DataProxyService), as our own table: verb, path template, rpc, and whether the whole body is the request.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { AdminService } from "../../../gen/flyteidl/service/admin_pb.js";
import { DataProxyService } from "../../../gen/flyteidl/service/dataproxy_pb.js";
import { SignalService } from "../../../gen/flyteidl/service/signal_pb.js";

export type HttpVerb = "GET" | "POST" | "PUT" | "DELETE";

export interface RestBinding {
  readonly verb: HttpVerb;
  readonly path: string;
  readonly method: DescMethod;
  /** `body: "*"`: the request body is the whole message (path fields set over it); else fields come from the query. */
  readonly body: boolean;
}

const TASK_EXEC_ID =
  "{id.node_execution_id.execution_id.project}/{id.node_execution_id.execution_id.domain}/" +
  "{id.node_execution_id.execution_id.name}/{id.node_execution_id.node_id}/{id.task_id.project}/" +
  "{id.task_id.domain}/{id.task_id.name}/{id.task_id.version}/{id.retry_attempt}";
const NODE_EXEC_ID = "{id.execution_id.project}/{id.execution_id.domain}/{id.execution_id.name}/{id.node_id}";
const CHILDREN_ID = TASK_EXEC_ID.replaceAll("{id.", "{task_execution_id.");

/** [verb, path, rpc name, body "*"] per service. */
const ADMIN: ReadonlyArray<readonly [HttpVerb, string, string, boolean?]> = [
  ["POST", "/api/v1/tasks", "CreateTask", true],
  ["GET", "/api/v1/tasks/{id.project}/{id.domain}/{id.name}/{id.version}", "GetTask"],
  ["GET", "/api/v1/task_ids/{project}/{domain}", "ListTaskIds"],
  ["GET", "/api/v1/tasks/{id.project}/{id.domain}/{id.name}", "ListTasks"],
  ["GET", "/api/v1/tasks/{id.project}/{id.domain}", "ListTasks"],
  ["POST", "/api/v1/workflows", "CreateWorkflow", true],
  ["GET", "/api/v1/workflows/{id.project}/{id.domain}/{id.name}/{id.version}", "GetWorkflow"],
  ["GET", "/api/v1/workflow_ids/{project}/{domain}", "ListWorkflowIds"],
  ["GET", "/api/v1/workflows/{id.project}/{id.domain}/{id.name}", "ListWorkflows"],
  ["GET", "/api/v1/workflows/{id.project}/{id.domain}", "ListWorkflows"],
  ["POST", "/api/v1/launch_plans", "CreateLaunchPlan", true],
  ["GET", "/api/v1/launch_plans/{id.project}/{id.domain}/{id.name}/{id.version}", "GetLaunchPlan"],
  ["GET", "/api/v1/active_launch_plans/{id.project}/{id.domain}/{id.name}", "GetActiveLaunchPlan"],
  ["GET", "/api/v1/active_launch_plans/{project}/{domain}", "ListActiveLaunchPlans"],
  ["GET", "/api/v1/launch_plan_ids/{project}/{domain}", "ListLaunchPlanIds"],
  ["GET", "/api/v1/launch_plans/{id.project}/{id.domain}/{id.name}", "ListLaunchPlans"],
  ["GET", "/api/v1/launch_plans/{id.project}/{id.domain}", "ListLaunchPlans"],
  ["PUT", "/api/v1/launch_plans/{id.project}/{id.domain}/{id.name}/{id.version}", "UpdateLaunchPlan", true],
  ["POST", "/api/v1/executions", "CreateExecution", true],
  ["POST", "/api/v1/executions/relaunch", "RelaunchExecution", true],
  ["POST", "/api/v1/executions/recover", "RecoverExecution", true],
  ["GET", "/api/v1/executions/{id.project}/{id.domain}/{id.name}", "GetExecution"],
  ["PUT", "/api/v1/executions/{id.project}/{id.domain}/{id.name}", "UpdateExecution", true],
  ["GET", "/api/v1/data/executions/{id.project}/{id.domain}/{id.name}", "GetExecutionData"],
  ["GET", "/api/v1/executions/{id.project}/{id.domain}", "ListExecutions"],
  ["DELETE", "/api/v1/executions/{id.project}/{id.domain}/{id.name}", "TerminateExecution", true],
  ["GET", `/api/v1/node_executions/${NODE_EXEC_ID}`, "GetNodeExecution"],
  ["GET", `/api/v1/node_executions/${NODE_EXEC_ID}/dynamic_workflow`, "GetDynamicNodeWorkflow"],
  [
    "GET",
    "/api/v1/node_executions/{workflow_execution_id.project}/{workflow_execution_id.domain}/{workflow_execution_id.name}",
    "ListNodeExecutions",
  ],
  ["GET", `/api/v1/children/task_executions/${CHILDREN_ID}`, "ListNodeExecutionsForTask"],
  ["GET", `/api/v1/data/node_executions/${NODE_EXEC_ID}`, "GetNodeExecutionData"],
  ["POST", "/api/v1/projects", "RegisterProject", true],
  ["PUT", "/api/v1/projects/{id}", "UpdateProject", true],
  ["GET", "/api/v1/projects/{id}", "GetProject"],
  ["GET", "/api/v1/projects", "ListProjects"],
  ["GET", "/api/v1/domains", "GetDomains"],
  ["POST", "/api/v1/events/workflows", "CreateWorkflowEvent", true],
  ["POST", "/api/v1/events/nodes", "CreateNodeEvent", true],
  ["POST", "/api/v1/events/tasks", "CreateTaskEvent", true],
  ["GET", `/api/v1/task_executions/${TASK_EXEC_ID}`, "GetTaskExecution"],
  [
    "GET",
    "/api/v1/task_executions/{node_execution_id.execution_id.project}/{node_execution_id.execution_id.domain}/" +
      "{node_execution_id.execution_id.name}/{node_execution_id.node_id}",
    "ListTaskExecutions",
  ],
  ["GET", `/api/v1/data/task_executions/${TASK_EXEC_ID}`, "GetTaskExecutionData"],
  [
    "PUT",
    "/api/v1/project_domain_attributes/{attributes.project}/{attributes.domain}",
    "UpdateProjectDomainAttributes",
    true,
  ],
  ["GET", "/api/v1/project_domain_attributes/{project}/{domain}", "GetProjectDomainAttributes"],
  ["DELETE", "/api/v1/project_domain_attributes/{project}/{domain}", "DeleteProjectDomainAttributes", true],
  ["PUT", "/api/v1/project_attributes/{attributes.project}", "UpdateProjectAttributes", true],
  ["GET", "/api/v1/project_attributes/{project}", "GetProjectAttributes"],
  ["DELETE", "/api/v1/project_attributes/{project}", "DeleteProjectAttributes", true],
  [
    "PUT",
    "/api/v1/workflow_attributes/{attributes.project}/{attributes.domain}/{attributes.workflow}",
    "UpdateWorkflowAttributes",
    true,
  ],
  ["GET", "/api/v1/workflow_attributes/{project}/{domain}/{workflow}", "GetWorkflowAttributes"],
  ["DELETE", "/api/v1/workflow_attributes/{project}/{domain}/{workflow}", "DeleteWorkflowAttributes", true],
  ["GET", "/api/v1/matchable_attributes", "ListMatchableAttributes"],
  ["GET", "/api/v1/named_entities/{resource_type}/{project}/{domain}", "ListNamedEntities"],
  ["GET", "/api/v1/named_entities/{resource_type}/{id.project}/{id.domain}/{id.name}", "GetNamedEntity"],
  [
    "PUT",
    "/api/v1/named_entities/{resource_type}/{id.project}/{id.domain}/{id.name}",
    "UpdateNamedEntity",
    true,
  ],
  ["GET", "/api/v1/version", "GetVersion"],
  [
    "GET",
    "/api/v1/description_entities/{id.resource_type}/{id.project}/{id.domain}/{id.name}/{id.version}",
    "GetDescriptionEntity",
  ],
  [
    "GET",
    "/api/v1/description_entities/{resource_type}/{id.project}/{id.domain}/{id.name}",
    "ListDescriptionEntities",
  ],
  ["GET", "/api/v1/description_entities/{resource_type}/{id.project}/{id.domain}", "ListDescriptionEntities"],
  ["GET", "/api/v1/metrics/executions/{id.project}/{id.domain}/{id.name}", "GetExecutionMetrics"],
];

const SIGNAL: ReadonlyArray<readonly [HttpVerb, string, string, boolean?]> = [
  [
    "GET",
    "/api/v1/signals/{workflow_execution_id.project}/{workflow_execution_id.domain}/{workflow_execution_id.name}",
    "ListSignals",
  ],
  ["POST", "/api/v1/signals", "SetSignal", true],
];

const DATA_PROXY: ReadonlyArray<readonly [HttpVerb, string, string, boolean?]> = [
  ["POST", "/api/v1/dataproxy/artifact_urn", "CreateUploadLocation", true],
  ["GET", "/api/v1/dataproxy/artifact_urn", "CreateDownloadLocation"],
  ["POST", "/api/v1/dataproxy/artifact_link", "CreateDownloadLink", true],
  ["GET", "/api/v1/data", "GetData"],
];

function bind(service: DescService, rows: typeof ADMIN): RestBinding[] {
  return rows.map(([verb, path, name, body]) => {
    const method = service.methods.find((m) => m.name === name);
    if (method === undefined)
      throw new Error(`REST route ${verb} ${path}: no rpc ${service.typeName}.${name}`);
    return { verb, path, method, body: body === true };
  });
}

/** Every binding, in declaration order (the first template that matches a path wins, as in grpc-gateway). */
export function restBindings(): RestBinding[] {
  return [
    ...bind(AdminService, ADMIN),
    ...bind(SignalService, SIGNAL),
    ...bind(DataProxyService, DATA_PROXY),
  ];
}
