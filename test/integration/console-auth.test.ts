// The console behind API-key auth, in chromium: its files load without a token, the first refused call brings up the
// token prompt, a key that works signs in, one that does not is said so, and a principal that may only read is told
// plainly that it may not launch.
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { hashApiKey } from "../../server/auth/api-keys.js";
import {
  CONSOLE_PROJECT,
  DOMAIN,
  executionPage,
  launchConsoleWorkflow,
  registerConsoleWorkflows,
} from "../fixtures/console-workflows.js";
import { type ConsoleHarness, screenshot, startConsoleHarness } from "../support/browser.js";

const ADMIN_KEY = "console-admin-key-0123456789";
const VIEWER_KEY = "console-viewer-key-0123456789";
let h: ConsoleHarness;
let admin: ReturnType<typeof createClient<typeof AdminService>>;

beforeAll(async () => {
  h = await startConsoleHarness({
    env: {
      PETREL_API_KEYS: `ops:${hashApiKey(ADMIN_KEY)},viewer:${hashApiKey(VIEWER_KEY)}`,
      PETREL_AUTHZ_RULES: "ops:admin:*, viewer:read:*",
    },
  });
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${ADMIN_KEY}`);
    return next(req);
  };
  const baseUrl = `http://${h.t.grpcAddress}`;
  admin = createClient(AdminService, createGrpcTransport({ baseUrl, interceptors: [bearer] }));
  await registerConsoleWorkflows(admin);
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

async function signIn(page: Page, key: string): Promise<void> {
  await page.getByTestId("token-input").fill(key);
  await page.getByTestId("sign-in").click();
}

describe("the console behind auth", () => {
  it("asks for a token, refuses a wrong one, and shows the projects once signed in", async () => {
    const { page, errors } = await h.open("/console");
    await page.getByTestId("token-input").waitFor();
    expect(await page.getByTestId("project").count()).toBe(0);
    await screenshot(page, "sign-in");
    await signIn(page, "not-a-key");
    await expect.poll(() => page.getByText("did not accept the stored token").count()).toBeGreaterThan(0);
    await signIn(page, VIEWER_KEY);
    await expect
      .poll(() => page.getByTestId("project").allTextContents())
      .toEqual([expect.stringContaining(CONSOLE_PROJECT)]);
    expect(await page.getByTestId("token-input").count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("reads a failed task's logs with the stored token (the log route needs it too)", async () => {
    const name = await launchConsoleWorkflow(admin, "failing", 5);
    const { page, errors } = await h.open(executionPage(name));
    await signIn(page, VIEWER_KEY);
    await expect
      .poll(() => page.getByTestId("execution-phase").getAttribute("data-phase"), { timeout: 30_000 })
      .toBe("FAILED");
    await page.locator('[data-testid="graph-node"][data-node-id="n0"]').click();
    const logs = page.getByTestId("node-panel").getByTestId("node-logs");
    // stdout: only the log holds it (the error message quotes stderr).
    await expect.poll(() => logs.textContent(), { timeout: 15_000 }).toContain("about to fail");
    expect(await logs.textContent()).not.toContain("Could not read");
    expect(errors).toEqual([]);
  });

  it("says plainly when the principal may not do what it asked", async () => {
    const lp = `/console/projects/${CONSOLE_PROJECT}/domains/${DOMAIN}/launch_plans/gated`;
    const { page, errors } = await h.open(lp, h.grpcBase);
    await signIn(page, VIEWER_KEY);
    const form = page.getByTestId("launch-form");
    await form.getByTestId("input-x").fill("1");
    await form.getByTestId("launch-submit").click();
    const alert = form.getByRole("alert");
    await expect
      .poll(() => alert.textContent())
      .toMatch(/^You don't have permission to launch executions in demo\/development \(.*viewer.*write.*\)$/);
    await screenshot(page, "permission-denied");
    expect(errors).toEqual([]);
  });
});
