// The ordered list of forward-only migrations; each file holds one concern.
import type { Knex } from "knex";
import * as m0001 from "./0001-projects.js";
import * as m0002 from "./0002-registry.js";
import * as m0003 from "./0003-named-entities.js";
import * as m0004 from "./0004-resource-attributes.js";
import * as m0005 from "./0005-executions.js";
import * as m0006 from "./0006-work-items.js";
import * as m0007 from "./0007-signals.js";
import * as m0008 from "./0008-task-cache.js";
import * as m0009 from "./0009-cache-reservations.js";
import * as m0010 from "./0010-worker-queues.js";
import * as m0011 from "./0011-schedules.js";
import * as m0012 from "./0012-execution-name-index.js";
import * as m0013 from "./0013-work-item-ready-indexes.js";
import * as m0014 from "./0014-blob-outbox.js";
import * as m0015 from "./0015-dynamic-workflows.js";
import * as m0016 from "./0016-signal-principals.js";
import * as m0017 from "./0017-outbox-messages.js";
import * as m0018 from "./0018-retention.js";
import * as m0019 from "./0019-small-set-functions.js";

interface Migration {
  readonly up: (db: Knex) => Promise<void>;
}

const MIGRATIONS: ReadonlyArray<readonly [string, Migration]> = [
  ["0001-projects", m0001],
  ["0002-registry", m0002],
  ["0003-named-entities", m0003],
  ["0004-resource-attributes", m0004],
  ["0005-executions", m0005],
  ["0006-work-items", m0006],
  ["0007-signals", m0007],
  ["0008-task-cache", m0008],
  ["0009-cache-reservations", m0009],
  ["0010-worker-queues", m0010],
  ["0011-schedules", m0011],
  ["0012-execution-name-index", m0012],
  ["0013-work-item-ready-indexes", m0013],
  ["0014-blob-outbox", m0014],
  ["0015-dynamic-workflows", m0015],
  ["0016-signal-principals", m0016],
  ["0017-outbox-messages", m0017],
  ["0018-retention", m0018],
  ["0019-small-set-functions", m0019],
];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS.map(([, m]) => m),
  getMigrationName: (m) => MIGRATIONS.find(([, x]) => x === m)?.[0] ?? "unknown",
  getMigration: async (m) => ({ up: m.up, down: async () => undefined }),
};
