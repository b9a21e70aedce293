import fs from "node:fs";
import { mkdir } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createTempDir, removeTempDir } from "../../helpers/node-context.js";
import { runYaml } from "../conductor/harness.js";

// A glob walk of `file-system list` must stop when the node is cancelled or times out, not only the
// node's wait for it. The walk is observed through node:fs's own `readdir` (the one tinyglobby's
// crawler calls), wrapped to count the calls under the test tree and to hold every reply after the
// first few: the walk cannot finish, so the timeout or cancel surely comes first. Then the held
// replies are delivered; a walk that still runs asks for the subdirectories they name.

const BRANCHES = 8;
let root: string;
let dirCount = 0;

beforeAll(async () => {
  root = await createTempDir("atomiton-fs-walk-");
  const leaves: string[] = [];
  for (let a = 0; a < BRANCHES; a++) for (let b = 0; b < BRANCHES; b++) for (let c = 0; c < BRANCHES; c++) leaves.push(path.join(root, "tree", `a${a}`, `b${b}`, `c${c}`));
  for (const leaf of leaves) await mkdir(leaf, { recursive: true });
  dirCount = 1 + BRANCHES + BRANCHES ** 2 + BRANCHES ** 3;
});
afterAll(() => removeTempDir(root));

type ReaddirCallback = (error: NodeJS.ErrnoException | null, entries: fs.Dirent[]) => void;
const realReaddir = fs.readdir;

interface Walk {
  /** readdir calls under the tree so far. */
  calls(): number;
  /** Waits for the held readdirs, delivers their replies and lets any later call through; resolves when every held reply was delivered. */
  release(): Promise<void>;
}

/** Wrap node:fs `readdir`: calls under the tree are counted; after `passing` of them, replies are held until `release`. */
function watchWalk(tree: string, passing: number, onCall?: (n: number) => void): Walk {
  let calls = 0;
  let open = false;
  const held: Promise<() => void>[] = [];
  const wrapped = (dir: fs.PathLike, options: unknown, callback: ReaddirCallback): void => {
    if (!String(dir).startsWith(tree)) return void (realReaddir as (...args: unknown[]) => void)(dir, options, callback);
    calls++;
    onCall?.(calls);
    if (open || calls <= passing) return void (realReaddir as (...args: unknown[]) => void)(dir, options, callback);
    held.push(new Promise((resolve) => (realReaddir as (...args: unknown[]) => void)(dir, options, (error: NodeJS.ErrnoException | null, entries: fs.Dirent[]) => resolve(() => callback(error, entries)))));
  };
  fs.readdir = wrapped as unknown as typeof fs.readdir;
  syncBuiltinESMExports();
  return {
    calls: () => calls,
    async release() {
      open = true;
      for (const deliver of await Promise.all(held.splice(0))) deliver();
    },
  };
}

afterEach(() => {
  fs.readdir = realReaddir;
  syncBuiltinESMExports();
});

const flow = (timeout = "") => `nodes:
  - id: files
    type: file-system
    ${timeout}
    parameters: { operation: list, path: tree, pattern: "*.txt", recursive: true }
`;

describe("file-system list: a glob walk stops on timeout and on cancel", () => {
  test("the same walk, not cancelled, lists the whole tree (the wrapper counts every directory)", async () => {
    const walk = watchWalk(path.join(root, "tree"), Number.POSITIVE_INFINITY);
    const { result } = await runYaml(`nodes:\n  - id: files\n    type: file-system\n    parameters: { operation: list, path: tree, pattern: "c*", recursive: true }\n`, { workdir: root });
    expect(result.status).toBe("succeeded");
    expect(walk.calls()).toBe(dirCount);
    expect(result.nodes.files?.output).toHaveLength(BRANCHES ** 3);
  });

  test("node timeout: the node fails with E_TIMEOUT and the walk asks for no directory after it", async () => {
    const walk = watchWalk(path.join(root, "tree"), 5);
    const { result } = await runYaml(flow("timeout: 300ms"), { workdir: root });
    expect(result.nodes.files).toMatchObject({ status: "failed", error: { code: "E_TIMEOUT", message: 'node "files" timed out after 300ms' } });
    const before = walk.calls();
    expect(before).toBeLessThan(dirCount);
    await walk.release();
    expect(walk.calls()).toBe(before);
  });

  test("cancel (the run's signal aborted during the walk): the run ends cancelled and the walk asks for no directory after it", async () => {
    const controller = new AbortController();
    const walk = watchWalk(path.join(root, "tree"), 5, (n) => {
      if (n === 5) controller.abort();
    });
    const { result } = await runYaml(flow(), { workdir: root, signal: controller.signal });
    expect(result.status).toBe("cancelled");
    expect(result.nodes.files?.status).toBe("cancelled");
    const before = walk.calls();
    expect(before).toBeLessThan(dirCount);
    await walk.release();
    expect(walk.calls()).toBe(before);
  });

});
