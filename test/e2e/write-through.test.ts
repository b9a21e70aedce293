import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// The one atomic file writer (src/storage/write-file-atomic.ts) replaces regular files by rename,
// and writes THROUGH everything else: a symlink is followed (it stays a link), a FIFO or a device is
// written directly. A rename over /dev/null once replaced the CI machine's /dev/null with a file.

let dir = "";
useTempDir((d) => (dir = d), "atomiton-write-");

async function composite(content: string): Promise<string> {
  const file = path.join(dir, "flow.yaml");
  await writeFile(file, content);
  return file;
}

const OUTPUT = `name: out
nodes:
  - id: make
    type: code
    parameters:
      code: 'return { answer: 42 }'
`;

/**
 * Set by the FIFO test once the writer wrote through a special file in a temp dir. The /dev/null
 * tests refuse to run before that: a broken writer would replace the machine's /dev/null.
 */
let writesThroughSpecialFiles = false;
function assertSafeForDevNull(): void {
  if (!writesThroughSpecialFiles) throw new Error("not writing to /dev/null: the FIFO test did not show that the writer writes through special files");
}

afterAll(async () => {
  // The tests write to /dev/null (and nothing else there): it must still be the character device.
  expect((await lstat("/dev/null")).isCharacterDevice()).toBe(true);
});

describe("--output through a symlink, a FIFO and /dev/null", () => {
  test("a symlink stays a link; its target gets the output", async () => {
    await mkdir(path.join(dir, "real"));
    await writeFile(path.join(dir, "real/out.json"), "old\n");
    await symlink("real/out.json", path.join(dir, "link.json"));
    const r = await atomiton(["run", await composite(OUTPUT), "--reporter", "silent", "-o", "link.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect((await lstat(path.join(dir, "link.json"))).isSymbolicLink()).toBe(true);
    expect(await readlink(path.join(dir, "link.json"))).toBe("real/out.json");
    expect(JSON.parse(await readFile(path.join(dir, "real/out.json"), "utf8"))).toEqual({ answer: 42 });
    expect((await readdir(path.join(dir, "real"))).sort()).toEqual(["out.json"]);
  });

  test("a dangling symlink creates its target, and stays a link", async () => {
    await mkdir(path.join(dir, "real"));
    await symlink("real/new.json", path.join(dir, "dangling.json"));
    const r = await atomiton(["run", await composite(OUTPUT), "--reporter", "silent", "-o", "dangling.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect((await lstat(path.join(dir, "dangling.json"))).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(path.join(dir, "real/new.json"), "utf8"))).toEqual({ answer: 42 });
  });

  test("a FIFO is written into, not replaced", async () => {
    const fifo = path.join(dir, "pipe");
    await execa("mkfifo", [fifo]);
    const reader = execa("cat", [fifo], { reject: false, timeout: 30_000 });
    try {
      const r = await atomiton(["run", await composite(OUTPUT), "--reporter", "silent", "-o", fifo], { cwd: dir });
      expect(r.exitCode).toBe(0);
      expect((await lstat(fifo)).isFIFO()).toBe(true);
      expect(JSON.parse((await reader).stdout)).toEqual({ answer: 42 });
      writesThroughSpecialFiles = true;
    } finally {
      reader.kill("SIGKILL");
    }
  });

  test("-o /dev/null writes to the device and leaves it a character device", async () => {
    assertSafeForDevNull();
    const r = await atomiton(["run", await composite(OUTPUT), "--reporter", "silent", "-o", "/dev/null"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect((await lstat("/dev/null")).isCharacterDevice()).toBe(true);
  });
});

describe("the file-system node and --profile use the same writer", () => {
  test("file-system write through a symlink keeps the link", async () => {
    await mkdir(path.join(dir, "data"));
    await writeFile(path.join(dir, "data/target.txt"), "old");
    await symlink(path.join(dir, "data/target.txt"), path.join(dir, "alias.txt"));
    const file = await composite(`name: fs
nodes:
  - id: write
    type: file-system
    parameters: { operation: write, path: alias.txt, content: "new text" }
`);
    const r = await atomiton(["run", file, "--reporter", "silent", "--workdir", dir], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect((await lstat(path.join(dir, "alias.txt"))).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(dir, "data/target.txt"), "utf8")).toBe("new text");
  });

  test("file-system write with overwrite: false is an exclusive create (E_FILE when it exists)", async () => {
    await writeFile(path.join(dir, "taken.txt"), "first");
    const file = await composite(`name: fs
nodes:
  - id: write
    type: file-system
    parameters: { operation: write, path: taken.txt, content: "second", overwrite: false }
`);
    const r = await atomiton(["run", file, "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("E_FILE");
    expect(r.stderr).toContain("already exists");
    expect(await readFile(path.join(dir, "taken.txt"), "utf8")).toBe("first");
  });

  test("--profile /dev/null leaves /dev/null a character device", async () => {
    assertSafeForDevNull();
    const r = await atomiton(["run", await composite(OUTPUT), "--reporter", "silent", "--profile", "/dev/null"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect((await stat("/dev/null")).isCharacterDevice()).toBe(true);
  });
});
