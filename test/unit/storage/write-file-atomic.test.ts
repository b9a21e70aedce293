import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { writeFileAtomic } from "../../../src/storage/write-file-atomic.js";
import { useTempDir } from "../../helpers/cli.js";

let dir = "";
useTempDir((d) => (dir = d), "atomiton-atomic-");

describe("writeFileAtomic", () => {
  test("aborted while the data was written: the target keeps its old content and no temp file is left", async () => {
    const file = path.join(dir, "out.txt");
    await writeFile(file, "original");
    const controller = new AbortController();
    const reason = new Error("interrupted by SIGINT");
    controller.abort(reason);
    await expect(writeFileAtomic(file, "x".repeat(1024 * 1024), { signal: controller.signal })).rejects.toBe(reason);
    expect(await readFile(file, "utf8")).toBe("original");
    expect(await readdir(dir)).toEqual(["out.txt"]);
  });

  test("a directory as the target is EISDIR, and nothing is written beside it", async () => {
    const target = path.join(dir, "adir");
    await mkdir(target);
    await expect(writeFileAtomic(target, "x")).rejects.toMatchObject({ code: "EISDIR", message: `EISDIR: '${target}' is a directory, not a file` });
    expect(await readdir(dir)).toEqual(["adir"]);
  });

  test("a parent that is a dangling symbolic link says so", async () => {
    await symlink(path.join(dir, "missing"), path.join(dir, "dang"));
    await expect(writeFileAtomic(path.join(dir, "dang", "out.txt"), "x")).rejects.toMatchObject({ code: "ENOTDIR", message: `ENOTDIR: '${path.join(dir, "dang")}' is a symbolic link to a missing path or to a file, not a directory` });
  });

  test("a parent that is a file is ENOTDIR naming it, not EEXIST", async () => {
    await writeFile(path.join(dir, "afile"), "x");
    await expect(writeFileAtomic(path.join(dir, "afile", "out.txt"), "x")).rejects.toMatchObject({ code: "ENOTDIR", message: `ENOTDIR: '${path.join(dir, "afile")}' is a file, not a directory` });
    await expect(writeFileAtomic(path.join(dir, "afile", "sub", "out.txt"), "x")).rejects.toMatchObject({ code: "ENOTDIR", message: expect.stringContaining(path.join(dir, "afile")) });
  });

  test.each([0o600, 0o750, 0o640])("a file written over keeps its mode (%o), through a symbolic link too; a new file gets the default", async (mode) => {
    const file = path.join(dir, `kept-${mode.toString(8)}`);
    await writeFile(file, "old");
    await chmod(file, mode);
    await writeFileAtomic(file, "new");
    expect((await stat(file)).mode & 0o7777).toBe(mode);
    expect(await readFile(file, "utf8")).toBe("new");
    const link = path.join(dir, `link-${mode.toString(8)}`);
    await symlink(file, link);
    await writeFileAtomic(link, "newer");
    expect((await stat(file)).mode & 0o7777).toBe(mode);
    const fresh = path.join(dir, `fresh-${mode.toString(8)}`);
    await writeFileAtomic(fresh, "x");
    expect((await stat(fresh)).mode & 0o7777).toBe(0o666 & ~process.umask());
  });
});
