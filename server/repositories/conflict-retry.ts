// Retries at the transaction boundary: work Postgres aborted for a serialization failure (40001) or a deadlock
// (40P01) is run again from its start, a few times, after short jittered pauses. A conflict that outlasts the
// retries reaches the client as ABORTED (see mapDbError), never as UNKNOWN or the database's own text.
import { setTimeout as sleep } from "node:timers/promises";
import { isRetryable, mapDbError } from "./pg-errors.js";

const ATTEMPTS = 5;
/** The first pause is up to this long; each further one may be twice as long (5, 10, 20, 40 ms). */
const FIRST_PAUSE_MS = 5;

/**
 * Runs `op` — a whole transaction (`() => db.transaction(…)`) or a single statement, never a part of a transaction
 * (the conflict aborted all of it) — again while it fails with a serialization failure or a deadlock.
 */
export async function retryConflicts<T>(op: () => Promise<T>, attempts = ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      if (attempt >= attempts) throw mapDbError(err);
      // Full jitter: the transactions that collided do not meet again in step.
      await sleep(Math.random() * FIRST_PAUSE_MS * 2 ** (attempt - 1));
    }
  }
}
