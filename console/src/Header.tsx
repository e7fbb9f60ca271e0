// The top bar: where you are (project, domain), the sections of a project and domain, and signing out.
import { useEffect, useState } from "react";
import type { Domain } from "../../gen/flyteidl/admin/project_pb.js";
import { signOut, useAuth } from "./api";
import { loadDomains } from "./domains";
import { type EntityKind, Link, navigate, paths, type Route } from "./router";

const SECTIONS: { kind: EntityKind | "executions"; label: string }[] = [
  { kind: "executions", label: "Executions" },
  { kind: "launch_plans", label: "Launch plans" },
  { kind: "workflows", label: "Workflows" },
  { kind: "tasks", label: "Tasks" },
];

function sectionPath(kind: EntityKind | "executions", project: string, domain: string): string {
  return kind === "executions" ? paths.executions(project, domain) : paths.entities(kind, project, domain);
}

function currentSection(route: Route): EntityKind | "executions" | undefined {
  if (route.page === "executions" || route.page === "execution") return "executions";
  if (route.page === "entities" || route.page === "entity") return route.kind;
  return undefined;
}

function DomainSwitch({ project, domain, route }: { project: string; domain: string; route: Route }) {
  const [domains, setDomains] = useState<Domain[]>([]);
  useEffect(() => {
    loadDomains().then(setDomains, () => setDomains([]));
  }, []);
  if (domains.length < 2) return <span className="crumb">{domain}</span>;
  const section = currentSection(route) ?? "executions";
  return (
    <label className="domain-switch">
      <span className="visually-hidden">Domain</span>
      <select value={domain} onChange={(e) => navigate(sectionPath(section, project, e.target.value))}>
        {domains.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name || d.id}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Header({ route }: { route: Route }) {
  const auth = useAuth();
  const scoped = "domain" in route && route.page !== "project" ? route : undefined;
  const active = currentSection(route);
  return (
    <header className="app-header">
      <div className="bar">
        <Link to={paths.projects()} className="brand">
          Petrel
        </Link>
        {"project" in route && (
          <nav aria-label="Breadcrumb" className="crumbs">
            <Link to={paths.projects()}>Projects</Link>
            <span aria-hidden="true">›</span>
            <Link to={paths.project(route.project)}>{route.project}</Link>
            {scoped !== undefined && (
              <>
                <span aria-hidden="true">›</span>
                <DomainSwitch project={scoped.project} domain={scoped.domain} route={route} />
              </>
            )}
          </nav>
        )}
        <span className="spacer" />
        {auth.signedIn && (
          <button type="button" className="small" onClick={signOut}>
            Sign out
          </button>
        )}
      </div>
      {scoped !== undefined && (
        <nav aria-label="Sections" className="sections">
          {SECTIONS.map((s) => (
            <Link
              key={s.kind}
              to={sectionPath(s.kind, scoped.project, scoped.domain)}
              aria-current={active === s.kind ? "page" : undefined}
            >
              {s.label}
            </Link>
          ))}
        </nav>
      )}
    </header>
  );
}
