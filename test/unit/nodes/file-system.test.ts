import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { AtomitonError, ErrorCode } from "../../../src/errors.js";
import fileSystem from "../../../src/nodes/builtin/file-system.js";
import { createTempDir, exampleParameters, parseParameters, rejectionOf, removeTempDir, runNode, startNode } from "../../helpers/node-context.js";

let workdir: string;

beforeEach(async () => {
  workdir = await createTempDir("atomiton-fs-");
});
afterEach(() => removeTempDir(workdir));

const at = (...parts: string[]): string => path.join(workdir, ...parts);

async function makeTree(): Promise<void> {
  await mkdir(at("images", "nested"), { recursive: true });
  await writeFile(at("images", "b.png"), "png");
  await writeFile(at("images", "a.jpg"), "jpg");
  await writeFile(at("images", "c.gif"), "gif");
  await writeFile(at("images", "D.PNG"), "PNG");
  await writeFile(at("images", "notes.txt"), "text");
  await writeFile(at("images", ".hidden.png"), "hidden");
  await writeFile(at("images", "nested", "e.png"), "nested png");
}

describe("file-system parameters", () => {
  test("defaults", () => {
    expect(fileSystem.parameters.parse({ path: "x" })).toEqual({
      path: "x",
      operation: "read",
      encoding: "utf8",
      createDirectories: true,
      overwrite: true,
      pattern: "*",
      recursive: false,
      includeStats: false,
      includeHidden: false,
      caseSensitive: true,
    });
  });

  test("path is required (filePath is accepted)", () => {
    const result = fileSystem.parameters.safeParse({});
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["path"]);
    expect(fileSystem.parameters.safeParse({ filePath: "x" }).success).toBe(true);
  });

  test("editor aliases: filePath → path, createDirectory → createDirectories", () => {
    expect(fileSystem.parameterAliases).toMatchObject({ filePath: "path", createDirectory: "createDirectories" });
    expect(parseParameters(fileSystem, { filePath: "out.txt", createDirectory: false })).toMatchObject({ path: "out.txt", createDirectories: false });
  });

  test.each(["utf-8", "utf8", "ascii", "base64", "binary", "latin1"])("encoding %s is accepted", (encoding) => {
    expect(fileSystem.parameters.safeParse({ path: "x", encoding }).success).toBe(true);
  });

  test("unknown operations and encodings are rejected", () => {
    expect(fileSystem.parameters.safeParse({ path: "x", operation: "append" }).success).toBe(false);
    expect(fileSystem.parameters.safeParse({ path: "x", encoding: "klingon" }).success).toBe(false);
  });

  test("has an example", async () => {
    const examples = await exampleParameters(fileSystem);
    expect(examples.length).toBeGreaterThan(0);
    for (const raw of examples) expect(parseParameters(fileSystem, raw)).toBeTruthy();
  });
});

describe("file-system read / exists / create", () => {
  test("read returns the text of a file relative to the workdir", async () => {
    await writeFile(at("hello.txt"), "héllo");
    expect((await runNode(fileSystem, { path: "hello.txt" }, { workdir })).output).toBe("héllo");
    // A NUL in a path is an E_PARAM naming it, not Node's bare argument error.
    const nul = await rejectionOf(runNode(fileSystem, { path: "hel\u0000lo.txt" }, { workdir }));
    expect(nul).toMatchObject({ code: ErrorCode.PARAM, message: expect.stringContaining("contains a NUL character") });
    expect((await runNode(fileSystem, { path: "hello.txt", encoding: "base64" }, { workdir })).output).toBe(Buffer.from("héllo").toString("base64"));
  });

  test("read of a missing file → non-retryable E_FILE with the resolved path", async () => {
    const error = await rejectionOf(runNode(fileSystem, { path: "missing.txt" }, { workdir }));
    expect(error).toBeInstanceOf(AtomitonError);
    expect(error.code).toBe(ErrorCode.FILE);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(at("missing.txt"));
  });

  test("read of a directory suggests list", async () => {
    const error = await rejectionOf(runNode(fileSystem, { path: "." }, { workdir }));
    expect(error.code).toBe(ErrorCode.FILE);
    expect(error.hint).toContain("operation: list");
  });

  test("exists", async () => {
    await writeFile(at("there"), "");
    expect((await runNode(fileSystem, { operation: "exists", path: "there" }, { workdir })).output).toBe(true);
    expect((await runNode(fileSystem, { operation: "exists", path: "not-there" }, { workdir })).output).toBe(false);
  });

  test("create makes directories (mkdir -p) and reports whether it did", async () => {
    expect((await runNode(fileSystem, { operation: "create", path: "a/b/c" }, { workdir })).output).toEqual({ path: at("a", "b", "c"), created: true });
    expect((await runNode(fileSystem, { operation: "create", path: "a/b/c" }, { workdir })).output).toEqual({ path: at("a", "b", "c"), created: false });
  });
});

describe("file-system write", () => {
  test.each([
    ["a string as-is", "line 1\nline 2", "line 1\nline 2"],
    ["an object as pretty JSON", { total: 462.75, count: 3 }, '{\n  "total": 462.75,\n  "count": 3\n}\n'],
    ["an array as pretty JSON", [1, "a"], '[\n  1,\n  "a"\n]\n'],
    ["a number as text", 42, "42"],
  ])("writes %s (content defaults to the input)", async (_name, input, expected) => {
    const { output } = await runNode(fileSystem, { operation: "write", path: "out/result.txt" }, { workdir, input });
    expect(output).toEqual({ path: at("out", "result.txt"), name: "result.txt", size: Buffer.byteLength(expected) });
    expect(await readFile(at("out", "result.txt"), "utf8")).toBe(expected);
  });

  test("`content` wins over the input; base64 content is decoded to bytes", async () => {
    await runNode(fileSystem, { operation: "write", path: "c.txt", content: "from content" }, { workdir, input: "from input" });
    expect(await readFile(at("c.txt"), "utf8")).toBe("from content");
    await runNode(fileSystem, { operation: "write", path: "b.bin", content: Buffer.from([0, 255]).toString("base64"), encoding: "base64" }, { workdir });
    expect([...(await readFile(at("b.bin")))]).toEqual([0, 255]);
  });

  test("bytes and items carrying `data` bytes are written as bytes", async () => {
    await runNode(fileSystem, { operation: "write", path: "raw.bin" }, { workdir, input: Buffer.from([1, 2, 3]) });
    expect([...(await readFile(at("raw.bin")))]).toEqual([1, 2, 3]);
    await runNode(fileSystem, { operation: "write", path: "img.jpg" }, { workdir, input: { data: Buffer.from([9, 8]), name: "photo.png", format: "jpeg" } });
    expect([...(await readFile(at("img.jpg")))]).toEqual([9, 8]);
  });

  test.each([
    ["a path without extension that does not exist", "out/images", "sample-photo.jpg"],
    ["a path ending in /", "out/images.d/", "sample-photo.jpg"],
  ])("an image item written into %s is named after its source with the new format's extension", async (_name, target, expected) => {
    const item = { data: Buffer.from([1]), name: "sample-photo.png", path: "/src/sample-photo.png", format: "jpeg", width: 800, height: 533 };
    const { output } = await runNode(fileSystem, { operation: "write", filePath: target, createDirectory: true }, { workdir, input: item });
    expect((output as { path: string }).path).toBe(path.join(workdir, target, expected));
    expect([...(await readFile((output as { path: string }).path))]).toEqual([1]);
  });

  test("explicit `content` to a path without extension writes that file, whatever names the input carries", async () => {
    const { output } = await runNode(fileSystem, { operation: "write", path: "out/LICENSE", content: "MIT Alice" }, { workdir, input: { name: "Alice" } });
    expect((output as { path: string }).path).toBe(at("out", "LICENSE"));
    expect(await readFile(at("out", "LICENSE"), "utf8")).toBe("MIT Alice");
  });

  test("an existing directory receives the item by name (basename of path when there is no name)", async () => {
    await mkdir(at("dest"));
    const { output } = await runNode(fileSystem, { operation: "write", path: "dest" }, { workdir, input: { data: Buffer.from("x"), path: "/a/b/pic.webp" } });
    expect((output as { path: string }).path).toBe(at("dest", "pic.webp"));
  });

  test("writing into a directory without a name to give the file fails clearly", async () => {
    await mkdir(at("dest"));
    const error = await rejectionOf(runNode(fileSystem, { operation: "write", path: "dest" }, { workdir, input: "just text" }));
    expect(error.code).toBe(ErrorCode.NODE_INPUT);
    expect(error.message).toContain(at("dest"));
  });

  test("overwrite: false refuses an existing file", async () => {
    await writeFile(at("keep.txt"), "original");
    const error = await rejectionOf(runNode(fileSystem, { operation: "write", path: "keep.txt", overwrite: false }, { workdir, input: "new" }));
    expect(error.code).toBe(ErrorCode.FILE);
    expect(error.retryable).toBe(false);
    expect(await readFile(at("keep.txt"), "utf8")).toBe("original");
  });

  test("createDirectories: false fails when the parent is missing", async () => {
    const error = await rejectionOf(runNode(fileSystem, { operation: "write", path: "no/such/dir/f.txt", createDirectories: false }, { workdir, input: "x" }));
    expect(error.code).toBe(ErrorCode.FILE);
    expect(error.retryable).toBe(false);
  });

  test("nothing to write → E_NODE_INPUT", async () => {
    const error = await rejectionOf(runNode(fileSystem, { operation: "write", path: "f.txt" }, { workdir }));
    expect(error.code).toBe(ErrorCode.NODE_INPUT);
  });

  test("writes are atomic: no temp files are left beside the target", async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => runNode(fileSystem, { operation: "write", path: "same.txt" }, { workdir, input: `writer ${i}`.repeat(1000) })));
    expect(await readdir(workdir)).toEqual(["same.txt"]);
    expect(await readFile(at("same.txt"), "utf8")).toMatch(/^(writer \d)+$/);
  });
});

describe("file-system list", () => {
  test("brace patterns work; entries have name and absolute path, sorted by path; hidden files skipped", async () => {
    await makeTree();
    const { output } = await runNode(fileSystem, { operation: "list", filePath: "images", pattern: "*.{jpg,png,gif}" }, { workdir });
    expect(output).toEqual([
      { name: "a.jpg", path: at("images", "a.jpg"), relativePath: "a.jpg", isFile: true, isDirectory: false },
      { name: "b.png", path: at("images", "b.png"), relativePath: "b.png", isFile: true, isDirectory: false },
      { name: "c.gif", path: at("images", "c.gif"), relativePath: "c.gif", isFile: true, isDirectory: false },
    ]);
  });

  test("the default pattern lists files and directories at the top level", async () => {
    await makeTree();
    const { output } = await runNode(fileSystem, { operation: "list", path: "images" }, { workdir });
    expect((output as { name: string }[]).map((e) => e.name)).toEqual(["D.PNG", "a.jpg", "b.png", "c.gif", "nested", "notes.txt"]);
    expect((output as { name: string; isDirectory: boolean }[]).find((e) => e.name === "nested")?.isDirectory).toBe(true);
  });

  test("includeStats adds size and ISO modified time", async () => {
    await makeTree();
    const { output } = await runNode(fileSystem, { operation: "list", path: "images", pattern: "notes.txt", includeStats: true }, { workdir });
    const [entry] = output as { size: number; modified: string }[];
    expect(entry?.size).toBe(4);
    expect(entry?.modified).toBe((await stat(at("images", "notes.txt"))).mtime.toISOString());
  });

  test.each([
    [{ recursive: true, pattern: "*.png" }, ["b.png", "nested/e.png"]],
    [{ pattern: "*.png", caseSensitive: false }, ["D.PNG", "b.png"]],
    [{ pattern: "*.png", includeHidden: true }, [".hidden.png", "b.png"]],
    [{ pattern: "**/*.png" }, ["b.png", "nested/e.png"]],
  ])("options %j", async (options, expected) => {
    await makeTree();
    const { output } = await runNode(fileSystem, { operation: "list", path: "images", ...options }, { workdir });
    expect((output as { relativePath: string }[]).map((e) => e.relativePath)).toEqual(expected);
  });

  test.each([
    ["a missing directory", "nope", "does not exist"],
    ["a file", "images/notes.txt", "not a directory"],
  ])("list of %s → non-retryable E_FILE", async (_name, p, message) => {
    await makeTree();
    const error = await rejectionOf(runNode(fileSystem, { operation: "list", path: p }, { workdir }));
    expect(error.code).toBe(ErrorCode.FILE);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(message);
  });
});

describe("file-system delete / copy / move", () => {
  test("delete a file, then report deleted: false for a missing one", async () => {
    await writeFile(at("gone.txt"), "x");
    expect((await runNode(fileSystem, { operation: "delete", path: "gone.txt" }, { workdir })).output).toEqual({ path: at("gone.txt"), deleted: true });
    expect((await runNode(fileSystem, { operation: "delete", path: "gone.txt" }, { workdir })).output).toEqual({ path: at("gone.txt"), deleted: false });
  });

  test("a non-empty directory needs recursive: true", async () => {
    await makeTree();
    const error = await rejectionOf(runNode(fileSystem, { operation: "delete", path: "images" }, { workdir }));
    expect(error.code).toBe(ErrorCode.FILE);
    expect(error.hint).toContain("recursive: true");
    expect(((await runNode(fileSystem, { operation: "delete", path: "images", recursive: true }, { workdir })).output as { deleted: boolean }).deleted).toBe(true);
    expect(await readdir(workdir)).toEqual([]);
  });

  test.each([".", "..", "/"])("refuses to delete %s (the workdir, its ancestors, the root)", async (p) => {
    const error = await rejectionOf(runNode(fileSystem, { operation: "delete", path: p, recursive: true }, { workdir }));
    expect(error.code).toBe(ErrorCode.FILE);
    expect(error.retryable).toBe(false);
    expect((await stat(workdir)).isDirectory()).toBe(true);
  });

  test.each(["~", "~/", "~/.", "~/sub/..", "HOME_PARENT"])("refuses to delete %s (the home directory, written any way, or a directory holding it)", async (written) => {
    const outer = await createTempDir("atomiton-home-");
    const home = path.join(outer, "inner", "home");
    await mkdir(path.join(home, "sub"), { recursive: true });
    await writeFile(path.join(home, "keep.txt"), "keep");
    const saved = process.env.HOME;
    process.env.HOME = home; // os.homedir() reads it
    try {
      const target = written === "HOME_PARENT" ? path.dirname(home) : written;
      const error = await rejectionOf(runNode(fileSystem, { operation: "delete", path: target, recursive: true }, { workdir }));
      expect(error.code).toBe(ErrorCode.FILE);
      expect(error.message).toContain("refusing to delete");
      expect(await readFile(path.join(home, "keep.txt"), "utf8")).toBe("keep");
    } finally {
      process.env.HOME = saved;
      await removeTempDir(outer);
    }
  });

  test("copy a file, a file into a directory, and a directory recursively", async () => {
    await makeTree();
    await mkdir(at("backup"));
    expect((await runNode(fileSystem, { operation: "copy", path: "images/a.jpg", destination: "copies/x.jpg" }, { workdir })).output).toEqual({ path: at("copies", "x.jpg"), sourcePath: at("images", "a.jpg") });
    expect(((await runNode(fileSystem, { operation: "copy", path: "images/a.jpg", destination: "backup" }, { workdir })).output as { path: string }).path).toBe(at("backup", "a.jpg"));
    await runNode(fileSystem, { operation: "copy", path: "images", destination: "images-copy" }, { workdir });
    expect(await readFile(at("images-copy", "nested", "e.png"), "utf8")).toBe("nested png");
    expect(await readFile(at("images", "a.jpg"), "utf8")).toBe("jpg");
  });

  test("copy with overwrite: false refuses an existing target", async () => {
    await writeFile(at("a.txt"), "a");
    await writeFile(at("b.txt"), "b");
    const error = await rejectionOf(runNode(fileSystem, { operation: "copy", path: "a.txt", destination: "b.txt", overwrite: false }, { workdir }));
    expect(error.code).toBe(ErrorCode.FILE);
    expect(await readFile(at("b.txt"), "utf8")).toBe("b");
  });

  test("move renames; the destination may come from the targetPath input", async () => {
    await writeFile(at("from.txt"), "moving");
    const { output } = await runNode(fileSystem, { operation: "move", path: "from.txt" }, { workdir, inputs: { targetPath: "sub/to.txt" } });
    expect(output).toEqual({ path: at("sub", "to.txt"), sourcePath: at("from.txt") });
    expect(await readdir(workdir)).toEqual(["sub"]);
  });

  test.each([
    ["a missing source", { operation: "copy", path: "nope", destination: "x" }, ErrorCode.FILE],
    ["no destination", { operation: "move", path: "." }, ErrorCode.NODE_INPUT],
  ])("copy/move with %s fails without retry", async (_name, raw, code) => {
    const error = await rejectionOf(runNode(fileSystem, raw, { workdir }));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(false);
  });
});

describe("file-system cancellation", () => {
  test("an aborted signal rejects with the abort reason", async () => {
    await writeFile(at("f.txt"), "x");
    const started = startNode(fileSystem, { operation: "read", path: "f.txt" }, { workdir });
    started.controller.abort();
    const error = await rejectionOf(started.result);
    expect(error.code).toBe(ErrorCode.CANCELLED);
  });
});
