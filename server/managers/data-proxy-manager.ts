// DataProxy GetData: resolves flyte://v1/<project>/<domain>/<execution>/<node>[/<attempt>]/<i|o>[/<var>] URLs.
import { create } from "@bufbuild/protobuf";
import { TaskExecutionListRequestSchema } from "../../gen/flyteidl/admin/task_execution_pb.js";
import { NodeExecutionIdentifierSchema } from "../../gen/flyteidl/core/identifier_pb.js";
import { type LiteralMap, LiteralMapSchema } from "../../gen/flyteidl/core/literals_pb.js";
import { type GetDataResponse, GetDataResponseSchema } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { invalidArgument, notFound } from "../errors.js";
import type { NodeExecutionManager } from "./node-execution-manager.js";

interface FlyteUrl {
  readonly project: string;
  readonly domain: string;
  readonly name: string;
  readonly nodeId: string;
  readonly attempt: number | undefined;
  readonly io: "i" | "o" | "d";
  readonly variable: string | undefined;
}

export function parseFlyteUrl(url: string): FlyteUrl {
  if (!url.startsWith("flyte://")) throw invalidArgument(`unsupported URL [${url}]: expected flyte://v1/...`);
  const parts = url.slice("flyte://".length).split("/");
  const [v, project, domain, name, nodeId, ...rest] = parts;
  if (
    v !== "v1" ||
    project === undefined ||
    domain === undefined ||
    name === undefined ||
    nodeId === undefined
  ) {
    throw invalidArgument(`failed to parse flyte url [${url}]`);
  }
  let attempt: number | undefined;
  if (rest[0] !== undefined && /^\d+$/.test(rest[0])) attempt = Number(rest.shift());
  const io = rest.shift();
  if (io !== "i" && io !== "o" && io !== "d")
    throw invalidArgument(`failed to parse flyte url [${url}]: expected i, o or d`);
  return { project, domain, name, nodeId, attempt, io, variable: rest[0] };
}

export class DataProxyManager {
  constructor(private readonly nodes: NodeExecutionManager) {}

  async getData(flyteUrl: string): Promise<GetDataResponse> {
    const u = parseFlyteUrl(flyteUrl);
    if (u.io === "d") throw notFound(`no deckUrl found for request [${flyteUrl}]`);
    const id = create(NodeExecutionIdentifierSchema, {
      nodeId: u.nodeId,
      executionId: { project: u.project, domain: u.domain, name: u.name },
    });
    let map: LiteralMap | undefined;
    if (u.attempt === undefined) {
      const d = await this.nodes.getNodeExecutionData({ id });
      map = u.io === "i" ? d.fullInputs : d.fullOutputs;
    } else {
      const list = await this.nodes.listTaskExecutions(
        create(TaskExecutionListRequestSchema, { nodeExecutionId: id, limit: 1000 }),
      );
      const attempt = list.taskExecutions.find((t) => t.id?.retryAttempt === u.attempt);
      if (attempt?.id === undefined) throw notFound("object not found");
      const d = await this.nodes.getTaskExecutionData({ id: attempt.id });
      map = u.io === "i" ? d.fullInputs : d.fullOutputs;
    }
    const literals = map ?? create(LiteralMapSchema);
    if (u.variable === undefined)
      return create(GetDataResponseSchema, { data: { case: "literalMap", value: literals } });
    const lit = literals.literals[u.variable];
    if (lit === undefined) throw notFound(`variable [${u.variable}] not found in ${flyteUrl}`);
    return create(GetDataResponseSchema, { data: { case: "literal", value: lit } });
  }
}
