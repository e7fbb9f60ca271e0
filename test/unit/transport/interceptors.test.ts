// The request id on an rpc's log lines: taken from the caller's x-request-id or made up, echoed in the answer, and
// named by the line that logs a failure's cause (the error interceptor runs inside the request-log interceptor).
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AppError } from "../../../server/errors.js";
import { createLogger } from "../../../server/logger.js";
import { errorInterceptor, requestLogInterceptor } from "../../../server/transport/interceptors.js";

type Next = Parameters<Interceptor>[0];

function chain(lines: Record<string, unknown>[], handler: Next) {
  const logger = createLogger("debug", (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const inner = errorInterceptor(logger)(handler);
  return requestLogInterceptor(logger)(inner);
}

const request = (header: Headers) =>
  ({
    header,
    method: { name: "GetExecution" },
    signal: new AbortController().signal,
    stream: false,
  }) as unknown as Parameters<Next>[0];

describe("request ids in rpc log lines", () => {
  it("name the caller's id on the line that logs a failure's cause and on the access line", async () => {
    const lines: Record<string, unknown>[] = [];
    const call = chain(lines, async () => {
      throw new AppError(Code.Unavailable, "the database is unavailable", {
        cause: new Error("ECONNREFUSED"),
      });
    });
    const err = await call(request(new Headers({ "x-request-id": "req-7" }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    const failed = lines.find((l) => l.msg === "rpc failed" && l.level === "warn");
    expect(failed).toMatchObject({ requestId: "req-7", procedure: "GetExecution", code: "Unavailable" });
    expect(lines.find((l) => l.msg === "rpc failed" && l.level === "debug")).toMatchObject({
      requestId: "req-7",
    });
  });

  it("make up an id when the caller sent none, the same on every line and in the answer", async () => {
    const lines: Record<string, unknown>[] = [];
    const failing = chain(lines, async () => {
      throw new Error("a bug");
    });
    await failing(request(new Headers())).catch(() => undefined);
    const unexpected = lines.find((l) => l.msg === "unexpected error");
    const access = lines.find((l) => l.msg === "rpc failed");
    expect(typeof unexpected?.requestId).toBe("string");
    expect(access?.requestId).toBe(unexpected?.requestId);

    const ok = chain(lines, async () => ({ header: new Headers(), stream: false }) as never);
    const res = await ok(request(new Headers()));
    const id = res.header.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.find((l) => l.msg === "rpc")?.requestId).toBe(id);
  });
});
