// The notification hub against a real Postgres: tokened notifications published in-process are delivered once,
// whichever copy (in-process or over LISTEN) comes first; others pass through unchanged.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotificationHub } from "../../server/db/notifications.js";
import { createLogger } from "../../server/logger.js";
import { eventually } from "../support/eventually.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const CHANNEL = "petrel_test_channel";
let database: TestDatabase;
let hub: NotificationHub;
let sender: pg.Client;
const heard: string[] = [];
const heardKeyed: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  hub = new NotificationHub(database.url, [CHANNEL], createLogger("error"));
  await hub.start();
  hub.subscribe(CHANNEL, (p) => heard.push(p));
  hub.subscribePayload(CHANNEL, "42", (p) => heardKeyed.push(p));
  sender = new pg.Client({ connectionString: database.url });
  await sender.connect();
});
afterAll(async () => {
  await sender?.end();
  await hub?.stop();
  await database?.drop();
});

const notify = (payload: string) => sender.query("SELECT pg_notify($1, $2)", [CHANNEL, payload]);

describe("NotificationHub", () => {
  it("delivers a tokened notification once, in-process first or over LISTEN first", async () => {
    hub.publishLocal(CHANNEL, "42", "a.1");
    expect(heardKeyed).toEqual(["42"]);
    await notify("42#a.1"); // its copy over LISTEN: dropped
    await notify("42#a.2"); // LISTEN first: delivered without its token ...
    await eventually(
      async () => [...heardKeyed],
      (h) => h.length === 2,
    );
    hub.publishLocal(CHANNEL, "42", "a.2"); // ... and the in-process copy is dropped
    await notify("42"); // untokened: always delivered
    await notify("7#a.3");
    await eventually(
      async () => [...heard],
      (h) => h.length === 4,
    );
    expect(heardKeyed).toEqual(["42", "42", "42"]);
    expect(heard).toEqual(["42", "42", "42", "7"]);
  });
});
