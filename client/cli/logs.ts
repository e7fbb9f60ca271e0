// `petrel logs EXECUTION [NODE] [--follow]`: the stdout and stderr of an execution's task attempts (or one node's),
// read from the data plane's store through the attempts' log links; --follow prints them as they are written until
// the execution is done. With more than one log, each piece is headed `==> node attempt N stream <==` (as tail does).
import type { TaskLogLink } from "../execution-nodes.js";
import type { FriendlyRemote } from "../friendly-remote.js";
import { flag, type ParsedArgs } from "./args.js";
import { fetchExecution } from "./lookup.js";

const header = (l: TaskLogLink) => `==> ${l.nodeId} attempt ${l.attempt} ${l.name} <==`;

export async function logsCommand(
  remote: FriendlyRemote,
  a: ParsedArgs,
  out: (s: string) => void,
  write: (s: string) => void = (s) => out(s.replace(/\n$/, "")),
): Promise<number> {
  const [, name, node] = a.words;
  const exe = await fetchExecution(remote, name);
  const token = flag(a, "--token");
  const auth = token === undefined ? {} : { token };
  if (flag(a, "--follow") === "true") {
    let last: string | undefined;
    await exe.followLogs(
      (link, text) => {
        const key = `${link.nodeId}\n${link.attempt}\n${link.name}`;
        if (key !== last) out(header(link));
        last = key;
        write(text);
      },
      { ...auth, ...(node === undefined ? {} : { nodeId: node }) },
    );
    return 0;
  }
  const logs = await exe.readLogs(node, auth);
  if (logs.length === 0) {
    out(`no task logs for ${node === undefined ? `execution ${name}` : `node ${node} of ${name}`}`);
    return 0;
  }
  const many = logs.length > 1;
  for (const l of logs) {
    if (many && l.text === "") continue;
    if (many) out(header(l));
    if (l.text !== "") write(l.text);
  }
  return 0;
}
