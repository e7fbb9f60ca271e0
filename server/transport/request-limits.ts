// Limits on what one request may ask for, on every port and protocol (it runs with the request guard, inside the
// error interceptor): a list's `limit` above the cap is lowered to it (FlyteAdmin has no maximum, so a client asking
// for more gets a full page with a token, which paging clients follow), a `filters` string longer than allowed and
// literals nested too deeply are INVALID_ARGUMENT.
import { type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { invalidArgument } from "../errors.js";
import { checkLiteralDepth } from "../validation/literal-depth.js";

export interface RequestLimits {
  readonly maxListLimit: number;
  readonly maxFilterLength: number;
  readonly maxLiteralDepth: number;
}

interface Plan {
  readonly limit?: string;
  readonly filters?: string;
}

const plans = new Map<string, Plan>();

const scalarField = (desc: DescMessage, name: string, type: ScalarType): DescField | undefined => {
  const f = desc.fields.find((x) => x.name === name);
  return f?.fieldKind === "scalar" && f.scalar === type && f.oneof === undefined ? f : undefined;
};

function planOf(desc: DescMessage): Plan {
  let plan = plans.get(desc.typeName);
  if (plan === undefined) {
    const limit = scalarField(desc, "limit", ScalarType.UINT32)?.localName;
    const filters = scalarField(desc, "filters", ScalarType.STRING)?.localName;
    plan = { ...(limit === undefined ? {} : { limit }), ...(filters === undefined ? {} : { filters }) };
    plans.set(desc.typeName, plan);
  }
  return plan;
}

/** Applies the limits to one request message (lowering its limit in place). */
export function limitRequest(desc: DescMessage, message: Message, limits: RequestLimits): void {
  const plan = planOf(desc);
  const fields = message as unknown as Record<string, unknown>;
  if (plan.limit !== undefined) {
    const limit = fields[plan.limit] as number;
    if (limit > limits.maxListLimit) fields[plan.limit] = limits.maxListLimit;
  }
  if (plan.filters !== undefined && (fields[plan.filters] as string).length > limits.maxFilterLength) {
    throw invalidArgument(`invalid value for filters: longer than ${limits.maxFilterLength} characters`);
  }
  checkLiteralDepth(desc, message, limits.maxLiteralDepth);
}

async function* limited(desc: DescMessage, messages: AsyncIterable<Message>, limits: RequestLimits) {
  for await (const m of messages) {
    limitRequest(desc, m, limits);
    yield m;
  }
}

export function requestLimitsInterceptor(limits: RequestLimits): Interceptor {
  return (next) => (req) => {
    if (!req.stream) {
      try {
        limitRequest(req.method.input, req.message, limits);
      } catch (err) {
        return Promise.reject(err);
      }
      return next(req);
    }
    return next({ ...req, message: limited(req.method.input, req.message, limits) });
  };
}
