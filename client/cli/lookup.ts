// Looking up what a command names, with errors that say what is missing ("no execution X in P/D").
import type { WorkflowExecutionIdentifier } from "../../gen/flyteidl/core/identifier_pb.js";
import { EntityNotFoundError } from "../errors.js";
import type { ExecutionHandle } from "../execution-handle.js";
import type { FriendlyRemote } from "../friendly-remote.js";

/** `project/domain/name`, as the CLI names an execution. */
export const executionPath = (id: WorkflowExecutionIdentifier | undefined): string =>
  `${id?.project ?? ""}/${id?.domain ?? ""}/${id?.name ?? ""}`;

/** The line that gives an execution's console page (none when the remote does not know where the console is). */
export function printConsoleUrl(exe: ExecutionHandle, out: (s: string) => void): void {
  if (exe.consoleUrl !== undefined) out(`console: ${exe.consoleUrl}`);
}

/** The execution of this name in the remote's project and domain; a missing one is an error naming both. */
export async function fetchExecution(
  remote: FriendlyRemote,
  name: string | undefined,
): Promise<ExecutionHandle> {
  if (name === undefined || name === "") throw new Error("an execution name is needed");
  try {
    return await remote.fetchExecution(name);
  } catch (err) {
    if (err instanceof EntityNotFoundError)
      throw new Error(`no execution ${name} in ${remote.project}/${remote.domain}`);
    throw err;
  }
}
