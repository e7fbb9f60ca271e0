// Deterministic request fuzzing: the mutations of a valid base request, one field at a time, chosen by a seeded PRNG
// from its field paths (fuzz-paths.ts) and the hostile values of each field (fuzz-values.ts).
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { type FieldPath, fieldPaths, valueAt } from "./fuzz-paths.js";
import { type Hostile, hostilesFor } from "./fuzz-values.js";

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export interface Mutation {
  readonly path: FieldPath;
  readonly hostile: Hostile;
}

/**
 * At most `cap` mutations of `base`, chosen deterministically: first one value for every path (paths the base sets
 * first), then further values round by round. Paths the base leaves unset get at most two values.
 */
export function planMutations(
  desc: DescMessage,
  base: Message,
  cap: number,
  random: () => number,
): Mutation[] {
  const paths = fieldPaths(desc, base);
  const set = shuffle(
    paths.filter((p) => p.set),
    random,
  );
  const unset = shuffle(
    paths.filter((p) => !p.set),
    random,
  );
  const queues = [...set, ...unset].map(({ path, set: isSet }) => {
    const values = shuffle(hostilesFor(path, valueAt(base, path)), random);
    return { path, values: isSet ? values : values.slice(0, 2) };
  });
  const out: Mutation[] = [];
  for (let round = 0; out.length < cap; round++) {
    let added = 0;
    for (const q of queues) {
      const h = q.values[round];
      if (h === undefined) continue;
      out.push({ path: q.path, hostile: h });
      added++;
      if (out.length >= cap) break;
    }
    if (added === 0) break;
  }
  return out;
}
