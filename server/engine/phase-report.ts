// One info line, and a metrics event, per execution phase change the engine records.
import type { Logger } from "../logger.js";
import { publishPhase } from "../metrics/engine-events.js";
import type { ExecutionRow } from "../repositories/execution-repo.js";

export function reportPhaseChange(
  logger: Logger,
  exec: ExecutionRow,
  from: string,
  to: string | undefined,
): void {
  if (to === undefined || to === from) return;
  const execution = `${exec.execution_project}/${exec.execution_domain}/${exec.execution_name}`;
  logger.info("execution phase changed", { executionId: exec.id, execution, from, to });
  publishPhase({ executionId: exec.id, from, to });
}
