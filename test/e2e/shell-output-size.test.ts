// A failing command with a lot of output (binary data: NUL and other control bytes) crashed the
// whole CLI with V8's "Fatal JavaScript invalid size error" and a native stack (exit 133, the record
// left `running`): execa built an error message holding the whole output with every control
// character escaped. The node now keeps the output itself, and the failure is an ordinary E_COMMAND.
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-shell-output-");

async function runShell(command: string): Promise<{ exitCode: number | undefined; stderr: string; record: { status: string; nodes: Record<string, { status: string; error?: { code: string; message: string } }> } }> {
  await writeFile(path.join(dir, "flow.yaml"), `name: out\nnodes:\n  - id: s\n    type: shell-command\n    parameters:\n      command: ${JSON.stringify(command)}\n`);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, timeout: 120_000 });
  const [file] = (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"));
  const record = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", file!), "utf8")) as Awaited<ReturnType<typeof runShell>>["record"];
  return { exitCode: r.exitCode, stderr: r.stderr, record };
}

test("a command that prints 80 MB of NUL bytes and fails is an E_COMMAND with its stderr, not a crash", async () => {
  const { exitCode, stderr, record } = await runShell("head -c 80000000 /dev/zero; echo boom >&2; exit 3");
  expect(stderr).not.toMatch(/Fatal|Native stack trace/);
  expect(exitCode).toBe(1);
  expect(record.status).toBe("failed");
  expect(record.nodes.s!.error!.code).toBe("E_COMMAND");
  expect(record.nodes.s!.error!.message).toMatch(/exited with code 3:\nboom/);
}, 180_000);

test("a command whose output goes over the limit fails with E_COMMAND saying so, and is stopped", async () => {
  const { exitCode, stderr, record } = await runShell("head -c 150000000 /dev/zero; sleep 300");
  expect(stderr).not.toMatch(/Fatal|Native stack trace|was not found/);
  expect(exitCode).toBe(1);
  expect(record.nodes.s!.error!.code).toBe("E_COMMAND");
  expect(record.nodes.s!.error!.message).toMatch(/produced more output than can be kept in memory/);
}, 180_000);
