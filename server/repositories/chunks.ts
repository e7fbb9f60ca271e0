// Multi-row statements in chunks: Postgres allows at most 65,535 bind parameters per statement, so a batch of
// thousands of rows (a map task's elements) is written as several statements.
const MAX_PARAMS = 60_000;

export async function chunked<R, T>(
  rows: readonly R[],
  paramsPerRow: number,
  write: (chunk: readonly R[]) => Promise<T[]>,
): Promise<T[]> {
  const size = Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, paramsPerRow)));
  if (rows.length <= size) return write(rows);
  const out: T[] = [];
  for (let i = 0; i < rows.length; i += size) out.push(...(await write(rows.slice(i, i + size))));
  return out;
}
