// `file-system` copy (and a move across filesystems) wrote straight into the target with Node's
// `cp`, which no timeout or Ctrl-C stops: a node that timed out still replaced the target behind
// the run's back (the CLI waited for the copy before exiting), and a kill mid-copy left it torn. A
// file is now copied into a temp file beside the target, stopped by the node's signal, and renamed
// over the target only once it is complete.
import { readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { statSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-copy-");

const SHM = "/dev/shm";
const otherDevice = (() => {
  try {
    return statSync(SHM).dev !== statSync(process.env.TMPDIR ?? "/tmp").dev;
  } catch {
    return false;
  }
})();

async function runCopy(operation: "copy" | "move", destination: string, timeout: string): Promise<{ exitCode: number | undefined; stderr: string }> {
  await writeFile(
    path.join(dir, "flow.yaml"),
    `name: copy\nnodes:\n  - id: c\n    type: file-system\n    timeout: ${timeout}\n    parameters: { operation: ${operation}, path: big.bin, destination: ${JSON.stringify(destination)} }\n`,
  );
  return atomiton(["run", "flow.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir, timeout: 120_000 });
}

test("a copy that times out leaves the target as it was and no temp file, and stops copying", async () => {
  // 2 GiB (sparse: no disk used to read it) takes far longer than 100 ms to copy.
  await writeFile(path.join(dir, "big.bin"), "");
  await truncate(path.join(dir, "big.bin"), 2 * 1024 ** 3);
  await writeFile(path.join(dir, "target.bin"), "OLD");
  const r = await runCopy("copy", "target.bin", "100ms");
  expect(r.stderr).toMatch(/E_TIMEOUT/);
  expect(r.exitCode).toBe(1);
  expect((await stat(path.join(dir, "target.bin"))).size).toBe(3);
  expect(await readFile(path.join(dir, "target.bin"), "utf8")).toBe("OLD");
  expect((await readdir(dir)).sort()).toEqual(["big.bin", "flow.yaml", "target.bin"]);
}, 180_000);

test("a copy that completes keeps the source's mode and modification time", async () => {
  await writeFile(path.join(dir, "big.bin"), "#!/bin/sh\necho hi\n", { mode: 0o750 });
  const { utimes } = await import("node:fs/promises");
  await utimes(path.join(dir, "big.bin"), new Date("2020-01-02T03:04:05Z"), new Date("2020-01-02T03:04:05Z"));
  await writeFile(path.join(dir, "target.bin"), "OLD");
  const r = await runCopy("copy", "target.bin", "1m");
  expect(r.exitCode).toBe(0);
  const copied = await stat(path.join(dir, "target.bin"));
  expect(await readFile(path.join(dir, "target.bin"), "utf8")).toBe("#!/bin/sh\necho hi\n");
  expect(copied.mode & 0o777).toBe(0o750);
  expect(copied.mtime.toISOString()).toBe("2020-01-02T03:04:05.000Z");
  expect((await readdir(dir)).sort()).toEqual(["big.bin", "flow.yaml", "target.bin"]);
});

test.runIf(otherDevice)("a move across filesystems that times out keeps the source and leaves the target as it was", async () => {
  const target = path.join(SHM, `atomiton-move-${process.pid}-${Date.now()}.bin`);
  await writeFile(path.join(dir, "big.bin"), "");
  await truncate(path.join(dir, "big.bin"), 1024 ** 3);
  await writeFile(target, "OLD");
  try {
    const r = await runCopy("move", target, "100ms");
    expect(r.stderr).toMatch(/E_TIMEOUT/);
    expect(r.exitCode).toBe(1);
    expect((await stat(target)).size).toBe(3);
    expect(await readFile(target, "utf8")).toBe("OLD");
    expect((await stat(path.join(dir, "big.bin"))).size).toBe(1024 ** 3);
    expect((await readdir(SHM)).filter((name) => name.includes(path.basename(target)) && name !== path.basename(target))).toEqual([]);
  } finally {
    const { rm } = await import("node:fs/promises");
    await rm(target, { force: true });
  }
}, 180_000);

// A copy onto a symlink replaced the link with a regular file, and onto a device (`/dev/null`) the
// device itself: as root, `destination: /dev/null` took the machine's /dev/null away.
test("a copy onto a symlink writes through it (the link stays a link)", async () => {
  const { lstat, symlink } = await import("node:fs/promises");
  await writeFile(path.join(dir, "big.bin"), "new content");
  await writeFile(path.join(dir, "real.txt"), "old");
  await symlink("real.txt", path.join(dir, "target.bin"));
  const r = await runCopy("copy", "target.bin", "1m");
  expect(r.exitCode, r.stderr).toBe(0);
  expect((await lstat(path.join(dir, "target.bin"))).isSymbolicLink()).toBe(true);
  expect(await readFile(path.join(dir, "real.txt"), "utf8")).toBe("new content");
});

test.runIf(process.getuid?.() === 0)("a copy onto a character device writes into it; the device stays a device", async () => {
  const { execFileSync } = await import("node:child_process");
  // A null device of our own (major 1, minor 3), never the machine's /dev/null.
  execFileSync("mknod", ["-m", "666", path.join(dir, "target.bin"), "c", "1", "3"]);
  await writeFile(path.join(dir, "big.bin"), "into the void");
  const r = await runCopy("copy", "target.bin", "1m");
  expect(r.exitCode, r.stderr).toBe(0);
  expect((await stat(path.join(dir, "target.bin"))).isCharacterDevice()).toBe(true);
});
