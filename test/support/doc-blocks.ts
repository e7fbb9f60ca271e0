// The TypeScript blocks of the docs, as programs: each ```ts block with the hidden code an HTML comment before it
// gives (`<!-- doctest: setup … -->`, run first; `<!-- doctest: after … -->`, run last), its `petrel/client`
// imports pointed at the sources and `localhost:8089` at the server the doc tests start.
import fs from "node:fs";
import path from "node:path";

export interface DocBlock {
  /** `README.md:47`: the file and the line of the opening fence. */
  readonly where: string;
  readonly setup: string;
  readonly code: string;
  readonly after: string;
}

const COMMENT = /^<!--\s*doctest:\s*(setup|after)\s*\n([\s\S]*)-->$/;

/** The ```ts blocks of a markdown file, each with the doctest comments right before it (blank lines between). */
export function docBlocks(file: string, relative: string): DocBlock[] {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```ts") continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === "```");
    if (end < 0) throw new Error(`${relative}:${i + 1}: a \`\`\`ts block that never ends`);
    const hidden = { setup: "", after: "" };
    // Comments directly above the fence, innermost last: `<!-- doctest: setup … -->` blocks.
    let above = lines.slice(0, i).join("\n").trimEnd();
    while (above.endsWith("-->")) {
      const start = above.lastIndexOf("<!--");
      const m = COMMENT.exec(above.slice(start));
      if (m === null) break;
      const kind = m[1] as "setup" | "after";
      hidden[kind] = `${m[2] ?? ""}\n${hidden[kind]}`;
      above = above.slice(0, start).trimEnd();
    }
    blocks.push({
      where: `${relative}:${i + 1}`,
      setup: hidden.setup,
      code: lines.slice(i + 1, end).join("\n"),
      after: hidden.after,
    });
    i = end;
  }
  return blocks;
}

/**
 * The block as a module: imports first (setup's and the block's, the names each imports from a module merged), then
 * setup, the block and `after`.
 */
export function docProgram(block: DocBlock, clientEntry: string, endpoint: string): string {
  const lines = [block.setup, block.code, block.after].join("\n").split("\n");
  const named = new Map<string, Set<string>>();
  const other = new Set<string>();
  const body: string[] = [];
  for (const l of lines) {
    if (!/^import\s/.test(l)) {
      body.push(l);
      continue;
    }
    const m = /^import\s+\{([^}]*)\}\s+from\s+("[^"]+");?\s*$/.exec(l);
    if (m !== null) {
      const names = named.get(m[2] as string) ?? new Set<string>();
      for (const n of (m[1] as string).split(",")) if (n.trim() !== "") names.add(n.trim());
      named.set(m[2] as string, names);
    } else if (/\sfrom\s+"[^"]+";?\s*$/.test(l)) other.add(l);
    else throw new Error(`${block.where}: write imports on one line (${l})`);
  }
  const imports = [
    ...other,
    ...[...named].map(([from, names]) => `import { ${[...names].join(", ")} } from ${from};`),
  ];
  return `${imports.join("\n")}\n${body.join("\n")}\n`
    .replaceAll('"petrel/client"', JSON.stringify(clientEntry))
    .replaceAll("localhost:8089", endpoint);
}

/** Every ```ts block of README.md and docs/*.md. */
export function allDocBlocks(root: string): DocBlock[] {
  const docs = fs
    .readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => path.join("docs", f));
  return ["README.md", ...docs].flatMap((f) => docBlocks(path.join(root, f), f));
}
