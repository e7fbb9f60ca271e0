// The "Targets from this run" section of BENCHMARKS.md: every target line of the other sections, gathered (run-all.ts
// writes it after a run; `npx tsx test/bench/target-lines.ts` writes it again after a section was re-run alone).
import fs from "node:fs";
import { BENCHMARKS_FILE, writeSection } from "./bench-support.js";

/** The list items of each section that state a target as met / not met. */
function targetLines(markdown: string): string[] {
  return markdown
    .split(/\n(?=## )/)
    .filter((s) => s.startsWith("## ") && !s.startsWith("## Targets from this run"))
    .flatMap((s) => {
      const title = s.slice(3, s.indexOf("\n"));
      const lines = s.split("\n").filter((l) => /^- .*target/i.test(l) && /\bmet\b/.test(l));
      return lines.length === 0 ? [] : [`**${title}**`, "", ...lines, ""];
    });
}

export function gatherTargets(): void {
  writeSection(
    "Targets from this run",
    `Every target line of the sections above, gathered:\n\n${targetLines(fs.readFileSync(BENCHMARKS_FILE, "utf8")).join("\n")}`,
  );
}

if (process.argv[1]?.endsWith("target-lines.ts")) gatherTargets();
