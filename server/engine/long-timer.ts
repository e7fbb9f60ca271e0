// Timers longer than Node's setTimeout holds (2^31−1 ms, about 24.8 days; beyond it Node fires after 1 ms): the
// wait is split into chunks that re-arm until the whole delay has passed.
export const MAX_TIMER_MS = 2_147_483_647;

/** Calls `fn` once `ms` have passed (any finite length); returns the function that cancels it. */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  const due = Date.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(
      () => {
        const rest = due - Date.now();
        if (rest > 0) arm(rest);
        else fn();
      },
      Math.max(0, Math.min(left, MAX_TIMER_MS)),
    );
  };
  arm(ms);
  return () => clearTimeout(timer);
}
