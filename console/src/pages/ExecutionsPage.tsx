// The executions of a project and domain: filtered, sorted, a page at a time with the server's tokens, and live.
import { useMemo } from "react";
import { ExecutionTable } from "../executions-list/ExecutionTable";
import { FilterForm } from "../executions-list/FilterForm";
import {
  type ExecutionFilters,
  filterString,
  filtersFromQuery,
  filtersToQuery,
  stableFilterString,
} from "../executions-list/filters";
import { type LiveState, useExecutionList } from "../executions-list/useExecutionList";
import { navigate, paths, useSearchParams } from "../router";
import { ErrorBanner } from "../ui/ErrorBanner";
import { Pager, usePages } from "../ui/Pager";

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  off: "Not live",
};

function compile(f: ExecutionFilters): { all: string; stable: string; problem?: string } {
  try {
    return { all: filterString(f), stable: stableFilterString(f) };
  } catch (e) {
    return { all: "", stable: "", problem: e instanceof Error ? e.message : String(e) };
  }
}

export function ExecutionsPage({ project, domain }: { project: string; domain: string }) {
  const query = useSearchParams();
  const queryKey = query.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the query string stands for the params
  const filters = useMemo(() => filtersFromQuery(query), [queryKey]);
  const compiled = compile(filters);
  return (
    <main>
      <h1>Executions</h1>
      <FilterForm
        key={queryKey}
        value={filters}
        onApply={(f) =>
          navigate(`${paths.executions(project, domain)}${filtersToQuery(f)}`, { replace: true })
        }
      />
      {compiled.problem !== undefined ? (
        <div className="error-banner" role="alert">
          {compiled.problem}
        </div>
      ) : (
        <ExecutionList
          key={`${project}/${domain}?${compiled.all}&${filters.sort}`}
          project={project}
          domain={domain}
          filters={filters}
          filterString={compiled.all}
          stableFilterString={compiled.stable}
        />
      )}
    </main>
  );
}

interface ListProps {
  project: string;
  domain: string;
  filters: ExecutionFilters;
  filterString: string;
  stableFilterString: string;
}

function ExecutionList(props: ListProps) {
  const pages = usePages();
  const list = useExecutionList({ ...props, token: pages.token });
  return (
    <section aria-label="Executions">
      <div className="toolbar">
        <span className={`live ${list.live === "live" ? "on" : "off"}`} data-testid="live-state">
          {LIVE_TEXT[list.live]}
        </span>
        {list.unseen > 0 && (
          <button
            type="button"
            className="small"
            onClick={() => (pages.index === 0 ? list.reload() : pages.reset())}
          >
            {list.unseen} new {list.unseen === 1 ? "execution" : "executions"}: show
          </button>
        )}
      </div>
      {list.error !== undefined && (
        <ErrorBanner
          error={list.error}
          action={`list executions in ${props.project}/${props.domain}`}
          onRetry={list.reload}
        />
      )}
      {list.rows === undefined && list.error === undefined && <p className="muted">Loading…</p>}
      {list.rows?.length === 0 && <p>No executions match.</p>}
      {list.rows !== undefined && list.rows.length > 0 && <ExecutionTable rows={list.rows} />}
      {list.rows !== undefined && <Pager pages={pages} nextToken={list.nextToken} />}
    </section>
  );
}
