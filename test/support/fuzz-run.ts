// The bookkeeping of a fuzz run: calls one rpc generically, judges every answer (fuzz-checks.ts), and keeps the
// findings, the findings that belong to the transport's owners, what was accepted, and counts.
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescMethodUnary,
  type Message,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { badAnswer } from "./fuzz-checks.js";

export interface Finding {
  readonly via: string;
  readonly rpc: string;
  readonly field: string;
  readonly value: string;
  readonly problem: string;
  readonly code: string;
  readonly message: string;
}

export interface Where {
  readonly field: string;
  readonly value: string;
}

export type Answer = { ok: true; message: Message } | { ok: false; error: ConnectError };

export const rpcName = (m: DescMethod) => `${m.parent.name}.${m.name}`;

/** Whether the client can encode the request at all (protobuf JSON has no form for out-of-range WKTs). */
export function encodable(desc: DescMessage, input: Message, json: boolean): boolean {
  try {
    if (json) toJsonString(desc, input);
    else toBinary(desc, input);
    return true;
  } catch {
    return false;
  }
}

export async function call(
  transport: Transport,
  method: DescMethod,
  input: Message,
  timeoutMs: number,
): Promise<Answer> {
  if (method.methodKind !== "unary") throw new Error(`${method.name} is not unary`);
  try {
    const res = await transport.unary(method as DescMethodUnary, undefined, timeoutMs, undefined, input);
    return { ok: true, message: res.message };
  } catch (err) {
    return { ok: false, error: ConnectError.from(err) };
  }
}

/** A promise's outcome as an Answer (follow-ups and preparations made with typed clients). */
export const answerOf = (p: Promise<unknown>): Promise<Answer> =>
  p.then(
    (message) => ({ ok: true as const, message: message as Message }),
    (err: unknown) => ({ ok: false as const, error: ConnectError.from(err) }),
  );

export function report(list: readonly Finding[], max = 40): string {
  return list
    .slice(0, max)
    .map(
      (f) => `${f.via} ${f.rpc} ${f.field}=${f.value}: ${f.problem} [${f.code}] ${JSON.stringify(f.message)}`,
    )
    .join("\n");
}

export class FuzzRun {
  readonly findings: Finding[] = [];
  readonly accepted: (Where & { rpc: string; call: number })[] = [];
  readonly codes = new Map<string, number>();
  calls = 0;

  /** `notBuilt`: rpcs without an implementation, which must answer Unimplemented (or fail the shared checks). */
  constructor(private readonly notBuilt: ReadonlySet<string>) {}

  /** Judges one answer; `call` numbers it for the report. */
  record(via: string, method: DescMethod, where: Where, answer: Answer, call: number): void {
    this.calls++;
    const rpc = rpcName(method);
    const code = answer.ok ? "OK" : (Code[answer.error.code] ?? String(answer.error.code));
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (answer.ok) {
      this.accepted.push({ rpc: `${via} ${rpc}`, ...where, call });
      if (this.notBuilt.has(rpc)) this.add({ via, rpc, ...where, problem: "answered OK", code, message: "" });
      return;
    }
    const { code: c, rawMessage } = answer.error;
    const problem = badAnswer(c, rawMessage, !this.notBuilt.has(rpc));
    if (problem !== undefined)
      this.add({ via, rpc, ...where, problem, code, message: rawMessage.slice(0, 400) });
  }

  /** A call's preparation must work, or the call judges nothing: any failure is a finding. */
  recordPreparation(via: string, method: DescMethod, answer: Answer, call: number): void {
    const where = { field: "-", value: `preparing call ${call}` };
    this.record(`${via} prepare`, method, where, answer, call);
    if (answer.ok || badAnswer(answer.error.code, answer.error.rawMessage, true) !== undefined) return;
    const code = Code[answer.error.code] ?? "?";
    this.add({
      via: `${via} prepare`,
      rpc: rpcName(method),
      ...where,
      problem: "failed",
      code,
      message: answer.error.rawMessage,
    });
  }

  /** GetVersion answers within `timeoutMs`. */
  async ping(transport: Transport, after: string, timeoutMs: number): Promise<void> {
    const started = performance.now();
    const method = AdminService.method.getVersion;
    try {
      await transport.unary(method, undefined, timeoutMs, undefined, create(method.input));
    } catch (err) {
      const e = ConnectError.from(err);
      const ms = Math.round(performance.now() - started);
      const problem = `no answer within ${timeoutMs} ms (${ms} ms)`;
      const rpc = rpcName(method);
      this.add({
        via: "ping",
        rpc,
        field: "-",
        value: after,
        problem,
        code: Code[e.code],
        message: e.rawMessage,
      });
    }
  }

  private add(f: Finding): void {
    this.findings.push(f);
  }
}
