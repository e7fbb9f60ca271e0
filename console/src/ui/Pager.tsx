// Paging through a list with the server's page tokens: Next follows the token of the page shown, Previous goes back
// through the tokens already followed. No offsets, no counts.
import { useCallback, useMemo, useState } from "react";

export interface Pages {
  /** The token of the page shown ("" for the first). */
  readonly token: string;
  /** 0 for the first page. */
  readonly index: number;
  next(token: string): void;
  previous(): void;
  /** Back to the first page (when the filters or the sort change). */
  reset(): void;
}

export function usePages(): Pages {
  const [stack, setStack] = useState<string[]>([""]);
  const next = useCallback((token: string) => setStack((s) => [...s, token]), []);
  const previous = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const reset = useCallback(() => setStack((s) => (s.length === 1 ? s : [""])), []);
  return useMemo(
    () => ({ token: stack[stack.length - 1] ?? "", index: stack.length - 1, next, previous, reset }),
    [stack, next, previous, reset],
  );
}

export function Pager({ pages, nextToken }: { pages: Pages; nextToken: string | undefined }) {
  const hasNext = nextToken !== undefined && nextToken !== "";
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" data-testid="prev-page" disabled={pages.index === 0} onClick={pages.previous}>
        ← Previous
      </button>
      <span className="muted">Page {pages.index + 1}</span>
      <button
        type="button"
        data-testid="next-page"
        disabled={!hasNext}
        onClick={() => hasNext && pages.next(nextToken)}
      >
        Next →
      </button>
    </nav>
  );
}
