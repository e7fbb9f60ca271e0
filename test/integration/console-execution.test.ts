// The console's execution page in chromium, reached the way users reach it: flytekit's links (on the gRPC port) and
// the HTTP port's. Its graph's nodes change colour as the execution runs, without a reload; a gate is approved from
// the page; a failed node shows its error and its logs.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  executionPage,
  launchConsoleWorkflow,
  registerConsoleWorkflows,
} from "../fixtures/console-workflows.js";
import { type ConsoleHarness, screenshot, startConsoleHarness } from "../support/browser.js";

let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsoleHarness();
  await registerConsoleWorkflows(h.t.admin);
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const node = (page: Page, id: string) => page.locator(`[data-testid="graph-node"][data-node-id="${id}"]`);

/** The colour the node is drawn in (its phase's, set on the node's box). */
async function colourOf(page: Page, id: string): Promise<string | undefined> {
  const style = await node(page, id).locator("xpath=..").getAttribute("style");
  return /--phase:\s*([^;]+)/.exec(style ?? "")?.[1]?.trim();
}

async function phaseOf(page: Page, id: string): Promise<string | null> {
  return node(page, id).getAttribute("data-phase");
}

describe("the execution page", () => {
  it("opens from flytekit's link on the gRPC port, colours nodes live, and approves the gate", async () => {
    const name = await launchConsoleWorkflow(h.t.admin, "gated", 5);
    const { page, errors } = await h.open(executionPage(name), h.grpcBase);
    await page.getByTestId("graph").waitFor();
    // A marker that a reload would lose.
    await page.evaluate("window.petrelMarker = 'same page'");
    await expect.poll(() => phaseOf(page, "n0"), { timeout: 30_000 }).toBe("SUCCEEDED");
    await expect.poll(() => phaseOf(page, "review"), { timeout: 30_000 }).toBe("RUNNING");
    expect(await phaseOf(page, "n1")).not.toBe("SUCCEEDED");
    const waiting = await colourOf(page, "n1");
    await screenshot(page, "execution-waiting-for-approval");

    await page.getByTestId("signal-ok").getByTestId("signal-approve").click();
    await expect.poll(() => phaseOf(page, "n1"), { timeout: 30_000 }).toBe("SUCCEEDED");
    await expect
      .poll(() => page.getByTestId("execution-phase").getAttribute("data-phase"), { timeout: 30_000 })
      .toBe("SUCCEEDED");
    expect(waiting).toBeDefined();
    expect(await colourOf(page, "n1")).not.toBe(waiting);
    expect(await colourOf(page, "n1")).toBe(await colourOf(page, "n0"));
    expect(await page.evaluate("window.petrelMarker")).toBe("same page");
    await page.getByTestId("timeline").waitFor();
    await screenshot(page, "execution-succeeded");
    expect(errors).toEqual([]);
  });

  it("opens from the HTTP port's link and shows a failed node's error and logs", async () => {
    const name = await launchConsoleWorkflow(h.t.admin, "failing", 7);
    const { page, errors } = await h.open(executionPage(name));
    await expect
      .poll(() => page.getByTestId("execution-phase").getAttribute("data-phase"), { timeout: 30_000 })
      .toBe("FAILED");
    await expect.poll(() => phaseOf(page, "n0"), { timeout: 30_000 }).toBe("FAILED");
    await node(page, "n0").click();
    const panel = page.getByTestId("node-panel");
    await panel.waitFor();
    await expect.poll(() => panel.getByTestId("node-error").textContent()).toMatch(/\S/);
    const logs = panel.getByTestId("node-logs");
    // stdout and stderr load apart: wait for each.
    await expect.poll(() => logs.textContent(), { timeout: 15_000 }).toContain("broken input: 7");
    await expect.poll(() => logs.textContent(), { timeout: 15_000 }).toContain("about to fail");
    await screenshot(page, "execution-failed-node");
    expect(errors).toEqual([]);
  });

  it("works from the keyboard and on a phone's screen: Tab to a node, Enter opens it, nothing overflows", async () => {
    const name = await launchConsoleWorkflow(h.t.admin, "failing", 3);
    const { page, errors } = await h.open(executionPage(name), h.httpBase, { width: 390, height: 844 });
    await expect.poll(() => phaseOf(page, "n0"), { timeout: 30_000 }).toBe("FAILED");
    // Keyboard only: Tab until the node has the focus, then Enter.
    let focused = false;
    for (let i = 0; i < 60 && !focused; i++) {
      await page.keyboard.press("Tab");
      focused = (await page.evaluate('document.activeElement?.getAttribute("data-node-id")')) === "n0";
    }
    expect(focused).toBe(true);
    await page.keyboard.press("Enter");
    const panel = page.getByTestId("node-panel");
    await panel.waitFor();
    await expect.poll(() => panel.getByTestId("node-error").textContent()).toMatch(/\S/);
    // Readable on a phone: the page itself does not scroll sideways (the graph scrolls within its own box).
    const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "execution-phone");
    expect(errors).toEqual([]);
  });
});
