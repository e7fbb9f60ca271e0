// Projects and domains: registration, partial updates, listing, and the "registered and active" check every
// write into a project goes through.
import { create } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import {
  type Domain,
  InactiveProjectSchema,
  type Project,
  type ProjectGetRequest,
  type ProjectListRequest,
  type ProjectRegisterRequest,
  type Projects,
  ProjectsSchema,
} from "../../gen/flyteidl/admin/project_pb.js";
import type { DomainConfig } from "../config.js";
import { invalidArgument, missingField, notFound } from "../errors.js";
import * as repo from "../repositories/project-repo.js";
import { domainsToMessages, projectToRow, rowToProject } from "../transformers/project.js";
import { validateProject, validateProjectId } from "../validation/project-validator.js";

export class ProjectManager {
  private readonly domains: readonly Domain[];
  private readonly domainIds: ReadonlySet<string>;

  constructor(
    private readonly db: Knex,
    domains: readonly DomainConfig[],
  ) {
    this.domains = domainsToMessages(domains);
    this.domainIds = new Set(domains.map((d) => d.id));
  }

  getDomains(): readonly Domain[] {
    return this.domains;
  }

  async registerProject(req: ProjectRegisterRequest): Promise<void> {
    if (req.project === undefined) throw missingField("project");
    validateProject(req.project, { requireName: true });
    await repo.insertProject(this.db, projectToRow(req.project));
  }

  async updateProject(p: Project): Promise<void> {
    validateProjectId(p.id);
    const existing = await repo.getProject(this.db, p.id);
    if (existing === undefined) throw notFound(`project [${p.id}] not found`);
    validateProject(p, { requireName: false });
    const row = projectToRow(p);
    await repo.updateProject(this.db, p.id, {
      ...(row.name !== "" ? { name: row.name } : {}),
      ...(row.description !== "" ? { description: row.description } : {}),
      ...(row.labels !== null ? { labels: row.labels } : {}),
      state: row.state,
    });
  }

  async getProject(req: ProjectGetRequest): Promise<Project> {
    validateProjectId(req.id);
    const row = await repo.getProject(this.db, req.id);
    if (row === undefined) throw notFound(`project [${req.id}] not found`);
    return rowToProject(row, this.domains);
  }

  async listProjects(req: ProjectListRequest): Promise<Projects> {
    const page = await repo.listProjects(this.db, req);
    return create(ProjectsSchema, {
      projects: page.rows.map((r: repo.ProjectRow) => rowToProject(r, this.domains)),
      token: page.token,
    });
  }

  /** Project-level writes (project attributes) only need the project to exist. */
  async assertExists(project: string): Promise<void> {
    const state = await repo.projectIsActive(this.db, project);
    if (!state.exists)
      throw invalidArgument(
        `failed to validate that project [${project}] is registered, err: [project [${project}] not found]`,
      );
  }

  /** Flyte's check before any write into a project/domain: registered, active, and a known domain. */
  async assertWritable(project: string, domain: string): Promise<void> {
    const state = await repo.projectIsActive(this.db, project);
    if (!state.exists) {
      throw invalidArgument(
        `failed to validate that project [${project}] and domain [${domain}] are registered, err: [project [${project}] not found]`,
      );
    }
    if (!state.active) {
      throw invalidArgument(`project [${project}] is not active`, [
        { desc: InactiveProjectSchema, value: create(InactiveProjectSchema, { id: project }) },
      ]);
    }
    this.assertDomain(domain);
  }

  assertDomain(domain: string): void {
    if (!this.domainIds.has(domain)) throw invalidArgument(`domain [${domain}] is unrecognized by system`);
  }
}
