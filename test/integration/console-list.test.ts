// The console's lists in chromium: the projects at /console (and `/` leading there), a launch from a launch plan's
// form, terminate and relaunch from the executions list (which follows the change live), and paging with the
// server's tokens and a phase filter.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromLiteralMap } from "../../client/type-engine.js";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import {
  CONSOLE_PROJECT,
  DOMAIN,
  launchConsoleWorkflow,
  registerConsoleWorkflows,
} from "../fixtures/console-workflows.js";
import { type ConsoleHarness, screenshot, startConsoleHarness } from "../support/browser.js";
import { eventually } from "../support/eventually.js";

const EXECUTIONS = `/console/projects/${CONSOLE_PROJECT}/domains/${DOMAIN}/executions`;
let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsoleHarness();
  await registerConsoleWorkflows(h.t.admin);
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const row = (page: Page, name: string) => page.locator(`[data-testid="execution-row"][data-name="${name}"]`);
const rows = (page: Page) => page.getByTestId("execution-row");

async function executions() {
  const { executions } = await h.t.admin.listExecutions({
    id: { project: CONSOLE_PROJECT, domain: DOMAIN },
    limit: 1000,
  });
  return executions;
}

describe("the console's lists", () => {
  it("shows the projects at /console, where / leads", async () => {
    const { page, errors } = await h.open("/");
    expect(new URL(page.url()).pathname).toBe("/console/");
    await expect
      .poll(() => page.getByTestId("project").allTextContents())
      .toEqual([expect.stringContaining(CONSOLE_PROJECT)]);
    await screenshot(page, "projects");
    expect(errors).toEqual([]);
  });

  it("launches a workflow from its launch plan's form", async () => {
    const lp = `/console/projects/${CONSOLE_PROJECT}/domains/${DOMAIN}/launch_plans/gated`;
    const { page, errors } = await h.open(lp);
    const form = page.getByTestId("launch-form");
    await form.getByTestId("input-x").fill("4");
    await screenshot(page, "launch-form");
    await form.getByTestId("launch-submit").click();
    await page.waitForURL(/\/executions\/[a-z0-9-]+$/);
    const name = new URL(page.url()).pathname.split("/").at(-1) ?? "";
    await page.getByTestId("graph").waitFor();
    const data = await h.t.admin.getExecutionData({
      id: { project: CONSOLE_PROJECT, domain: DOMAIN, name },
    });
    expect(fromLiteralMap(data.fullInputs)).toEqual({ x: 4 });
    expect(errors).toEqual([]);
  });

  it("terminates and relaunches from the executions list, which follows the change live", async () => {
    const name = await launchConsoleWorkflow(h.t.admin, "gated", 2);
    const { page, errors } = await h.open(EXECUTIONS);
    const r = row(page, name);
    await expect.poll(() => r.getAttribute("data-phase"), { timeout: 30_000 }).toBe("RUNNING");
    await r.getByTestId("terminate").click();
    await r.getByTestId("terminate-confirm").click();
    await expect.poll(() => r.getAttribute("data-phase"), { timeout: 30_000 }).toBe("ABORTED");
    await screenshot(page, "executions-list");
    await r.getByTestId("relaunch").click();
    await page.waitForURL((u) => /\/executions\/[a-z0-9-]+$/.test(u.pathname) && !u.pathname.endsWith(name));
    await page.getByTestId("execution-phase").waitFor();
    const relaunched = (await executions()).find((e) => e.spec?.metadata?.referenceExecution?.name === name);
    expect(new URL(page.url()).pathname.split("/").at(-1)).toBe(relaunched?.id?.name);
    expect(errors).toEqual([]);
  });

  it("pages through the executions with the server's tokens and filters them by phase", async () => {
    await launchConsoleWorkflow(h.t.admin, "failing", 1, "the-failing-one");
    for (let i = 0; i < 55; i++) await launchConsoleWorkflow(h.t.admin, "quick", i);
    const all = await eventually(
      executions,
      (list) => list.filter((e) => e.closure?.phase === W.SUCCEEDED).length >= 55,
      60_000,
      200,
    );
    const { page, errors } = await h.open(EXECUTIONS);
    await expect.poll(() => rows(page).count(), { timeout: 15_000 }).toBe(50);
    await page.getByTestId("next-page").click();
    await expect.poll(() => rows(page).count(), { timeout: 15_000 }).toBe(all.length - 50);
    await page.getByTestId("prev-page").click();
    await expect.poll(() => rows(page).count(), { timeout: 15_000 }).toBe(50);
    await page.getByTestId("filter-phase").locator('input[value="FAILED"]').check();
    await expect.poll(() => rows(page).count(), { timeout: 15_000 }).toBe(1);
    expect(await rows(page).first().getAttribute("data-name")).toBe("the-failing-one");
    expect(new URL(page.url()).search).toContain("FAILED");
    expect(errors).toEqual([]);
  });
});
