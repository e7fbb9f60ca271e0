// Authentication (API keys, OIDC JWTs), per-project authorization, the auth metadata rpcs and routes, and the
// principal recorded on executions, terminations and signals: over gRPC (Connect's and grpc-js, the direct path),
// Connect on the HTTP port, and the HTTP routes.
import { create } from "@bufbuild/protobuf";
import { Code, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import { NodeSchema } from "../../gen/flyteidl/core/workflow_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { AuthMetadataService } from "../../gen/flyteidl/service/auth_pb.js";
import { DataProxyService } from "../../gen/flyteidl/service/dataproxy_pb.js";
import { IdentityService } from "../../gen/flyteidl/service/identity_pb.js";
import { SignalService } from "../../gen/flyteidl/service/signal_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { hashApiKey } from "../../server/auth/api-keys.js";
import {
  bind,
  intType,
  launchPlanId,
  literalBool,
  literalInt,
  taskId,
  taskNode,
  taskTemplate,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { eventually } from "../support/eventually.js";
import { expectCode } from "../support/expect-error.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { startTestIssuer, type TestIssuer } from "../support/oidc-issuer.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const API_KEY = "ci-secret-key-0123456789";
const P = { project: "flytesnacks", domain: "development" };
let t: TestServer;
let issuer: TestIssuer;

const bearer =
  (token: string | undefined): Interceptor =>
  (next) =>
  (req) => {
    if (token !== undefined) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
const grpcAdmin = (token?: string) =>
  createClient(
    AdminService,
    createGrpcTransport({ baseUrl: `http://${t.grpcAddress}`, interceptors: [bearer(token)] }),
  );
const connectTransport = (token?: string) =>
  createConnectTransport({ baseUrl: t.httpBaseUrl, httpVersion: "1.1", interceptors: [bearer(token)] });

beforeAll(async () => {
  issuer = await startTestIssuer();
  t = await startTestServer({
    env: {
      PETREL_API_KEYS: `ci:${hashApiKey(API_KEY)}`,
      PETREL_OIDC_ISSUER: issuer.url,
      PETREL_OIDC_AUDIENCE: "petrel",
      PETREL_AUTHZ_RULES: "ci:admin:*, alice:write:flytesnacks, bob:read:flytes*",
    },
  });
  const ci = grpcAdmin(API_KEY);
  await ci.registerProject({ project: { id: "flytesnacks", name: "flytesnacks" } });
  await ci.registerProject({ project: { id: "other", name: "other" } });
  await ci.createTask({
    id: taskId("echo"),
    spec: { template: taskTemplate({ type: "echo", inputs: { a: intType() }, outputs: { a: intType() } }) },
  });
  const gate = create(NodeSchema, {
    id: "ok",
    inputs: [bind("a", "before", "a")],
    target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId: "go" } } } },
  });
  const wf = workflowTemplate({
    inputs: { x: intType() },
    outputs: { o: intType() },
    nodes: [taskNode("before", taskId("echo"), [bind("a", "", "x")]), gate],
    outputBindings: [bind("o", "ok", "a")],
  });
  await ci.createWorkflow({ id: workflowId("gated"), spec: { template: wf } });
  await ci.createLaunchPlan({ id: launchPlanId("gated"), spec: { workflowId: workflowId("gated") } });
});
afterAll(async () => {
  await t?.stop();
  await issuer?.close();
});

describe("authentication", () => {
  it("refuses calls without a token, on both ports and both gRPC stacks", async () => {
    await expectCode(
      grpcAdmin().listTasks({ id: { ...P }, limit: 1 }),
      Code.Unauthenticated,
      /missing bearer token/,
    );
    const viaConnect = createClient(AdminService, connectTransport());
    await expectCode(
      viaConnect.listTasks({ id: { ...P }, limit: 1 }),
      Code.Unauthenticated,
      /missing bearer token/,
    );
    const grpcJs = createGrpcJsClient(AdminService, t.grpcAddress);
    try {
      await expect(grpcJs.unary("getTask", { id: taskId("echo") })).rejects.toMatchObject({
        code: Code.Unauthenticated,
        details: expect.stringMatching(/missing bearer token/),
      });
      const task = await grpcJs.unary(
        "getTask",
        { id: taskId("echo") },
        { authorization: `Bearer ${API_KEY}` },
      );
      expect(task.id?.name).toBe("echo");
    } finally {
      grpcJs.close();
    }
  });

  it("refuses unknown keys, bad JWTs, expired JWTs and JWTs for another audience", async () => {
    await expectCode(grpcAdmin("nope").listProjects({}), Code.Unauthenticated, /not a known API key/);
    const good = await issuer.sign("alice");
    await expectCode(
      grpcAdmin(`${good.slice(0, -4)}AAAA`).listProjects({}),
      Code.Unauthenticated,
      /invalid bearer token/,
    );
    const expired = await issuer.sign("alice", { expiresAt: Math.floor(Date.now() / 1000) - 120 });
    await expectCode(grpcAdmin(expired).listProjects({}), Code.Unauthenticated, /expired/);
    const elsewhere = await issuer.sign("alice", { audience: "someone-else" });
    await expectCode(grpcAdmin(elsewhere).listProjects({}), Code.Unauthenticated, /"aud" claim/);
  });

  it("accepts API keys and JWTs, in either header", async () => {
    expect((await grpcAdmin(API_KEY).listProjects({})).projects.length).toBe(2);
    const jwt = await issuer.sign("alice");
    // alice reads one of the two projects.
    expect((await createClient(AdminService, connectTransport(jwt)).listProjects({})).projects.length).toBe(
      1,
    );
    const flyteHeader = createClient(
      AdminService,
      createGrpcTransport({
        baseUrl: `http://${t.grpcAddress}`,
        interceptors: [
          (next) => (req) => {
            req.header.set("flyte-authorization", `Bearer ${jwt}`);
            return next(req);
          },
        ],
      }),
    );
    expect((await flyteHeader.listProjects({})).projects.length).toBe(1);
  });

  it("serves health, the version and the auth metadata without a token", async () => {
    const transport = createGrpcTransport({ baseUrl: `http://${t.grpcAddress}` });
    expect((await createClient(Health, transport).check({})).status).toBe(1);
    expect((await grpcAdmin().getVersion({})).controlPlaneVersion).toBeDefined();
    const meta = createClient(AuthMetadataService, transport);
    const oauth = await meta.getOAuth2Metadata({});
    expect(oauth).toMatchObject({
      issuer: issuer.url,
      jwksUri: `${issuer.url}/jwks`,
      tokenEndpoint: `${issuer.url}/token`,
      authorizationEndpoint: `${issuer.url}/authorize`,
      codeChallengeMethodsSupported: ["S256"],
    });
    const client = await meta.getPublicClientConfig({});
    expect(client).toMatchObject({
      clientId: "flytectl",
      authorizationMetadataKey: "authorization",
      audience: "petrel",
      scopes: ["openid", "offline_access"],
    });
    const wellKnown = await fetch(`${t.httpBaseUrl}/.well-known/oauth-authorization-server`);
    expect(wellKnown.status).toBe(200);
    expect(await wellKnown.json()).toMatchObject({
      issuer: issuer.url,
      token_endpoint: `${issuer.url}/token`,
    });
    const flyteClient = await (await fetch(`${t.httpBaseUrl}/config/v1/flyte_client`)).json();
    expect(flyteClient).toMatchObject({ client_id: "flytectl", authorization_metadata_key: "authorization" });
  });

  it("answers UserInfo with the caller's claims", async () => {
    const jwt = await issuer.sign("alice", {
      claims: { email: "alice@example.com", name: "Alice", team: "ml" },
    });
    const who = await createClient(IdentityService, connectTransport(jwt)).userInfo({});
    expect(who).toMatchObject({ subject: "alice", name: "Alice", email: "alice@example.com" });
    expect(who.additionalClaims).toMatchObject({ team: "ml", iss: issuer.url });
    await expectCode(createClient(IdentityService, connectTransport()).userInfo({}), Code.Unauthenticated);
  });

  it("guards the task log route, and leaves signed blob URLs usable without a token", async () => {
    const logs = await fetch(`${t.httpBaseUrl}/api/v1/logs/flytesnacks/development/x/n0/0/stdout`);
    expect(logs.status).toBe(401);
    const jwt = await issuer.sign("alice");
    const dp = createClient(
      DataProxyService,
      createGrpcTransport({ baseUrl: `http://${t.grpcAddress}`, interceptors: [bearer(jwt)] }),
    );
    const loc = await dp.createUploadLocation({ ...P, filename: "hello.txt", filenameRoot: "auth-test" });
    const put = await fetch(loc.signedUrl, { method: "PUT", body: "hello" });
    expect(put.status).toBeLessThan(300);
  });
});

describe("authorization", () => {
  it("denies a project the principal has no rule for, naming who, what and where", async () => {
    const alice = grpcAdmin(await issuer.sign("alice"));
    await expectCode(
      alice.createTask({
        id: taskId("echo", "v1", "other"),
        spec: { template: taskTemplate({ type: "echo", id: taskId("echo", "v1", "other") }) },
      }),
      Code.PermissionDenied,
      'principal "alice" lacks write permission on project "other"',
    );
    await expectCode(
      alice.listTasks({ id: { project: "other", domain: "development" }, limit: 1 }),
      Code.PermissionDenied,
      /lacks read permission on project "other"/,
    );
    expect((await alice.listTasks({ id: { ...P }, limit: 5 })).tasks.length).toBe(1);
  });

  it("lets a reader read but not write, and keeps project administration for admins", async () => {
    const bob = grpcAdmin(await issuer.sign("bob"));
    expect((await bob.getTask({ id: taskId("echo") })).id?.name).toBe("echo");
    await expectCode(
      bob.createExecution({ ...P, name: "bobs", spec: { launchPlan: launchPlanId("gated") } }),
      Code.PermissionDenied,
      'principal "bob" lacks write permission on project "flytesnacks"',
    );
    const alice = grpcAdmin(await issuer.sign("alice"));
    // Projects are listed as far as the principal may read them.
    const listed = async (c: ReturnType<typeof grpcAdmin>) =>
      (await c.listProjects({})).projects.map((p) => p.id);
    expect(await listed(alice)).toEqual(["flytesnacks"]);
    expect(await listed(bob)).toEqual(["flytesnacks"]);
    expect((await listed(grpcAdmin(API_KEY))).sort()).toEqual(["flytesnacks", "other"]);
    await expectCode(
      alice.updateProject({ id: "flytesnacks", name: "renamed" }),
      Code.PermissionDenied,
      /lacks admin permission on project "flytesnacks"/,
    );
  });
});

describe("the principal", () => {
  it("is recorded on executions, terminations and signals", async () => {
    const jwt = await issuer.sign("alice");
    const alice = grpcAdmin(jwt);
    const signals = createClient(
      SignalService,
      createGrpcTransport({ baseUrl: `http://${t.grpcAddress}`, interceptors: [bearer(jwt)] }),
    );
    const inputs = { literals: { x: literalInt(1) } };
    await alice.createExecution({
      ...P,
      name: "by-alice",
      spec: { launchPlan: launchPlanId("gated") },
      inputs,
    });
    const id = { ...P, name: "by-alice" };
    expect((await alice.getExecution({ id })).spec?.metadata?.principal).toBe("alice");

    await eventually(
      () => signals.listSignals({ workflowExecutionId: id, limit: 10 }),
      (l) => l.signals.length > 0,
    );
    await signals.setSignal({ id: { signalId: "go", executionId: id }, value: literalBool(true) });
    const row = await t.server.db("signals").where({ execution_name: "by-alice", signal_id: "go" }).first();
    expect(row?.set_by).toBe("alice");

    await grpcAdmin(API_KEY).createExecution({
      ...P,
      name: "stopped",
      spec: { launchPlan: launchPlanId("gated") },
      inputs,
    });
    const stopped = { ...P, name: "stopped" };
    await alice.terminateExecution({ id: stopped, cause: "not needed" });
    const aborted = await eventually(
      () => alice.getExecution({ id: stopped }),
      (e) => e.closure?.phase === W.ABORTED,
    );
    expect(aborted.spec?.metadata?.principal).toBe("ci");
    expect(aborted.closure?.outputResult).toMatchObject({
      case: "abortMetadata",
      value: { cause: "not needed", principal: "alice" },
    });
  });
});
