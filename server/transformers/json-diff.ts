// Readable differences between two JSON documents, in Flyte's "different structure" format:
// `<json-pointer>:\n\t- <old> \n\t+ <new>` per changed path.
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function flatten(value: Json, pointer: string, out: Map<string, string>): void {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value);
    if (entries.length === 0) out.set(pointer, JSON.stringify(value));
    for (const [k, v] of entries) flatten(v, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, out);
    return;
  }
  out.set(pointer, JSON.stringify(value));
}

export function jsonDiff(before: unknown, after: unknown): string {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before as Json, "", a);
  flatten(after as Json, "", b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const blocks: string[] = [];
  for (const p of paths) {
    const x = a.get(p);
    const y = b.get(p);
    if (x === y) continue;
    blocks.push(`${p}:\n\t- ${x ?? ""} \n\t+ ${y ?? ""}`);
  }
  return blocks.join("\n");
}
