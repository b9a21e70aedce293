import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", cli: "src/cli/main.ts", "isolate-worker": "src/conductor/isolate-worker.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  // Dependencies stay external: heavy ones (listr2, ora, chokidar, execa, sharp) are loaded lazily with import().
});
