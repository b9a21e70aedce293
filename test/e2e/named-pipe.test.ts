import { execFileSync } from "node:child_process";
import { open, readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { BIN, EXAMPLES, useTempDir } from "../helpers/cli.js";

// A composite read from a named pipe (`mkfifo`, `<(cmd)`): it waits for its writer, and an interrupt
// while it waits ends the process at once (it used to hang until `kill -9`).
const hasMkfifo = (() => {
  try {
    execFileSync("mkfifo", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasMkfifo) console.warn("named-pipe tests skipped: no mkfifo (coreutils)");

describe.skipIf(!hasMkfifo || process.platform === "win32")("a composite file that is a named pipe", () => {
  let dir = "";
  useTempDir((d) => (dir = d));

  const fifo = (name: string): string => {
    const file = path.join(dir, name);
    execFileSync("mkfifo", [file]);
    return file;
  };

  test.each(["SIGTERM", "SIGINT", "SIGHUP"] as const)("%s while validate waits for a writer: exit 130 at once", async (signal) => {
    const file = fifo("nobody-writes.yaml");
    const child = execa("node", [BIN, "validate", file], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1_000)); // started and waiting on the pipe
    child.kill(signal);
    const r = await child;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(130);
  });

  test("run reads what a writer sends later, and runs it", async () => {
    const file = fifo("later.yaml");
    const child = execa("node", [BIN, "run", file, "--reporter", "plain", "--storage", "memory"], { reject: false, cwd: dir, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    const writer = await open(file, "w");
    await writer.writeFile(await readFile(path.join(EXAMPLES, "hello.yaml")));
    await writer.close();
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/run hello started · 4 nodes · later\.yaml[\s\S]*run succeeded/);
  });
});
