import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { findConfigFile, loadConfig } from "../../../../src/cli/config.js";
import { loadCatalogForCli } from "../../../../src/cli/load-catalog.js";
import { AtomitonError } from "../../../../src/errors.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const io = (cwd: string) => ({ stdout: process.stdout, stderr: process.stderr, env: {}, cwd });

const NODE = `import { z } from "zod";
import { defineNode } from "atomiton";
export default defineNode({
  type: "greet", title: "Greet", description: "Say hello", category: "demo",
  parameters: z.object({ name: z.string().default("world") }),
  inputs: [{ id: "input" }], outputs: [{ id: "output" }],
  execute: ({ parameters }) => "hello " + parameters.name,
});
`;

describe("atomiton.config.*", () => {
  test.each([
    ["atomiton.config.json", '{ "nodes": ["./nodes"] }\n'],
    ["atomiton.config.yaml", "nodes:\n  - ./nodes\n"],
    ["atomiton.config.ts", 'const config: { nodes: string[] } = { nodes: ["./nodes"] };\nexport default config;\n'],
    ["atomiton.config.mjs", 'export default () => ({ nodes: ["./nodes"] });\n'],
    ["atomiton.config.cjs", 'module.exports = { nodes: ["./nodes"] };\n'],
    ["atomiton.config.js", 'exports.nodes = ["./nodes"];\n'],
  ])("%s is found from a subdirectory and its nodes resolve against the config file", async (name, text) => {
    await writeFile(path.join(dir, name), text);
    await mkdir(path.join(dir, "nodes"));
    await writeFile(path.join(dir, "nodes/greet.ts"), NODE);
    const sub = path.join(dir, "flows/deep");
    await mkdir(sub, { recursive: true });
    expect(findConfigFile(sub)).toBe(path.join(dir, name));
    const config = await loadConfig(sub);
    expect(config?.nodes).toEqual([expect.objectContaining({ spec: "./nodes", base: dir })]);
    const catalog = await loadCatalogForCli([], io(sub));
    expect(catalog.sourceOf("greet")).toBe(path.join(dir, "nodes/greet.ts"));
  });

  test("the nearest config wins, and none found means undefined", async () => {
    await writeFile(path.join(dir, "atomiton.config.json"), '{ "nodes": [] }');
    await mkdir(path.join(dir, "inner"));
    await writeFile(path.join(dir, "inner/atomiton.config.yaml"), "nodes: []\n");
    expect(findConfigFile(path.join(dir, "inner"))).toBe(path.join(dir, "inner/atomiton.config.yaml"));
    // The temp dir's parents hold no config (os.tmpdir() is not a project).
    const bare = await mkdtemp(path.join(os.tmpdir(), "atomiton-noconfig-"));
    try {
      expect(await loadConfig(bare)).toBeUndefined();
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });

  test.each([
    ["atomiton.config.json", '{\n  "nodes": [\n    "./nodes",\n    42\n  ]\n}\n', /^atomiton\.config\.json:4:5: nodes\[1\]: .*string/, "E_SCHEMA"],
    ["atomiton.config.json", '{\n  "node": ["./nodes"]\n}\n', /^atomiton\.config\.json:2:3: unknown key "node"/, "E_SCHEMA"],
    ["atomiton.config.json", '{\n  "nodes": ["./nodes",]\n}\n', /^atomiton\.config\.json:2:23: invalid JSON: /, "E_YAML"],
    ["atomiton.config.yaml", "nodes: ./nodes\n", /^atomiton\.config\.yaml:1:8: nodes: .*array/, "E_SCHEMA"],
    ["atomiton.config.ts", 'export default { nodes: ["./nodes"] ;\n', /^atomiton\.config\.ts:1:37: syntax error: /, "E_USAGE"],
    ["atomiton.config.ts", 'const ok = 1;\nthrow new Error("no config today");\n', /^atomiton\.config\.ts:2:7: the config file threw while loading: no config today$/, "E_USAGE"],
    ["atomiton.config.mjs", "export const nodes = [];\n", /^atomiton\.config\.mjs: no default export/, "E_USAGE"],
    // A file with no exports at all is not an empty config (CommonJS `module.exports` counts only when it holds something).
    ["atomiton.config.ts", "// nothing yet\n", /^atomiton\.config\.ts: no default export/, "E_USAGE"],
  ])("%s with a mistake gives a located error (%#)", async (name, text, message, code) => {
    await writeFile(path.join(dir, name), text);
    const error = await loadConfig(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AtomitonError);
    expect((error as AtomitonError).code).toBe(code);
    expect((error as AtomitonError).message).toMatch(message);
    expect((error as AtomitonError).details).toEqual({ file: path.join(dir, name) });
  });

  test("a missing nodes path names the config entry", async () => {
    await writeFile(path.join(dir, "atomiton.config.yaml"), "nodes:\n  - ./missing\n");
    await expect(loadCatalogForCli([], io(dir))).rejects.toThrow(/^atomiton\.config\.yaml:2:5: nodes\[0\] "\.\/missing": no such file or directory$/);
  });

  test("a file named by the config and by --nodes loads once (no clash with itself)", async () => {
    await writeFile(path.join(dir, "atomiton.config.json"), '{ "nodes": ["./nodes"] }');
    await mkdir(path.join(dir, "nodes"));
    await writeFile(path.join(dir, "nodes/greet.ts"), NODE);
    const catalog = await loadCatalogForCli(["./nodes", "nodes/greet.ts"], io(dir));
    expect(catalog.has("greet")).toBe(true);
  });
});
