// One page of executions (ListExecutions with a keyset token), kept live by a WatchExecutions stream: rows change
// in place, new executions appear at the top of the first page of the newest-first list, and the stream reconnects
// with backoff (reloading the page, which catches up with what the gap missed).
import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useRef, useState } from "react";
import type { Execution } from "../../../gen/flyteidl/admin/execution_pb.js";
import { admin, isAbort, watch } from "../api";
import { phaseName } from "../ui/PhaseBadge";
import { type ExecutionFilters, SORTS } from "./filters";

export const PAGE_SIZE = 50;
const MAX_BACKOFF_MS = 30_000;
/** How long a watch stream must stay open to count as connected. */
const OPEN_MS = 1000;

export type LiveState = "connecting" | "live" | "reconnecting" | "off";

export interface ExecutionList {
  readonly rows: Execution[] | undefined;
  readonly nextToken: string | undefined;
  readonly error: unknown;
  readonly live: LiveState;
  /** New executions the page does not show (another sort, or a later page). */
  readonly unseen: number;
  readonly reload: () => void;
}

interface Query {
  readonly project: string;
  readonly domain: string;
  readonly filters: ExecutionFilters;
  /** The full filter string (for the list), and the one without the phase (for the watch stream). */
  readonly filterString: string;
  readonly stableFilterString: string;
  readonly token: string;
}

const nameOf = (e: Execution) => e.id?.name ?? "";
const createdMs = (e: Execution | undefined) => {
  const t = e?.closure?.createdAt;
  return t === undefined ? 0 : Number(t.seconds) * 1000 + t.nanos / 1e6;
};
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      window.clearTimeout(timer);
      resolve();
    });
  });

/** Whether a failure will not go away by reconnecting. */
const fatal = (e: unknown) =>
  e instanceof ConnectError &&
  [Code.Unauthenticated, Code.PermissionDenied, Code.InvalidArgument, Code.Unimplemented].includes(e.code);

export function useExecutionList(q: Query): ExecutionList {
  const [page, setPageState] = useState<{ rows: Execution[]; token: string }>();
  const pageRef = useRef(page);
  const loadedAt = useRef(0);
  const setPage = (p: { rows: Execution[]; token: string }) => {
    pageRef.current = p;
    setPageState(p);
  };
  const [error, setError] = useState<unknown>();
  const [live, setLive] = useState<LiveState>("connecting");
  const [unseen, setUnseen] = useState<ReadonlySet<string>>(new Set());
  const [reloads, setReloads] = useState(0);
  const reload = () => setReloads((n) => n + 1);
  const { project, domain, filterString, stableFilterString, token } = q;
  const sort = SORTS[q.filters.sort];
  const phases = q.filters.phases;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `reloads` asks for the same page again
  useEffect(() => {
    const ctl = new AbortController();
    setError(undefined);
    setUnseen(new Set());
    admin
      .listExecutions(
        {
          id: { project, domain },
          limit: PAGE_SIZE,
          token,
          filters: filterString,
          sortBy: { key: sort.key, direction: sort.direction },
        },
        { signal: ctl.signal },
      )
      .then(
        (res) => {
          loadedAt.current = Date.now();
          setPage({ rows: res.executions, token: res.token });
        },
        (e: unknown) => {
          if (!ctl.signal.aborted && !isAbort(e)) setError(e);
        },
      );
    return () => ctl.abort();
  }, [project, domain, filterString, sort, token, reloads]);

  const prependNew = token === "" && q.filters.sort === "created_desc";
  const phaseKey = phases.join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: `phaseKey` stands for `phases`
  useEffect(() => {
    const ctl = new AbortController();
    const { signal } = ctl;
    const apply = (ex: Execution) => {
      const matches = phases.length === 0 || phases.includes(phaseName("workflow", ex.closure?.phase ?? 0));
      const p = pageRef.current;
      if (p === undefined) return;
      const i = p.rows.findIndex((r) => nameOf(r) === nameOf(ex));
      if (i >= 0) setPage({ ...p, rows: p.rows.map((r, j) => (j === i ? ex : r)) });
      else if (!matches) return;
      else if (prependNew && createdMs(ex) >= createdMs(p.rows[0])) setPage({ ...p, rows: [ex, ...p.rows] });
      else if (createdMs(ex) > loadedAt.current)
        setUnseen((u) => (u.has(nameOf(ex)) ? u : new Set(u).add(nameOf(ex))));
    };
    const run = async () => {
      let backoff = 1000;
      let reconnecting = false;
      while (!signal.aborted) {
        setLive(reconnecting ? "reconnecting" : "connecting");
        // The server sends nothing (not even headers) until something changes, so the stream counts as live once it
        // has stayed open a moment or brought a message. After a gap, the page is read again to catch up.
        let settled = false;
        const settle = () => {
          if (settled) return;
          settled = true;
          backoff = 1000;
          setLive("live");
          if (reconnecting) reload();
        };
        const timer = window.setTimeout(settle, OPEN_MS);
        try {
          for await (const ev of watch.watchExecutions(
            { project, domain, filters: stableFilterString },
            { signal },
          )) {
            settle();
            if (ev.kind.case === "execution") apply(ev.kind.value);
          }
        } catch (e) {
          if (signal.aborted || isAbort(e)) return;
          if (fatal(e)) {
            setLive("off");
            return;
          }
        } finally {
          window.clearTimeout(timer);
        }
        reconnecting = true;
        setLive("reconnecting");
        await sleep(backoff + Math.random() * backoff * 0.3, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    };
    void run();
    return () => ctl.abort();
  }, [project, domain, stableFilterString, phaseKey, prependNew]);

  return { rows: page?.rows, nextToken: page?.token, error, live, unseen: unseen.size, reload };
}
