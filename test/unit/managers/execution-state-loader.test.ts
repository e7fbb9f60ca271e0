import { describe, expect, it } from "vitest";
import { ExecutionStateLoader, type LoadStates } from "../../../server/managers/execution-state-loader.js";
import type { ExecutionKey, ExecutionRow } from "../../../server/repositories/execution-repo.js";
import type { ExecutionState } from "../../../server/repositories/execution-state-repo.js";

const P = { project: "p", domain: "d" };
const state = (id: string, name = `e${id}`): ExecutionState => ({
  exec: {
    id,
    execution_project: P.project,
    execution_domain: P.domain,
    execution_name: name,
  } as ExecutionRow,
  nodes: [],
  tasks: [],
});

/** A fake statement over executions 1..99 (named e<id>) that records its calls and resolves when released. */
function fakeStatements(fail?: (ids: readonly string[]) => boolean) {
  const calls: { ids: readonly string[]; keys: readonly ExecutionKey[]; release: () => void }[] = [];
  const load: LoadStates = (ids, keys) =>
    new Promise((resolve, reject) => {
      const found = [
        ...ids.filter((id) => Number(id) < 100),
        ...keys.filter((k) => k.project === P.project && /^e\d\d?$/.test(k.name)).map((k) => k.name.slice(1)),
      ];
      calls.push({
        ids,
        keys,
        release: () => (fail?.(ids) ? reject(new Error("boom")) : resolve(found.map((id) => state(id)))),
      });
    });
  /** Lets the loader issue the statements due (it flushes at the end of a tick). */
  const started = () => new Promise((r) => setImmediate(r));
  /** Releases every statement issued so far; the callers get their results, and the next statement is issued. */
  const releaseAll = async () => {
    for (const c of calls) c.release();
    await started(); // the results reach the callers, and the loader schedules its next flush
    await started(); // which runs
  };
  return { calls, load, releaseAll, started };
}

describe("ExecutionStateLoader", () => {
  it("serves the requests of one tick with one statement, split per caller", async () => {
    const f = fakeStatements();
    const loader = new ExecutionStateLoader(f.load);
    const results = Promise.all([
      loader.byId("1"),
      loader.byId("2"),
      loader.byId("1"),
      loader.byKey({ ...P, name: "e3" }),
      loader.byId("500"),
      loader.byKey({ ...P, name: "missing" }),
    ]);
    await f.started();
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]?.ids).toEqual(["1", "2", "500"]);
    expect(f.calls[0]?.keys).toEqual([
      { ...P, name: "e3" },
      { ...P, name: "missing" },
    ]);
    await f.releaseAll();
    const [a, b, a2, c, none, missing] = await results;
    expect([a?.exec.id, b?.exec.id, a2?.exec.id, c?.exec.id]).toEqual(["1", "2", "1", "3"]);
    expect(none).toBeUndefined();
    expect(missing).toBeUndefined();
  });

  it("never serves a request with a statement that started before it: the next one serves all that waited", async () => {
    const f = fakeStatements();
    const loader = new ExecutionStateLoader(f.load);
    const first = loader.byId("1");
    await f.started();
    const again = [loader.byId("1"), loader.byId("2"), loader.byKey({ ...P, name: "e4" })];
    await f.started();
    expect(f.calls).toHaveLength(1); // the others wait for the running statement
    await f.releaseAll();
    expect((await first)?.exec.id).toBe("1");
    expect(f.calls).toHaveLength(2);
    expect(f.calls[1]?.ids).toEqual(["1", "2"]);
    expect(f.calls[1]?.keys).toEqual([{ ...P, name: "e4" }]);
    await f.releaseAll();
    expect((await Promise.all(again)).map((s) => s?.exec.id)).toEqual(["1", "2", "4"]);
  });

  it("caps a statement at maxBatch requests; the rest wait for the next", async () => {
    const f = fakeStatements();
    const loader = new ExecutionStateLoader(f.load, 4);
    const ids = Array.from({ length: 9 }, (_, i) => String(i + 1));
    const results = Promise.all([...ids.map((id) => loader.byId(id)), loader.byKey({ ...P, name: "e42" })]);
    await f.started();
    expect(f.calls.map((c) => c.ids.length + c.keys.length)).toEqual([4]);
    await f.releaseAll();
    await f.releaseAll();
    await f.releaseAll();
    expect(f.calls.map((c) => c.ids.length + c.keys.length)).toEqual([4, 4, 2]);
    expect((await results).map((s) => s?.exec.id)).toEqual([...ids, "42"]);
  });

  it("rejects only the callers of a failed statement, and keeps serving", async () => {
    const f = fakeStatements((ids) => ids.includes("13"));
    const loader = new ExecutionStateLoader(f.load, 2);
    const ok = loader.byId("1");
    const okToo = loader.byId("2");
    const failed = [loader.byId("13"), loader.byKey({ ...P, name: "e7" })].map((p) =>
      expect(p).rejects.toThrow("boom"),
    );
    await f.started();
    await f.releaseAll();
    await f.releaseAll();
    expect(f.calls).toHaveLength(2);
    expect((await ok)?.exec.id).toBe("1");
    expect((await okToo)?.exec.id).toBe("2");
    await Promise.all(failed);
    const later = loader.byId("5");
    await f.started();
    await f.releaseAll();
    expect((await later)?.exec.id).toBe("5");
  });
});
