// `/projects/{p}` and flyteconsole's `/projects/{p}/{section}?domain=d`: on to the section in the domain asked for,
// else in the default domain.
import { useEffect, useState } from "react";
import { defaultDomain, loadDomains } from "../domains";
import { navigate, paths, type Route } from "../router";
import { ErrorBanner } from "../ui/ErrorBanner";

type ProjectRoute = Extract<Route, { page: "project" }>;

function target(route: ProjectRoute, domain: string): string {
  const { project, section, name } = route;
  if (section === "executions") {
    return name === undefined ? paths.executions(project, domain) : paths.execution(project, domain, name);
  }
  return name === undefined
    ? paths.entities(section, project, domain)
    : paths.entity(section, project, domain, name);
}

export function ProjectLanding({ route }: { route: ProjectRoute }) {
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (route.domain !== undefined) {
      navigate(target(route, route.domain), { replace: true });
      return;
    }
    let live = true;
    loadDomains().then(
      (list) => {
        const domain = defaultDomain(list);
        if (!live) return;
        if (domain === undefined) setError(new Error("The server has no domains configured."));
        else navigate(target(route, domain), { replace: true });
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [route]);
  return (
    <main>
      <h1>{route.project}</h1>
      {error === undefined ? (
        <p className="muted">Opening…</p>
      ) : (
        <ErrorBanner error={error} action="list domains" />
      )}
    </main>
  );
}
