// The console's browser tests: a real server serving a console build of the test file's own, and chromium
// (chromium.ts); pages close when their test ends, with a screenshot under test/output/console/ when it failed.
import fs from "node:fs";
import type { Browser, Page } from "playwright-core";
import { onTestFinished } from "vitest";
import { buildTestConsole, launchBrowser, screenshot } from "./chromium.js";
import { startTestServer, type TestServer, type TestServerOptions } from "./test-server.js";

export { screenshot } from "./chromium.js";

export interface ConsolePage {
  readonly page: Page;
  /** Uncaught exceptions of the page's scripts so far. */
  readonly errors: string[];
}

export interface ConsoleHarness {
  readonly t: TestServer;
  readonly browser: Browser;
  /** The HTTP port's base URL. */
  readonly httpBase: string;
  /** The gRPC port's base URL: flytekit's console links lead there. */
  readonly grpcBase: string;
  /**
   * A fresh browser context (no stored token) with a page at `base + urlPath` (base: the HTTP port), closed when the
   * running test ends; should the test fail, the page's screenshot is saved first, as `failed-<test name>.png`.
   */
  open(urlPath: string, base?: string, viewport?: { width: number; height: number }): Promise<ConsolePage>;
  stop(): Promise<void>;
}

/** A test server serving a fresh console build, and a browser. */
export async function startConsoleHarness(opts: TestServerOptions = {}): Promise<ConsoleHarness> {
  const [dir, browser] = await Promise.all([buildTestConsole(), launchBrowser()]);
  let t: TestServer;
  try {
    t = await startTestServer({ ...opts, start: { ...opts.start, consoleDir: dir } });
  } catch (err) {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const httpBase = t.httpBaseUrl;
  return {
    t,
    browser,
    httpBase,
    grpcBase: `http://${t.grpcAddress}`,
    async open(urlPath, base = httpBase, viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      onTestFinished(async ({ task }) => {
        if (task.result?.state === "fail")
          await screenshot(page, `failed-${task.name.replace(/\W+/g, "-").slice(0, 80)}`);
        await context.close();
      });
      await page.goto(`${base}${urlPath}`);
      return { page, errors };
    },
    async stop() {
      await browser.close();
      await t.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
