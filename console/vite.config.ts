// The console's build: sources in console/, generated clients imported from ../gen, output in dist/console (served by
// the server at /console). `PETREL_URL=http://127.0.0.1:<http port> npx vite --config console/vite.config.ts` runs
// it in development against a running server.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = import.meta.dirname;
const server = process.env.PETREL_URL ?? "http://127.0.0.1:8088";

export default defineConfig({
  root: here,
  base: "/console/",
  plugins: [react()],
  build: { outDir: "../dist/console", emptyOutDir: true },
  server: {
    fs: { allow: [`${here}/..`] },
    proxy: { "^/(flyteidl|petrel)\\.": { target: server, changeOrigin: true } },
  },
});
