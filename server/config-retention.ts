// The retention setting of server/config.ts: how long finished executions are kept (server/retention).
export interface RetentionConfig {
  /** Executions last updated more than this many days ago are deleted with their blobs; 0 keeps them forever. */
  readonly retainExecutionsDays: number;
}

type Read = (key: keyof RetentionConfig) => { value: string; source: string } | undefined;

/** A hundred years: anything longer is forever (0). */
const MAX_DAYS = 36_500;

export function readRetentionSettings(read: Read, problems: string[]): RetentionConfig {
  const days = read("retainExecutionsDays");
  if (days === undefined) return { retainExecutionsDays: 0 };
  const n = /^\d+$/.test(days.value) ? Number(days.value) : Number.NaN;
  if (!(n <= MAX_DAYS)) {
    problems.push(
      `${days.source}: "${days.value}" is not a number of days (a whole number up to ${MAX_DAYS}; 0 keeps executions forever)`,
    );
    return { retainExecutionsDays: 0 };
  }
  return { retainExecutionsDays: n };
}
