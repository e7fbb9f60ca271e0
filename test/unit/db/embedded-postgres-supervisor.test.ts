// The embedded Postgres supervisor with stand-in postmasters: restarts with backoff, gives up after its attempts,
// and stops restarting once stopped.
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import {
  type EmbeddedPostgresEvent,
  PostgresSupervisor,
  type RestartPolicy,
} from "../../../server/db/embedded-postgres-supervisor.js";
import { createLogger } from "../../../server/logger.js";

class FakePostmaster extends EventEmitter {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  constructor(readonly pid: number) {
    super();
  }
  die(signal: NodeJS.Signals | null = "SIGKILL", code: number | null = null): void {
    this.exitCode = code;
    this.signalCode = signal;
    this.emit("exit", code, signal);
  }
}

const POLICY: RestartPolicy = {
  attempts: 3,
  firstDelayMs: 5,
  maxDelayMs: 20,
  readyTimeoutMs: 1_000,
  stableMs: 60_000,
};

function setUp(outcomes: Array<"ok" | "fail">, policy: RestartPolicy = POLICY) {
  let nextPid = 100;
  const first = new FakePostmaster(nextPid++);
  const launched: FakePostmaster[] = [];
  const cleaned: number[] = [];
  const terminated: number[] = [];
  const events: EmbeddedPostgresEvent[] = [];
  const waiters: Array<() => void> = [];
  const supervisor = new PostgresSupervisor(
    first as unknown as ChildProcess,
    {
      launch: async () => {
        const outcome = outcomes.shift() ?? "fail";
        if (outcome === "fail") throw new Error("could not start");
        const child = new FakePostmaster(nextPid++);
        launched.push(child);
        return child as unknown as ChildProcess;
      },
      beforeRestart: (dead) => cleaned.push(dead.pid ?? -1),
      terminate: async (child) => {
        terminated.push(child.pid ?? -1);
      },
      output: () => "FATAL: no space left on device",
    },
    createLogger("silent"),
    policy,
  );
  supervisor.subscribe((e) => {
    events.push(e);
    for (const w of waiters.splice(0)) w();
  });
  /** Resolves once `n` events have come. */
  const eventsCount = async (n: number) => {
    while (events.length < n) await new Promise<void>((r) => waiters.push(r));
    return events;
  };
  return { supervisor, first, launched, cleaned, terminated, events, eventsCount };
}

describe("PostgresSupervisor", () => {
  it("restarts a postmaster that died, after clearing what the dead one left", async () => {
    const t = setUp(["ok"]);
    t.first.die("SIGKILL");
    const events = await t.eventsCount(2);
    expect(events).toEqual([
      { kind: "exited", reason: "was killed by SIGKILL" },
      { kind: "restarted", attempt: 1 },
    ]);
    expect(t.cleaned).toEqual([100]);
    expect(t.launched.map((c) => c.pid)).toEqual([101]);
    // The restarted one is watched too.
    t.launched[0]?.die(null, 1);
    expect((await t.eventsCount(3))[2]).toEqual({ kind: "exited", reason: "exited with code 1" });
    await t.supervisor.stop();
  });

  it("keeps trying after failed attempts and succeeds within its budget", async () => {
    const t = setUp(["fail", "fail", "ok"]);
    t.first.die();
    expect((await t.eventsCount(2))[1]).toEqual({ kind: "restarted", attempt: 3 });
    await t.supervisor.stop();
    expect(t.terminated).toEqual([101]);
  });

  it("gives up after its attempts, saying so", async () => {
    const t = setUp(["fail", "fail", "fail", "ok"]);
    t.first.die();
    const events = await t.eventsCount(2);
    expect(events[1]?.kind).toBe("gave-up");
    const error = (events[1] as { error: Error }).error;
    expect(error.message).toBe("the embedded Postgres could not be restarted (3 attempts failed)");
    expect((error.cause as Error).message).toBe("could not start");
    expect(t.launched).toEqual([]);
    await t.supervisor.stop();
  });

  it("a postmaster that dies again soon after a restart continues the same outage", async () => {
    const t = setUp(["ok", "fail", "fail", "ok"]);
    t.first.die();
    await t.eventsCount(2);
    t.launched[0]?.die();
    const events = await t.eventsCount(4);
    expect(events[3]?.kind).toBe("gave-up");
    await t.supervisor.stop();
  });

  it("does not restart once stopped, and stops the running postmaster", async () => {
    const t = setUp(["ok"], { ...POLICY, firstDelayMs: 60_000, maxDelayMs: 60_000 });
    t.first.die();
    await t.eventsCount(1);
    await t.supervisor.stop(); // during the wait before the first attempt
    expect(t.launched).toEqual([]);
    expect(t.events.map((e) => e.kind)).toEqual(["exited"]);

    const u = setUp(["ok"]);
    await u.supervisor.stop();
    expect(u.terminated).toEqual([100]);
    u.first.die(null, 0); // exiting because it was stopped is no outage
    expect(u.events).toEqual([]);
  });
});
