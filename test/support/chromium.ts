// Debian's chromium (headless) through playwright-core, a console build of one's own, and screenshots: shared by the
// browser tests (browser.ts) and the console benchmark. The package's dist/console is not used: it may be rebuilt
// under a running suite (the package test runs `npm run build`).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { buildConsole } from "../../scripts/ensure-console.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Where screenshots go (not committed). */
export const SCREENSHOTS = path.join(ROOT, "test", "output", "console");
/** Debian's chromium (scripts/ci-chromium.sh installs it); PETREL_CHROMIUM names another binary. */
const CHROMIUM = process.env.PETREL_CHROMIUM ?? "/usr/bin/chromium";

/** Builds the console into a new temporary directory (the caller removes it). */
export async function buildTestConsole(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-console-dist-"));
  await buildConsole(dir, "error");
  return dir;
}

export function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `no chromium at ${CHROMIUM}: install Debian's (scripts/ci-chromium.sh) or set PETREL_CHROMIUM`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** Saves a full-page screenshot as test/output/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
