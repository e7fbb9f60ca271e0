// The console: header, sign-in box when the server asks for a token, and the page the URL names.
import { lazy, Suspense } from "react";
import { useAuth } from "./api";
import { Header } from "./Header";
import { EntityListPage } from "./pages/EntityListPage";
import { ExecutionsPage } from "./pages/ExecutionsPage";
import { LaunchPlanPage } from "./pages/LaunchPlanPage";
import { ProjectLanding } from "./pages/ProjectLanding";
import { ProjectsPage } from "./pages/ProjectsPage";
import { TaskPage } from "./pages/TaskPage";
import { WorkflowPage } from "./pages/WorkflowPage";
import { Link, paths, type Route, useRoute } from "./router";
import { SignInBox } from "./SignInBox";

// The execution page (graph layout and all) is loaded when first opened.
const ExecutionPage = lazy(() =>
  import("./execution/ExecutionPage").then((m) => ({ default: m.ExecutionPage })),
);

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "projects":
      return <ProjectsPage />;
    case "project":
      return <ProjectLanding route={route} />;
    case "executions":
      return <ExecutionsPage project={route.project} domain={route.domain} />;
    case "execution":
      return <ExecutionPage project={route.project} domain={route.domain} name={route.name} />;
    case "entities":
      return <EntityListPage kind={route.kind} project={route.project} domain={route.domain} />;
    case "entity": {
      const props = {
        project: route.project,
        domain: route.domain,
        name: route.name,
        version: route.version,
      };
      if (route.kind === "launch_plans") return <LaunchPlanPage {...props} />;
      if (route.kind === "workflows") return <WorkflowPage {...props} />;
      return <TaskPage {...props} />;
    }
    case "notFound":
      return (
        <main>
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <Link to={paths.projects()}>See the projects</Link>.
          </p>
        </main>
      );
  }
}

/** Pages are mounted afresh for another project, domain, kind or name (not for another version or query). */
function routeKey(route: Route): string {
  const parts: string[] = [route.page];
  if ("project" in route) parts.push(route.project);
  if ("domain" in route && route.domain !== undefined) parts.push(route.domain);
  if ("kind" in route) parts.push(route.kind);
  if ("name" in route && route.name !== undefined) parts.push(route.name);
  return parts.join("/");
}

export function App() {
  const route = useRoute();
  const auth = useAuth();
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <Header key={`header-${auth.epoch}`} route={route} />
      {auth.needsSignIn && <SignInBox />}
      <div id="content" className="content" key={`content-${auth.epoch}`}>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Page key={routeKey(route)} route={route} />
        </Suspense>
      </div>
    </>
  );
}
