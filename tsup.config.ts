import { readFile } from "node:fs/promises";
import type { Plugin } from "esbuild";
import { defineConfig, type Options } from "tsup";

const zodWithoutLocales: Plugin = {
  name: "zod-without-locales",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(args.importer) ? { path: "zod-locales", namespace: "zod-without-locales" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-without-locales" }, () => ({ contents: "export {};", loader: "js" }));
  },
};

// V8 forgets a script's import() callback when the script comes from a code cache (Node 20: "A dynamic
// import callback was not specified"), so the CLI bundle cannot call import() itself. In its own
// sources, each import() of a package or a computed specifier becomes `__atomitonImport(…)`, which
// src/cli/compile-cache.ts passes in (a plain import() of src/cli/main.ts, an ES module in dist/).
// Relative imports and bundled packages stay: esbuild inlines them. `typeof import("x")` types and
// `x.import(…)` calls are not import(); test/e2e/compile-cache.test.ts checks that the bundle has no
// other import() left. (v8-compile-cache, the library for this, patches every require() of the
// process and has the same import() problem; Node 22's module.enableCompileCache is not in Node 20.)
const BUNDLED = ["zod", "yaml", "js-yaml", "commander", "chalk"];
const throughLoader = new RegExp(`(?<![.\\w$]|typeof )import\\((?!\\s*\\)|\\s*["'](?:\\.|(?:${BUNDLED.join("|")})["'/]))`, "g");
const importThroughLoader: Plugin = {
  name: "import-through-loader",
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      return { contents: source.replace(throughLoader, "__atomitonImport("), loader: "ts" };
    });
  },
};

// Shared by both builds below.
const common = {
  target: "node20",
  platform: "node",
  sourcemap: true,
  // Minified: a cold start parses and compiles about 40 % less source (1.5 MB → 0.9 MB), which is
  // most of what `atomiton run` spends before the first node. The source maps map names back; names
  // are not kept (esbuild's keepNames re-labels every function at load: 10 ms of a 360 ms start), and
  // nothing depends on them (error classes set `name` themselves).
  minify: true,
  treeshake: true,
  // The libraries every start needs are bundled: one file to compile instead of a few hundred
  // small ESM modules (zod alone is ~150), which is most of a cold start. Heavy ones stay external
  // and are loaded with import() where used (listr2, ora, chokidar, execa, sharp, jiti, csv-parse…).
  noExternal: BUNDLED,
  // zod re-exports all 64 of its message locales as `z.locales` and `z.core.locales`; nothing here
  // uses them (English, the default, is installed by zod's schemas module itself). Only those two
  // re-exports are cut: both namespaces are empty in the bundle.
  esbuildPlugins: [zodWithoutLocales],
} satisfies Options;

export default defineConfig([
  {
    ...common,
    // The library (index), the worker threads' and child processes' entries, and the CLI's small ESM entry (cli: the
    // `--version` answer and the loader of the bundle below).
    entry: { index: "src/index.ts", cli: "src/cli/main.ts", "isolate-worker": "src/js/isolate-worker.ts", "isolate-host": "src/js/isolate-host.ts", "queue-engine": "src/queue/engine-thread.ts", "sqlite-host": "src/nodes/builtin/sqlite-host.ts" },
    format: ["esm"],
    dts: { entry: { index: "src/index.ts" } },
    splitting: true,
    // yaml and commander are CommonJS: give the ESM bundle a real `require` for their built-in imports.
    banner: { js: 'import { createRequire as __atomitonCreateRequire } from "node:module"; const require = __atomitonCreateRequire(import.meta.url);' },
  },
  {
    ...common,
    // The CLI itself: one CommonJS file, which src/cli/compile-cache.ts compiles with a V8 code cache
    // (Node 20 has no `module.enableCompileCache`, and V8 caches whole scripts, not ES modules).
    // Its internal import()s are inlined; external ones stay import(). `shims` maps import.meta.url
    // to this file's URL: the worker entries and package.json are found beside it as from dist/cli.js.
    entry: { "cli-bundle": "src/cli/start.ts" },
    format: ["cjs"],
    outExtension: () => ({ js: ".cjs" }),
    splitting: false,
    shims: true,
    esbuildPlugins: [zodWithoutLocales, importThroughLoader],
  },
]);
