// The projects (ListProjects) and, for each, a link to its executions in every domain.
import { admin } from "../api";
import { Link, paths } from "../router";
import { ErrorBanner } from "../ui/ErrorBanner";
import { Pager, usePages } from "../ui/Pager";
import { useLoad } from "../ui/useLoad";

const PAGE_SIZE = 100;

export function ProjectsPage() {
  const pages = usePages();
  const list = useLoad(
    (signal) => admin.listProjects({ limit: PAGE_SIZE, token: pages.token }, { signal }),
    [pages.token],
  );
  return (
    <main>
      <h1>Projects</h1>
      {list.error !== undefined && (
        <ErrorBanner error={list.error} action="list projects" onRetry={list.reload} />
      )}
      {list.loading && list.data === undefined && <p className="muted">Loading…</p>}
      {list.data !== undefined && list.data.projects.length === 0 && (
        <p>No projects yet. Register one with the CLI or the admin API.</p>
      )}
      <ul className="cards">
        {list.data?.projects.map((p) => (
          <li key={p.id} className="card" data-testid="project">
            <h2>
              <Link to={paths.project(p.id)}>{p.name || p.id}</Link>
            </h2>
            {p.name !== "" && p.name !== p.id && <p className="muted">{p.id}</p>}
            {p.description !== "" && <p>{p.description}</p>}
            <ul className="inline-list" aria-label={`Domains of ${p.id}`}>
              {p.domains.map((d) => (
                <li key={d.id}>
                  <Link to={paths.executions(p.id, d.id)}>{d.name || d.id}</Link>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
      <Pager pages={pages} nextToken={list.data?.token} />
    </main>
  );
}
