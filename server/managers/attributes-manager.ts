// Matchable attributes at project, project+domain and workflow level; the most specific one wins.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import {
  type ListMatchableAttributesRequest,
  type ListMatchableAttributesResponse,
  ListMatchableAttributesResponseSchema,
  MatchableResource,
  type MatchingAttributes,
  MatchingAttributesSchema,
} from "../../gen/flyteidl/admin/matchable_resource_pb.js";
import { invalidArgument, missingField, notFound } from "../errors.js";
import { LruCache } from "../lru-cache.js";
import type { AttributesCheck } from "../repositories/execution-create-repo.js";
import * as repo from "../repositories/resource-attributes-repo.js";
import { validateIdText } from "../validation/identifier-validator.js";
import type { ProjectManager } from "./project-manager.js";

const TARGET_TYPES: Readonly<Record<string, MatchableResource>> = {
  taskResourceAttributes: MatchableResource.TASK_RESOURCE,
  clusterResourceAttributes: MatchableResource.CLUSTER_RESOURCE,
  executionQueueAttributes: MatchableResource.EXECUTION_QUEUE,
  executionClusterLabel: MatchableResource.EXECUTION_CLUSTER_LABEL,
  qualityOfService: MatchableResource.QUALITY_OF_SERVICE_SPECIFICATION,
  pluginOverrides: MatchableResource.PLUGIN_OVERRIDE,
  workflowExecutionConfig: MatchableResource.WORKFLOW_EXECUTION_CONFIG,
  clusterAssignment: MatchableResource.CLUSTER_ASSIGNMENT,
};

export interface AttributeTarget {
  readonly project: string;
  readonly domain?: string;
  readonly workflow?: string;
}

function scopeOf(t: AttributeTarget): repo.AttributesScope {
  return { project: t.project, domain: t.domain ?? "", workflow: t.workflow ?? "", launch_plan: "" };
}

function describe(t: AttributeTarget, type: MatchableResource): string {
  return `project:${t.project} domain:${t.domain ?? ""} workflow:${t.workflow ?? ""} resource_type:${MatchableResource[type]}`;
}

/** Effective attributes as one write sees them: decoded, and the check that write's statement must pass. */
export interface EffectiveAttributes {
  readonly attributes: MatchingAttributes | undefined;
  readonly check: AttributesCheck;
}

const EFFECTIVE_CACHE_SIZE = 1024;

export class AttributesManager {
  /**
   * Effective attributes bytes (null: none) by type and workflow. Never trusted on its own: writes that use an entry
   * confirm it in their own statement (AttributesCheck), so changes made through another replica are seen.
   */
  private effectiveCache = new LruCache<string, { bytes: Buffer | null }>(EFFECTIVE_CACHE_SIZE);
  private readonly loading = new Map<string, Promise<{ bytes: Buffer | null }>>();

  constructor(
    private readonly db: Knex,
    private readonly projects: ProjectManager,
  ) {}

  private async checkTarget(t: AttributeTarget, level: "project" | "domain" | "workflow"): Promise<void> {
    if (t.project === "") throw missingField("project");
    if (level !== "project" && (t.domain ?? "") === "") throw missingField("domain");
    if (level === "workflow" && (t.workflow ?? "") === "") throw missingField("name");
    if (level === "workflow") validateIdText("workflow", t.workflow ?? "");
    if (level === "project") await this.projects.assertExists(t.project);
    else await this.projects.assertWritable(t.project, t.domain ?? "");
  }

  async update(
    t: AttributeTarget,
    level: "project" | "domain" | "workflow",
    attrs: MatchingAttributes | undefined,
  ): Promise<void> {
    await this.checkTarget(t, level);
    if (attrs === undefined || attrs.target.case === undefined) throw missingField("matching_attributes");
    const type = TARGET_TYPES[attrs.target.case];
    if (type === undefined) throw invalidArgument("invalid value for matching_attributes");
    const bytes = Buffer.from(toBinary(MatchingAttributesSchema, attrs));
    await repo.upsertAttributes(this.db, { ...scopeOf(t), resource_type: type, attributes: bytes });
    this.forgetEffective();
  }

  async get(
    t: AttributeTarget,
    level: "project" | "domain" | "workflow",
    type: MatchableResource,
  ): Promise<MatchingAttributes> {
    await this.checkTarget(t, level);
    const row = await repo.getAttributes(this.db, scopeOf(t), type);
    if (row === undefined) throw notFound(`Resource [${describe(t, type)}] not found`);
    return fromBinary(MatchingAttributesSchema, row.attributes);
  }

  async delete(
    t: AttributeTarget,
    level: "project" | "domain" | "workflow",
    type: MatchableResource,
  ): Promise<void> {
    await this.checkTarget(t, level);
    const deleted = await repo.deleteAttributes(this.db, scopeOf(t), type);
    this.forgetEffective();
    if (!deleted) throw notFound(`Resource [${describe(t, type)}] not found`);
  }

  async list(req: ListMatchableAttributesRequest): Promise<ListMatchableAttributesResponse> {
    if (MatchableResource[req.resourceType] === undefined)
      throw invalidArgument("invalid value for resource_type");
    const rows = await repo.listAttributes(this.db, req.resourceType);
    return create(ListMatchableAttributesResponseSchema, {
      configurations: rows.map((r) => ({
        attributes: fromBinary(MatchingAttributesSchema, r.attributes),
        project: r.project,
        domain: r.domain,
        workflow: r.workflow,
        launchPlan: r.launch_plan,
      })),
    });
  }

  /** workflow > project+domain > project, read now; undefined when nothing is configured. */
  async effective(
    target: Required<AttributeTarget>,
    type: MatchableResource,
  ): Promise<MatchingAttributes | undefined> {
    return (await this.effectiveForWrite(target, type, true)).attributes;
  }

  /**
   * workflow > project+domain > project, for a write that confirms them in its statement (`check`). Served from a
   * cache unless `fresh`; concurrent loads of one key share a query.
   */
  async effectiveForWrite(
    target: Required<AttributeTarget>,
    type: MatchableResource,
    fresh = false,
  ): Promise<EffectiveAttributes> {
    const key = JSON.stringify([type, target.project, target.domain, target.workflow]);
    const cached = fresh ? undefined : this.effectiveCache.get(key);
    const { bytes } = cached ?? (await this.load(key, target, type, fresh));
    return {
      attributes: bytes === null ? undefined : fromBinary(MatchingAttributesSchema, bytes),
      check: { resourceType: type, workflow: target.workflow, expected: bytes },
    };
  }

  private forgetEffective(): void {
    this.effectiveCache = new LruCache(EFFECTIVE_CACHE_SIZE);
  }

  private load(key: string, target: Required<AttributeTarget>, type: MatchableResource, fresh: boolean) {
    const running = fresh ? undefined : this.loading.get(key);
    if (running !== undefined) return running;
    const loaded = repo
      .findEffective(this.db, target, type)
      .then((bytes) => {
        this.effectiveCache.set(key, { bytes });
        return { bytes };
      })
      .finally(() => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
      });
    this.loading.set(key, loaded);
    return loaded;
  }
}
