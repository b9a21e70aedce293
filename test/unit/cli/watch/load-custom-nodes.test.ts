import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { AtomitonError } from "../../../../src/errors.js";
import { createBuiltinCatalog } from "../../../../src/nodes/catalog.js";
import { findLocalImports, loadCustomNodeModules, loadCustomNodes } from "../../../../src/nodes/load-custom-nodes.js";

let dir: string;
beforeEach(async () => {
  // Under os.tmpdir(): no node_modules above, so `atomiton` and `zod` come from the runner.
  dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-nodes-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
}

const node = (type: string, body = "return `${parameters.greeting}, ${parameters.name}`;", extra = "") => `import { z } from "zod";
import { defineNode } from "atomiton";
export default defineNode({
  type: "${type}",${extra}
  title: "T", description: "D", category: "custom",
  parameters: z.object({ name: z.string().default("world"), greeting: z.string().default("hello") }),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  execute({ parameters }) {
    ${body}
  },
});
`;

async function runNode(entries: Awaited<ReturnType<typeof loadCustomNodes>>, type: string, parameters: Record<string, unknown> = {}): Promise<unknown> {
  const def = entries.find((e) => e.definition.type === type)!.definition;
  return def.execute({ parameters: def.parameters.parse(parameters) } as never);
}

async function loadError(specs: string[]): Promise<AtomitonError> {
  const error = await loadCustomNodes(specs, dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AtomitonError);
  return error as AtomitonError;
}

describe("loadCustomNodes", () => {
  test("a TypeScript node loads without a build step, with atomiton and zod provided by the runner", async () => {
    await write({ "nodes/greet.ts": node("greet") });
    const entries = await loadCustomNodes(["./nodes"], dir);
    expect(entries.map((e) => [e.definition.type, e.source])).toEqual([["greet", path.join("nodes", "greet.ts")]]);
    expect(await runNode(entries, "greet", { name: "Ada" })).toBe("hello, Ada");
  });

  test.each([
    ["no default export", "export const greet = 1;\n", /^x\.ts: no default export \(it exports `greet`\)$/],
    ["parameters not a zod schema", 'export default {\n  type: "x",\n  parameters: { name: "string" },\n  inputs: [], outputs: [], execute() {},\n};\n', /^x\.ts:3:3: `parameters` must be a zod object schema/],
    ["execute missing", 'import { z } from "zod";\nexport default {\n  type: "x", parameters: z.object({}), inputs: [], outputs: [] };\n', /^x\.ts: `execute` must be a function$/],
    ["a type that is not kebab-case", 'import { z } from "zod";\nexport default {\n  type: "My Node", parameters: z.object({}), inputs: [], outputs: [], execute() {} };\n', /^x\.ts:3:3: `type` must be a kebab-case string, got "My Node"$/],
    ["ports without ids", 'import { z } from "zod";\nexport default { type: "x", parameters: z.object({}),\n  inputs: ["input"], outputs: [], execute() {} };\n', /^x\.ts:3:3: `inputs` must be an array of ports/],
    ["two ports of one id", 'import { z } from "zod";\nexport default { type: "x", parameters: z.object({}), inputs: [],\n  outputs: [{ id: "a" }, { id: "a" }], execute() {} };\n', /^x\.ts:3:3: `outputs` has two ports "a"$/],
    ["a throw at import", 'const a = 1;\nconst b = 2;\nthrow new Error("no network at import time");\n', /^x\.ts:3:7: the custom node module threw while loading: no network at import time$/],
    // Unawaited, it was an unhandled rejection: a stack trace and exit 1.
    ["a default export that is a rejected promise", 'export default Promise.reject(new Error("no config yet"));\n', /^x\.ts:1(:\d+)?: the custom node module threw while loading: no config yet$/],
    ["a syntax error", 'export default {\n  type: "x",\n  execute( { return 1 }\n};\n', /^x\.ts:3:14: syntax error: Unexpected keyword 'return'/],
    ["a missing package", 'import pad from "left-pad-that-is-not-installed";\nexport default pad;\n', /^x\.ts: cannot load: Cannot find module 'left-pad-that-is-not-installed'/],
  ])("an invalid module (%s) gives a located E_CUSTOM_NODE error", async (_name, text, message) => {
    await write({ "x.ts": text });
    const error = await loadError(["./x.ts"]);
    expect(error.code).toBe("E_CUSTOM_NODE");
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
    expect(error.details).toEqual({ file: path.join(dir, "x.ts") });
  });

  test("a default export that is a promise of a node is awaited", async () => {
    await write({ "x.ts": 'export default Promise.resolve({ type: "later", execute: () => "done" });\n' });
    const entries = await loadCustomNodes(["./x.ts"], dir);
    expect(await runNode(entries, "later", {})).toBe("done");
  });

  test("a throw inside an imported helper points at the helper", async () => {
    await write({ "x.ts": 'import { v } from "./lib/helper.js";\nexport default v;\n', "lib/helper.ts": 'export const v = 1;\nthrow new TypeError("bad helper");\n' });
    const error = await loadError(["./x.ts"]);
    expect(error.message).toBe(`${path.join("lib", "helper.ts")}:2:7: the custom node module threw while loading: bad helper`);
    expect(error.hint).toBe("thrown in a file that x.ts imports; fix it there");
  });

  test("--nodes pointing nowhere names the argument", async () => {
    const error = await loadError(["./nope"]);
    expect(error.message).toBe("--nodes ./nope: no such file or directory");
  });

  test.each([
    ["without override", "", /^node type "delay" from x\.ts clashes with the one from builtin$/],
    ["with override: true", "\n  override: true,", undefined],
  ])("a clash with a built-in type %s", async (_name, extra, message) => {
    await write({ "x.ts": node("delay", 'return "custom delay";', extra) });
    const entries = await loadCustomNodes(["./x.ts"], dir);
    if (message) {
      expect(() => createBuiltinCatalog(entries)).toThrow(message);
    } else {
      const catalog = createBuiltinCatalog(entries);
      expect(catalog.sourceOf("delay")).toBe("x.ts");
      expect(await catalog.get("delay")!.execute({ parameters: {} } as never)).toBe("custom delay");
    }
  });

  test.each([
    ["a built-in type", "log", "", /^node type "my-log" from x\.ts has the alias "log", which is already the type "log" from builtin$/],
    ["a built-in type, with override: true", "log", "\n  override: true,", /has the alias "log", which is already the type "log"/],
    ["a built-in's alias", "csv-reader", "", /has the alias "csv-reader", which is already an alias of the type "spreadsheet" from builtin$/],
  ])("an alias that names %s is a clash: it would take over nodes of that type", async (_name, alias, extra, message) => {
    await write({ "x.ts": node("my-log", 'return "HIJACKED";', `\n  aliases: ["${alias}"],${extra}`) });
    const entries = await loadCustomNodes(["./x.ts"], dir);
    expect(() => createBuiltinCatalog(entries)).toThrow(message);
  });

  test("every load is a fresh import: an edit to a node or its helper shows at once", async () => {
    await write({ "nodes/greet.ts": node("greet", "return word;").replace('import { z }', 'import { word } from "./word.js";\nimport { z }'), "nodes/word.ts": 'export const word = "one";\n' });
    const entries = await loadCustomNodes(["./nodes"], dir);
    expect(await runNode(entries, "greet")).toBe("one");
    await write({ "nodes/word.ts": 'export const word: string = "two";\n' });
    expect(await runNode(await loadCustomNodes(["./nodes"], dir), "greet")).toBe("two");
    await write({ "nodes/greet.ts": node("greet", "return word.toUpperCase();").replace('import { z }', 'import { word } from "./word.js";\nimport { z }') });
    expect(await runNode(await loadCustomNodes(["./nodes"], dir), "greet")).toBe("TWO");
  });

  test("in a node directory, a helper that a node imports is not a node; a stray file without export is an error", async () => {
    await write({ "nodes/greet.ts": node("greet", "return word;").replace('import { z }', 'import { word } from "./word.js";\nimport { z }'), "nodes/word.ts": 'export const word = "one";\n' });
    const result = await loadCustomNodeModules(["./nodes"], dir);
    expect(result.entries.map((e) => e.definition.type)).toEqual(["greet"]);
    expect(result.modules).toEqual([{ file: path.join(dir, "nodes/greet.ts"), imports: [path.join(dir, "nodes/word.ts")] }]);
    await write({ "nodes/stray.ts": "export const unused = 1;\n" });
    expect((await loadError(["./nodes"])).message).toBe(`${path.join("nodes", "stray.ts")}: no default export (it exports \`unused\`)`);
  });

  const cjsNode = (type: string) => `{ type: "${type}", title: "C", description: "", category: "x", parameters: z.object({}), inputs: [], outputs: [{ id: "output" }], execute: () => "${type} ran" }`;
  test.each([
    ["ESM default", "x.ts", `import { z } from "zod";\nexport default ${cjsNode("esm-default")};\n`, "esm-default"],
    ["ESM `nodes`", "x.mjs", `import { z } from "zod";\nexport const nodes = [${cjsNode("esm-nodes")}];\n`, "esm-nodes"],
    ["CommonJS module.exports", "x.cjs", `const { z } = require("zod");\nconst { defineNode } = require("atomiton");\nmodule.exports = defineNode(${cjsNode("cjs-exports")});\n`, "cjs-exports"],
    ["CommonJS exports.default", "x.cjs", `const { z } = require("zod");\nexports.default = ${cjsNode("cjs-default")};\n`, "cjs-default"],
  ])("export form: %s", async (_name, file, text, type) => {
    await write({ [file]: text });
    const entries = await loadCustomNodes([`./${file}`], dir);
    expect(entries.map((e) => e.definition.type)).toEqual([type]);
    expect(await runNode(entries, type)).toBe(`${type} ran`);
  });

  test("a module may export several nodes as a default array", async () => {
    await write({ "x.ts": node("one").replace("export default defineNode(", "const a = defineNode(").replace(/\);\n$/, ");\nexport default [a, { ...a, type: \"two\" }];\n") });
    expect((await loadCustomNodes(["./x.ts"], dir)).map((e) => e.definition.type)).toEqual(["one", "two"]);
  });
});

describe("findLocalImports", () => {
  test("follows relative imports of every form, recursively, and ignores packages and comments", async () => {
    await write({
      "main.ts": [
        'import { a } from "./a.js";',
        'export { b } from "./b";',
        'import "./side-effect.mjs";',
        'const lazy = () => import("./lazy.js");',
        'const c = require("./c.cjs");',
        'import data from "./data.json";',
        'import { z } from "zod";',
        '// import { gone } from "./commented.js";',
        "/* import \"./block-commented.js\" */",
        'import { u } from "./util";',
      ].join("\n"),
      "a.ts": 'import { deep } from "./deep/inner.js";\nexport const a = deep;\n',
      "deep/inner.ts": 'import { a } from "../a.js";\nexport const deep = 1;\n',
      "b.ts": "export const b = 1;\n",
      "side-effect.mjs": "",
      "lazy.ts": "",
      "c.cjs": "",
      "data.json": "{}",
      "util/index.ts": "export const u = 1;\n",
      "commented.ts": "",
      "block-commented.ts": "",
    });
    const found = findLocalImports(path.join(dir, "main.ts")).map((f) => path.relative(dir, f)).sort();
    expect(found).toEqual(["a.ts", "b.ts", "c.cjs", "data.json", path.join("deep", "inner.ts"), "lazy.ts", "side-effect.mjs", path.join("util", "index.ts")].sort());
  });
});
