import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// `composites add` stores the `ref:` files a composite reads beside it, so `run <id>` runs it from
// storage, anywhere, after the files moved on; `remove` and `add --force` keep them in step.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-stored-refs-");

const log = (id: string, message: string) => `nodes:\n  - id: ${id}\n    type: log\n    parameters: { message: ${message} }\n`;

async function writeProject(): Promise<void> {
  await mkdir(path.join(dir, "project/app"), { recursive: true });
  await mkdir(path.join(dir, "project/shared/deeper"), { recursive: true });
  await mkdir(path.join(dir, "elsewhere"));
  await writeFile(path.join(dir, "project/app/flow.yaml"), "nodes:\n  - id: outer\n    type: group\n    ref: ../shared/child.yaml\n");
  // A ref inside a ref: stored too.
  await writeFile(path.join(dir, "project/shared/child.yaml"), "nodes:\n  - id: inner\n    type: group\n    ref: ./deeper/leaf.yaml\n");
  await writeFile(path.join(dir, "project/shared/deeper/leaf.yaml"), log("leaf", "from-the-stored-leaf"));
}

const DATA = ["--data-dir", "../.data"];

describe("composites add with ref: files", () => {
  test("run <id> finds the stored ref: files, from another directory, after the originals are gone", async () => {
    await writeProject();
    const add = await atomiton(["composites", "add", "app/flow.yaml", ...DATA], { cwd: path.join(dir, "project") });
    expect(add.exitCode, add.stderr).toBe(0);
    expect(add.stdout).toContain("stored flow with its 2 ref: files");
    await rm(path.join(dir, "project"), { recursive: true });
    const run = await atomiton(["run", "flow", "--reporter", "plain", ...DATA], { cwd: path.join(dir, "elsewhere") });
    expect(run.stderr).toContain("from-the-stored-leaf");
    expect(run.exitCode, run.stderr).toBe(0);
  });

  test("add --force of a version without refs, and remove, leave no stale ref: files behind", async () => {
    await writeProject();
    const project = path.join(dir, "project");
    expect((await atomiton(["composites", "add", "app/flow.yaml", ...DATA], { cwd: project })).exitCode).toBe(0);
    const refs = path.join(dir, ".data/composites/flow.refs.json");
    expect(existsSync(refs)).toBe(true);
    await writeFile(path.join(project, "app/flow.yaml"), log("only", "no-refs-now"));
    const again = await atomiton(["composites", "add", "app/flow.yaml", "--force", ...DATA], { cwd: project });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(existsSync(refs)).toBe(false);
    const run = await atomiton(["run", "flow", "--reporter", "plain", ...DATA], { cwd: project });
    expect(run.stderr).toContain("no-refs-now");
    await writeFile(path.join(project, "app/flow.yaml"), "nodes:\n  - id: outer\n    type: group\n    ref: ../shared/child.yaml\n");
    expect((await atomiton(["composites", "add", "app/flow.yaml", "--force", ...DATA], { cwd: project })).exitCode).toBe(0);
    expect(existsSync(refs)).toBe(true);
    const removed = await atomiton(["composites", "remove", "flow", ...DATA], { cwd: project });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(existsSync(refs)).toBe(false);
    const list = await atomiton(["composites", "list", ...DATA], { cwd: project });
    expect(list.stdout).toContain("no stored composites");
  });
});
