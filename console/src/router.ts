// A small history-API router over flyteconsole's URL scheme under /console, so the links flytekit and the CLI print
// (`/console/projects/{p}/domains/{d}/executions/{name}`) open the right page.
import {
  type AnchorHTMLAttributes,
  createElement,
  type MouseEvent,
  useMemo,
  useSyncExternalStore,
} from "react";

export const BASE = "/console";

/** The entity lists under a project and domain, by their URL segment. */
export type EntityKind = "launch_plans" | "workflows" | "tasks";
/** Project-level sections flyteconsole links to as `/projects/{p}/{section}?domain=`. */
export type Section = "executions" | EntityKind;

export type Route =
  | { page: "projects" }
  | {
      page: "project";
      project: string;
      section: Section;
      name: string | undefined;
      domain: string | undefined;
    }
  | { page: "executions"; project: string; domain: string }
  | { page: "execution"; project: string; domain: string; name: string }
  | { page: "entities"; kind: EntityKind; project: string; domain: string }
  | {
      page: "entity";
      kind: EntityKind;
      project: string;
      domain: string;
      name: string;
      version: string | undefined;
    }
  | { page: "notFound"; path: string };

/** flyteconsole's spellings (`launchPlans`, `workflow`) are accepted beside ours. */
const SECTIONS: Record<string, Section> = {
  executions: "executions",
  launch_plans: "launch_plans",
  launchPlans: "launch_plans",
  workflows: "workflows",
  workflow: "workflows",
  tasks: "tasks",
  task: "tasks",
};

const enc = encodeURIComponent;
const domainBase = (project: string, domain: string) =>
  `${BASE}/projects/${enc(project)}/domains/${enc(domain)}`;

export const paths = {
  projects: () => BASE,
  project: (project: string) => `${BASE}/projects/${enc(project)}`,
  executions: (project: string, domain: string) => `${domainBase(project, domain)}/executions`,
  execution: (project: string, domain: string, name: string) =>
    `${domainBase(project, domain)}/executions/${enc(name)}`,
  entities: (kind: EntityKind, project: string, domain: string) => `${domainBase(project, domain)}/${kind}`,
  entity: (kind: EntityKind, project: string, domain: string, name: string, version?: string) =>
    `${domainBase(project, domain)}/${kind}/${enc(name)}${version ? `?version=${enc(version)}` : ""}`,
};

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The route a path and query name (the path with or without the /console prefix). */
export function parseRoute(pathname: string, search: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest
    .split("/")
    .filter((s) => s !== "")
    .map(decode);
  const query = new URLSearchParams(search);
  const notFound: Route = { page: "notFound", path: pathname };
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "select-project"))
    return { page: "projects" };
  const [head, project, third, domain, sectionSeg, name, versionSeg, version] = parts;
  if (head !== "projects" || project === undefined) return notFound;
  if (third === undefined) {
    return { page: "project", project, section: "executions", name: undefined, domain: undefined };
  }
  if (third !== "domains") {
    const section = SECTIONS[third];
    if (section === undefined || parts.length > 4) return notFound;
    return { page: "project", project, section, name: parts[3], domain: query.get("domain") ?? undefined };
  }
  if (domain === undefined)
    return { page: "project", project, section: "executions", name: undefined, domain };
  const section = SECTIONS[sectionSeg ?? "executions"];
  if (section === undefined) return notFound;
  if (section === "executions") {
    if (name === undefined) return { page: "executions", project, domain };
    return parts.length === 6 ? { page: "execution", project, domain, name } : notFound;
  }
  if (name === undefined) return { page: "entities", kind: section, project, domain };
  if (parts.length === 6) {
    return {
      page: "entity",
      kind: section,
      project,
      domain,
      name,
      version: query.get("version") ?? undefined,
    };
  }
  if (parts.length === 8 && versionSeg === "version") {
    return { page: "entity", kind: section, project, domain, name, version };
  }
  return notFound;
}

const listeners = new Set<() => void>();
function notify() {
  for (const l of listeners) l();
}
window.addEventListener("popstate", notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const snapshot = () => window.location.pathname + window.location.search;

/** Goes to a path of this app (pushes a history entry, or replaces the current one). */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === snapshot()) return;
  if (options.replace) {
    window.history.replaceState(null, "", path);
  } else {
    window.history.pushState(null, "", path);
    window.scrollTo(0, 0);
  }
  notify();
}

/** The current route; re-renders on navigation and on the browser's back and forward. */
export function useRoute(): Route {
  const location = useSyncExternalStore(subscribe, snapshot);
  return useMemo(() => {
    const url = new URL(location, window.location.origin);
    return parseRoute(url.pathname, url.search);
  }, [location]);
}

/** The current query string's parameters. */
export function useSearchParams(): URLSearchParams {
  const location = useSyncExternalStore(subscribe, snapshot);
  return useMemo(() => new URL(location, window.location.origin).searchParams, [location]);
}

export type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & { to: string };

/** An ordinary link (open in a new tab works) that navigates in place on a plain click. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return createElement("a", { ...rest, href: to, onClick: handle });
}
