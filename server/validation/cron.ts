// Cron schedules as Flyte's native scheduler accepts them: standard 5-field expressions or descriptors
// (@hourly, @daily, @every 1h, ...). Returns a problem description, or undefined when the expression is valid.
import { CronError, parseCron } from "../../common/cron.js";

export function cronProblem(expr: string): string | undefined {
  try {
    parseCron(expr);
    return undefined;
  } catch (err) {
    if (err instanceof CronError) return err.message;
    throw err;
  }
}
