// Task logs with the process runtime (no Docker needed): every attempt's stdout and stderr are kept in the data
// plane's store next to its outputs, while it runs too; the task execution's links serve them (on RUNNING already),
// and the client and `petrel logs` read them, whole or followed live.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../client/cli/main.js";
import { containerTask, FriendlyRemote, t } from "../../client/index.js";
import { eventually } from "../support/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const PROJECT = "tasklogs";
let server: TestServer;
let remote: FriendlyRemote;

const chatty = containerTask({
  name: "chatty",
  image: "unused",
  command: ["sh", "-c", "echo out-$(cat /var/inputs/x); echo err-line >&2; echo 7 > /var/outputs/o"],
  inputs: { x: t.int },
  outputs: { o: t.int },
});
const ticking = containerTask({
  name: "ticking",
  image: "unused",
  command: ["sh", "-c", "for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done"],
  inputs: {},
  outputs: {},
});

beforeAll(async () => {
  server = await startTestServer();
  remote = FriendlyRemote.forEndpoint(server.grpcAddress, {
    insecure: true,
    project: PROJECT,
    domain: "development",
  });
  await remote.client.registerProject({ project: { id: PROJECT, name: PROJECT } });
});
afterAll(async () => {
  await remote?.close();
  await server?.stop();
});

describe("task logs (process runtime)", () => {
  it("are kept in the store next to the attempt's outputs and read by link, client and `petrel logs`", async () => {
    const exe = await remote.execute(chatty, { x: 5 }, { wait: true });
    expect(exe.phaseName).toBe("SUCCEEDED");
    const texts = await exe.readLogs();
    const node = texts[0]?.nodeId ?? "";
    expect(texts.map((l) => [l.name, l.text]).sort()).toEqual([
      ["stderr", "err-line\n"],
      ["stdout", "out-5\n"],
    ]);
    const dir = path.join(
      server.home,
      "blobs/metadata/propeller",
      `${PROJECT}-development-${exe.name}`,
      node,
      "data/0",
    );
    // Recorded with the result (a database copy and the blob outbox): in the store once the outbox is swept.
    const stored = await eventually(
      async () =>
        fs.existsSync(path.join(dir, "stdout.log"))
          ? fs.readFileSync(path.join(dir, "stdout.log"), "utf8")
          : "",
      (text) => text !== "",
    );
    expect(stored).toBe("out-5\n");
    expect(fs.existsSync(path.join(dir, "outputs.pb")) || fs.existsSync(path.join(dir, "o"))).toBe(true);
    const printed: string[] = [];
    const flags = ["--endpoint", server.grpcAddress, "--project", PROJECT];
    expect(await main(["logs", exe.name, node, ...flags], (s) => printed.push(s))).toBe(0);
    expect(printed).toEqual([
      `==> ${node} attempt 0 stdout <==`,
      "out-5",
      `==> ${node} attempt 0 stderr <==`,
      "err-line",
    ]);
    const none: string[] = [];
    expect(await main(["logs", exe.name, "nope", ...flags], (s) => none.push(s))).toBe(0);
    expect(none).toEqual([`no task logs for node nope of ${exe.name}`]);
  });

  it("are followed live while the task runs, by the client and by `petrel logs --follow`", async () => {
    const exe = await remote.execute(ticking, {});
    // The links are there while it runs.
    const links = await eventually(
      () => exe.logs(),
      (ls) => ls.length === 2,
    );
    expect(exe.isDone).toBe(false);
    const pieces: string[] = [];
    const cli: string[] = [];
    const flags = ["--endpoint", server.grpcAddress, "--project", PROJECT];
    const [, code] = await Promise.all([
      exe.followLogs((link, text) => link.name === "stdout" && pieces.push(text), { pollIntervalMs: 100 }),
      main(["logs", exe.name, "--follow", ...flags], (s) => cli.push(s)),
    ]);
    expect(code).toBe(0);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe([1, 2, 3, 4, 5, 6].map((i) => `tick ${i}\n`).join(""));
    expect(cli.join("\n")).toContain("tick 6");
    expect((await exe.sync()).phaseName).toBe("SUCCEEDED");
    expect(links.every((l) => l.uri.includes("/api/v1/logs/"))).toBe(true);
  }, 60_000);
});
