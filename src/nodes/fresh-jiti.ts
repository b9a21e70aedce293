import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Jiti, JitiOptions } from "jiti";

type CreateJitiInternal = (id: string, options: JitiOptions, context: Record<string, unknown>) => Jiti;

// Scripts jiti can transpile; other local files (JSON, .node) still load natively.
const SCRIPT = /\.(?:[cm]?js)$/i;

/** A local script: an absolute path (or file: URL) to a .js/.mjs/.cjs file outside node_modules. */
function isLocalScript(id: string | URL): boolean {
  const spec = String(id);
  let file: string;
  try {
    file = spec.startsWith("file:") ? fileURLToPath(spec) : spec;
  } catch {
    return false;
  }
  return path.isAbsolute(file) && SCRIPT.test(file) && !file.split(/[\\/]/).includes("node_modules");
}

/**
 * A jiti that reads every local module fresh on each load. jiti hands an ES module that needs no
 * transform (`.mjs`, `.js` in a `"type": "module"` package) and any `.cjs` to Node's own
 * import()/require(), whose caches outlive `moduleCache: false` (the ESM one cannot be cleared at
 * all): watch mode would run the first version of a node file forever, and such a file would get
 * the project's `atomiton`/`zod` instead of the virtual ones. Refusing the native load of local
 * scripts makes jiti fall back to transpiling them (its documented fallback when a native load
 * fails); packages in node_modules, builtins and JSON still load natively.
 *
 * jiti's public `createJiti` (lib/jiti.mjs) takes no native loaders, so this builds jiti the way that
 * file does, from `dist/jiti.cjs` and `dist/babel.cjs` of jiti 2 (the lockfile pins the version).
 * test/e2e/watch.test.ts ("plain ES module (.mjs) and CommonJS (.cjs) node files…") fails if a jiti
 * upgrade changes that layout.
 */
export function createFreshJiti(id: string, options: JitiOptions): Jiti {
  const require = createRequire(import.meta.url);
  const lib = path.dirname(require.resolve("jiti"));
  const create = require(path.join(lib, "../dist/jiti.cjs")) as CreateJitiInternal;
  const transform = require(path.join(lib, "../dist/babel.cjs")) as JitiOptions["transform"];
  const refuse = (id: string | URL): Error => new Error(`${String(id)} is loaded through jiti, not Node's module cache`);
  return create(id, { transform, ...options }, {
    onError: (error: unknown) => {
      throw error;
    },
    nativeImport: (spec: string | URL) => (isLocalScript(spec) ? Promise.reject(refuse(spec)) : import(String(spec))),
    createRequire: (from: string | URL) => {
      const real = createRequire(from);
      const guarded = (spec: string): unknown => {
        if (isLocalScript(real.resolve(spec))) throw refuse(spec);
        return real(spec);
      };
      return Object.assign(guarded, real);
    },
  });
}
