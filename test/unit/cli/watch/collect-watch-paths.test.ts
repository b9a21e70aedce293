import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { collectWatchPaths } from "../../../../src/cli/watch/collect-watch-paths.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-watchpaths-"));
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

const rel = (files: readonly string[]) => files.map((f) => path.relative(dir, f)).sort();

describe("collectWatchPaths", () => {
  test("the composite, its ref: files (nested, and missing ones), the config, node files and their imports", async () => {
    await write({
      "flows/main.yaml": "nodes:\n  - id: sub\n    type: group\n    ref: ./parts/sub.yaml\n  - id: later\n    type: group\n    ref: ./parts/not-yet.yaml\n",
      "flows/parts/sub.yaml": "nodes:\n  - id: inner\n    type: group\n    ref: ../shared/inner.yaml\n",
      "flows/shared/inner.yaml": "nodes:\n  - id: hi\n    type: log\n",
      "atomiton.config.yaml": "nodes:\n  - ./nodes\n",
      "nodes/greet.ts": 'import { word } from "./lib/word.js";\nexport default word;\n',
      "nodes/lib/word.ts": "export const word = 1;\n",
      "extra/one.ts": "export default 1;\n",
    });
    const paths = await collectWatchPaths({ composite: path.join(dir, "flows/main.yaml"), nodes: ["./extra/one.ts", "./extra/two.ts"], cwd: dir });
    expect(paths.files[0]).toBe(path.join(dir, "flows/main.yaml"));
    expect(rel(paths.files)).toEqual(
      [
        "atomiton.config.yaml",
        "extra/one.ts",
        "extra/two.ts", // does not exist yet: creating it re-runs
        "flows/main.yaml",
        "flows/parts/not-yet.yaml",
        "flows/parts/sub.yaml",
        "flows/shared/inner.yaml",
        "nodes/greet.ts",
        "nodes/lib/word.ts",
      ].map((f) => path.normalize(f)).sort(),
    );
    expect(rel(paths.dirs)).toEqual(["nodes"]);
  });

  test.each([
    ["a YAML syntax error", "nodes:\n  - id: a\n    type: log\n   bad: [\n"],
    ["a broken config", "nodes:\n  - id: a\n    type: log\n"],
  ])("never throws: with %s the broken files are still watched", async (name, text) => {
    await write({ "flow.yaml": text, "atomiton.config.json": name === "a broken config" ? "{ nodes: " : '{ "nodes": [] }' });
    const paths = await collectWatchPaths({ composite: path.join(dir, "flow.yaml"), nodes: [], cwd: dir });
    expect(rel(paths.files)).toEqual(["atomiton.config.json", "flow.yaml"]);
  });
});
