#!/usr/bin/env node
// The `petrel` command: runs the TypeScript sources through tsx's loader.
import { register } from "tsx/esm/api";

register();
const [command, ...rest] = process.argv.slice(2);
if (command === "serve") {
  const { serve } = await import("../server/main.ts");
  await serve(rest);
} else {
  const { main } = await import("../client/cli/main.ts");
  process.exitCode = await main(process.argv.slice(2));
}
