#!/usr/bin/env node
// The `petrel` command. An installed package runs the compiled JavaScript in dist/; a source checkout (client/*.ts
// beside this directory, tsx installed as a dev dependency) runs the TypeScript sources through tsx's loader.
import { existsSync, readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const args = process.argv.slice(2);

/** Registers tsx's loader when it is installed (beside this package, or above it in the project); false if not. */
async function registerTsx() {
  let api;
  try {
    api = await import("tsx/esm/api");
  } catch (err) {
    if (err?.code === "ERR_MODULE_NOT_FOUND") return false;
    throw err;
  }
  api.register();
  return true;
}

const fromSource = existsSync(new URL("client/cli/main.ts", root)) && (await registerTsx());
const base = fromSource ? root : new URL("dist/", root);
const ext = fromSource ? "ts" : "js";

if (args[0] === "serve") {
  let serve;
  try {
    ({ serve } = await import(new URL(`server/main.${ext}`, base).href));
  } catch (err) {
    // The server's dependencies are optional peer dependencies of the package: say which to install.
    const names = Object.keys(pkg.peerDependencies ?? {});
    const missing = names.some((name) => String(err?.message).includes(`'${name}'`));
    if (err?.code !== "ERR_MODULE_NOT_FOUND" || !missing) throw err;
    process.stderr.write(
      `petrel: \`petrel serve\` needs the server's dependencies: npm install ${names.join(" ")}\n`,
    );
    process.exit(1);
  }
  await serve(args.slice(1));
} else {
  // `register`/`worker` import the user's module: a TypeScript one needs a loader (tsx when installed, else Node's
  // own type stripping where it has it).
  const userModule = args.some((a) => /\.[cm]?ts$/.test(a));
  if (!fromSource && userModule && (args.includes("register") || args.includes("worker")))
    await registerTsx();
  const { main } = await import(new URL(`client/cli/main.${ext}`, base).href);
  process.exitCode = await main(args);
}
