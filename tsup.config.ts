import type { Plugin } from "esbuild";
import { defineConfig } from "tsup";

const zodWithoutLocales: Plugin = {
  name: "zod-without-locales",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(args.importer) ? { path: "zod-locales", namespace: "zod-without-locales" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-without-locales" }, () => ({ contents: "export {};", loader: "js" }));
  },
};

export default defineConfig({
  entry: { index: "src/index.ts", cli: "src/cli/main.ts", "isolate-worker": "src/js/isolate-worker.ts", "isolate-host": "src/js/isolate-host.ts", "queue-engine": "src/queue/engine-thread.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  // Minified: a cold start parses and compiles about 40 % less source (1.5 MB → 0.9 MB), which is
  // most of what `atomiton run` spends before the first node. The source maps map names back; names
  // are not kept (esbuild's keepNames re-labels every function at load: 10 ms of a 360 ms start), and
  // nothing depends on them (error classes set `name` themselves).
  minify: true,
  clean: true,
  splitting: true,
  treeshake: true,
  // The libraries every start needs are bundled: one file to compile instead of a few hundred
  // small ESM modules (zod alone is ~150), which is most of a cold start. Heavy ones stay external
  // and are loaded with import() where used (listr2, ora, chokidar, execa, sharp, jiti, csv-parse…).
  noExternal: ["zod", "yaml", "js-yaml", "commander", "chalk"],
  // yaml and commander are CommonJS: give the ESM bundle a real `require` for their built-in imports.
  // zod re-exports all 64 of its message locales as `z.locales` and `z.core.locales`; nothing here
  // uses them (English, the default, is installed by zod's schemas module itself). Only those two
  // re-exports are cut: both namespaces are empty in the bundle.
  esbuildPlugins: [zodWithoutLocales],
  banner: { js: 'import { createRequire as __atomitonCreateRequire } from "node:module"; const require = __atomitonCreateRequire(import.meta.url);' },
});
