// The console in chromium against a server on durable Postgres: (1) the execution page of a finished 1,000-node
// workflow — time from navigation until the graph shows every node, and until every node shows its phase; (2) the
// executions list of 100,000 executions — page 1 on opening the list, then Next/Previous at the start of the list vs
// ~1,000 pages in (following the server's keyset tokens, as the page does). Rounds alternate; medians of the rounds
// with their ranges. Run: npm run bench:console
import fs from "node:fs";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Knex } from "knex";
import type { Browser, Page } from "playwright-core";
import { WorkflowExecution_Phase as W } from "../../gen/flyteidl/core/execution_pb.js";
import type { Node } from "../../gen/flyteidl/core/workflow_pb.js";
import { AdminService } from "../../gen/flyteidl/service/admin_pb.js";
import { startPetrel } from "../../server/app.js";
import { loadConfig } from "../../server/config.js";
import { createLogger } from "../../server/logger.js";
import {
  DOMAIN,
  executionPage,
  launchConsoleWorkflow,
  CONSOLE_PROJECT as P,
  registerConsoleWorkflows,
} from "../fixtures/console-workflows.js";
import {
  bind,
  intType,
  launchPlanId,
  taskId,
  taskNode,
  workflowId,
  workflowTemplate,
} from "../fixtures/flyte-builders.js";
import { buildTestConsole, launchBrowser } from "../support/chromium.js";
import { scratchPostgres, writeSection } from "./bench-support.js";
import { median, over, type Spread, scaled, showMs, target } from "./stats.js";

const NODES = 1000;
const WIDTH = 10; // nodes per layer: node i waits for node i - WIDTH
const EXECUTIONS = scaled(100_000, 5_000);
const PAGE_SIZE = 50; // the console's executions page
const DEPTH = scaled(1000, 40); // the deep page
const ROUNDS = scaled(5, 2);
const STEPS = scaled(10, 3); // Next/Previous pairs per position and round

/** In the page: clicks Next or Previous and resolves with the ms until the list shows other rows. */
const STEP = `async (dir) => {
  const first = () => document.querySelector('[data-testid="execution-row"]')?.getAttribute("data-name");
  const before = first();
  const t0 = performance.now();
  const shown = new Promise((resolve) => {
    const seen = new MutationObserver(() => {
      const now = first();
      if (now !== undefined && now !== before) {
        seen.disconnect();
        resolve(performance.now() - t0);
      }
    });
    seen.observe(document.body, { childList: true, subtree: true, attributes: true });
  });
  document.querySelector('[data-testid="' + dir + '-page"]').click();
  return shown;
}`;

const step = async (page: Page, dir: "next" | "prev") => Number(await page.evaluate(`(${STEP})("${dir}")`));

/** Opens `url` in a fresh context; ms from navigation until `ready` (a page expression) holds, then the page. */
async function openUntil(browser: Browser, url: string, ready: string): Promise<[number, Page]> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(url, { waitUntil: "commit" });
  const at = await page.waitForFunction(`(${ready}) ? performance.now() : false`, undefined, {
    polling: 5,
    timeout: 60_000,
  });
  return [Number(await at.jsonValue()), page];
}

/** Copies finished execution `from` into `n` executions, each created 1 ms before the last. */
async function seedExecutions(db: Knex, from: string, n: number): Promise<void> {
  const cols = (
    await db.raw<{ rows: { column_name: string }[] }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'executions' AND column_name NOT IN ('id', 'execution_name', 'created_at', 'execution_created_at')",
    )
  ).rows.map((r) => `"${r.column_name}"`);
  const at = "now() - interval '1 hour' - (g || ' milliseconds')::interval";
  await db.raw(
    `INSERT INTO executions (${cols.join(", ")}, execution_name, created_at, execution_created_at)
     SELECT ${cols.map((c) => `t.${c}`).join(", ")}, 'seed-' || g, ${at}, ${at}
       FROM executions t, generate_series(1, ?) g WHERE t.execution_name = ?`,
    [n, from],
  );
  await db.raw("ANALYZE executions");
}

/** A workflow of NODES echo nodes, WIDTH at a time. */
async function registerBigWorkflow(admin: Client<typeof AdminService>): Promise<void> {
  const echo = taskId("echo", "v1", P);
  const nodes: Node[] = Array.from({ length: NODES }, (_, i) =>
    taskNode(`n${i}`, echo, [i < WIDTH ? bind("a", "", "x") : bind("a", `n${i - WIDTH}`, "a")]),
  );
  const template = workflowTemplate({ inputs: { x: intType() }, nodes });
  await admin.createWorkflow({ id: workflowId("big", "v1", P), spec: { template } });
  await admin.createLaunchPlan({
    id: launchPlanId("big", "v1", P),
    spec: { workflowId: workflowId("big", "v1", P) },
  });
}

async function finished(admin: Client<typeof AdminService>, name: string): Promise<void> {
  for (;;) {
    const e = await admin.getExecution({ id: { project: P, domain: DOMAIN, name } });
    if (e.closure?.phase === W.SUCCEEDED) return;
    if (e.closure?.phase === W.FAILED) throw new Error(`${name} failed`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const pg = await scratchPostgres();
const consoleDir = await buildTestConsole();
const config = loadConfig([], {
  PETREL_GRPC_PORT: "0",
  PETREL_HTTP_PORT: "0",
  PETREL_HOST: "127.0.0.1",
  DATABASE_URL: pg.url,
  PETREL_HOME: pg.home,
  PETREL_LOG_LEVEL: "warn",
});
const server = await startPetrel(config, createLogger("warn"), { consoleDir });
const browser = await launchBrowser();
try {
  const admin = createClient(
    AdminService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` }),
  );
  const base = `http://127.0.0.1:${server.httpPort}`;
  await registerConsoleWorkflows(admin);
  await registerBigWorkflow(admin);
  const big = await launchConsoleWorkflow(admin, "big", 1);
  const template = await launchConsoleWorkflow(admin, "quick", 1);
  await finished(admin, big);
  await finished(admin, template);
  await seedExecutions(server.db, template, EXECUTIONS - 2);

  const list = `${base}/console/projects/${P}/domains/${DOMAIN}/executions`;
  const rows = `document.querySelectorAll('[data-testid="execution-row"]').length >= ${PAGE_SIZE}`;
  const nodes = `document.querySelectorAll('[data-testid="graph-node"]')`;
  const drawn = `${nodes}.length >= ${NODES}`;
  const coloured = `[...${nodes}].filter((n) => n.getAttribute("data-phase") === "SUCCEEDED").length >= ${NODES}`;
  // The deep page: reached once by clicking Next, as a user would (each click follows the page's token).
  const [, deep] = await openUntil(browser, list, rows);
  for (let i = 1; i < DEPTH; i++) await step(deep, "next");
  const deepLabel = await deep.locator("nav.pager .muted").textContent();
  if (deepLabel !== `Page ${DEPTH}`) throw new Error(`expected page ${DEPTH}, the pager says ${deepLabel}`);
  const [, shallow] = await openUntil(browser, list, rows);

  interface Round {
    readonly graphDrawn: number;
    readonly graphColoured: number;
    readonly listOpened: number;
    readonly nextAtStart: number;
    readonly nextDeep: number;
  }
  const rounds: Round[] = [];
  const steps = async (page: Page) => {
    const times: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      times.push(await step(page, "next"));
      await step(page, "prev");
    }
    return median(times);
  };
  for (let r = 0; r < ROUNDS; r++) {
    const [graphDrawn, graphPage] = await openUntil(browser, `${base}${executionPage(big)}`, drawn);
    const graphColoured = Number(
      await (
        await graphPage.waitForFunction(`(${coloured}) ? performance.now() : false`, undefined, {
          polling: 5,
        })
      ).jsonValue(),
    );
    await graphPage.context().close();
    const [listOpened, listPage] = await openUntil(browser, list, rows);
    await listPage.context().close();
    rounds.push({
      graphDrawn,
      graphColoured,
      listOpened,
      nextAtStart: await steps(shallow),
      nextDeep: await steps(deep),
    });
  }

  const o = (f: (r: Round) => number): Spread => over(rounds, f);
  const drawnMs = o((r) => r.graphDrawn);
  const slowdown = o((r) => r.nextDeep / r.nextAtStart);
  const body = `Script: \`test/bench/console.bench.ts\` (\`npm run bench:console\`). Headless Debian chromium (playwright-core) on the
console built by Vite, served by the server in the same process; Postgres embedded and durable. ${ROUNDS} rounds; medians
of the rounds (range in parentheses). Times are the page's own clock from navigation start (so they include loading the
HTML, the script and the data), or from the click.

| execution page of a finished ${NODES.toLocaleString("en")}-node workflow (${NODES / WIDTH} layers of ${WIDTH}) | time |
|---|---|
| every node drawn | ${showMs(drawnMs)} |
| every node coloured by its phase | ${showMs(o((r) => r.graphColoured))} |

| executions list, ${EXECUTIONS.toLocaleString("en")} executions, ${PAGE_SIZE} a page | time |
|---|---|
| open the list: page 1 shown | ${showMs(o((r) => r.listOpened))} |
| Next at page 1 (median of ${STEPS} per round) | ${showMs(o((r) => r.nextAtStart))} |
| Next at page ${DEPTH.toLocaleString("en")} (row ${(DEPTH * PAGE_SIZE).toLocaleString("en")}) | ${showMs(o((r) => r.nextDeep))} |

${target(`the ${NODES}-node graph drawn in under 1 s: ${showMs(drawnMs)}`, drawnMs.median < 1000)}
- Next at page ${DEPTH} / Next at page 1: **${slowdown.median.toFixed(2)}×** (${slowdown.min.toFixed(2)}–${slowdown.max.toFixed(2)}; ≈ 1: a deep page costs what the first costs)`;
  writeSection("Console: the execution page and the executions list in chromium", body);
  console.log(body);
} finally {
  await browser.close();
  await server.stop();
  await pg.stop();
  fs.rmSync(consoleDir, { recursive: true, force: true });
}
