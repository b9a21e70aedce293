import { readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { atomiton, ROOT, useTempDir } from "../helpers/cli.js";

// A secret's value, in plain, JSON-escaped and base64 form, appears nowhere atomiton writes:
// terminal output of every reporter, NDJSON, the run record, the event log, --output files.

const FIXTURES = path.join(ROOT, "test/fixtures/failures");

/** The forms a secret may take in output: as is, inside a JSON string, base64. */
function forms(secret: string): Record<string, string> {
  return { plain: secret, "JSON-escaped": JSON.stringify(secret).slice(1, -1), base64: Buffer.from(secret).toString("base64") };
}

function expectNoLeak(where: string, text: string, secret: string): void {
  for (const [form, value] of Object.entries(forms(secret))) {
    expect(text.includes(value), `${form} form of the secret in ${where}:\n${text}`).toBe(false);
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Everything in the data dir's runs folder, by file name. */
async function storedFiles(dataDir: string): Promise<Map<string, string>> {
  const runs = path.join(dataDir, "runs");
  const files = new Map<string, string>();
  for (const name of await readdir(runs)) files.set(name, await readFile(path.join(runs, name), "utf8"));
  return files;
}

let dir: string;
useTempDir((d) => (dir = d), "atomiton-secrets-");

describe("secret redaction", () => {
  test.each([
    { mark: "composite secrets:", fixture: "secrets-marked.yaml", args: [], secret: "s3cr3t-Value-123" },
    { mark: "--secret API_TOKEN", fixture: "secrets-unmarked.yaml", args: ["--secret", "API_TOKEN"], secret: "s3cr3t-Value-123" },
    // Quotes and backslashes change the JSON form; <, & and > the XML of JUnit reports.
    { mark: "composite secrets:", fixture: "secrets-marked.yaml", args: [], secret: 'pa"ss\\word<&>-456' },
    { mark: "--secret API_TOKEN", fixture: "secrets-unmarked.yaml", args: ["--secret", "API_TOKEN"], secret: 'pa"ss\\word<&>-456' },
  ])("marked by $mark, value $secret: nothing leaks from any reporter, the record, the event log or --output", async ({ fixture, args, secret }) => {
    const env = { API_TOKEN: secret };
    const file = path.join(FIXTURES, fixture);
    const runs = [
      { reporter: "plain", output: "out-plain.json" },
      { reporter: "json", output: "out-json.json" },
      { reporter: "github", output: "out-github.json" },
      { reporter: "junit", output: "junit.xml" },
    ];
    for (const { reporter, output } of runs) {
      const r = await atomiton(["run", file, "--reporter", reporter, "--output", output, ...args], { cwd: dir, env: { ...env, GITHUB_ACTIONS: "true" } });
      expect(r.exitCode, r.stderr).toBe(0);
      expectNoLeak(`${reporter} stdout`, r.stdout, secret);
      expectNoLeak(`${reporter} stderr`, r.stderr, secret);
      const written = await readFile(path.join(dir, output), "utf8");
      expectNoLeak(`--output ${output}`, written, secret);
      if (reporter === "junit") expect(written).not.toContain(escapeXml(secret));
      if (reporter === "plain") {
        // The redaction happened (rather than the nodes never printing anything).
        expect(r.stderr).toContain("say                  | token is ***");
        expect(r.stderr).toContain('shell                | {"token":"***"}');
        expect(r.stderr).toContain("fails                failed");
        expect(r.stderr).toContain("E_NODE: rejected token ***");
        expect(JSON.parse(written)).toMatchObject({ shell: 'plain:***\n***\n{"token":"***"}', json: { token: "***", list: ["***"] } });
      }
      if (reporter === "json") expect(r.stdout).toContain('"message":"token is ***"');
    }
    // Without --output the run output goes to stdout.
    const bare = await atomiton(["run", file, "--reporter", "plain", ...args], { cwd: dir, env });
    expect(bare.exitCode, bare.stderr).toBe(0);
    expect(bare.stdout).toContain('"token": "***"');
    expectNoLeak("stdout (run output)", bare.stdout, secret);

    const stored = await storedFiles(path.join(dir, ".atomiton"));
    expect([...stored.keys()].filter((n) => n.endsWith(".json"))).toHaveLength(runs.length + 1);
    for (const [name, text] of stored) {
      expectNoLeak(name, text, secret);
      if (name.endsWith(".ndjson")) expect(text).toContain("token is ***");
      else expect(JSON.parse(text)).toMatchObject({ nodes: { json: { output: { token: "***" } }, fails: { error: { message: "rejected token ***" } } } });
    }
  });

  test("an unmarked variable is printed as is (the redaction above is not an accident)", async () => {
    const r = await atomiton(["run", path.join(FIXTURES, "secrets-unmarked.yaml"), "--reporter", "plain"], { cwd: dir, env: { API_TOKEN: "s3cr3t-Value-123" } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("token is s3cr3t-Value-123");
    expect(r.stderr).toContain(Buffer.from("s3cr3t-Value-123").toString("base64"));
  });
});

describe("a secret under a key the runner's own events use", () => {
  test("an output field named status, type, runId, nodeId, startedAt or finishedAt is redacted in the json reporter, the log and the record", async () => {
    const secret = "tok_9f8e7d6c5b4a3210";
    const file = path.join(dir, "keys.yaml");
    const values = ["status", "type", "runId", "nodeId", "startedAt", "finishedAt"].map((k) => `${k}: "{{ $env.API_KEY }}"`).join(", ");
    await writeFile(file, `name: keys\nsecrets: [API_KEY]\nnodes:\n  - { id: a, type: edit-fields, parameters: { values: { ${values} } } }\n`);
    const r = await atomiton(["run", file, "--reporter", "json"], { cwd: dir, env: { API_KEY: secret } });
    expect(r.exitCode, r.stderr).toBe(0);
    expectNoLeak("json stdout", r.stdout, secret);
    const finish = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; status?: string; output?: unknown }).find((e) => e.type === "node:finish");
    expect(finish).toMatchObject({ status: "succeeded", output: { status: "***", type: "***", runId: "***", nodeId: "***", startedAt: "***", finishedAt: "***" } });
    const stored = await storedFiles(path.join(dir, ".atomiton"));
    for (const [name, text] of stored) expectNoLeak(name, text, secret);
    const record = [...stored].find(([name]) => name.endsWith(".json"))![1];
    expect(JSON.parse(record)).toMatchObject({ status: "succeeded", nodes: { a: { status: "succeeded", output: { status: "***", runId: "***" } } } });
  });
});

describe("a secret that is also part of the run's own numbers and ids", () => {
  test("a numeric PIN equal to the start of every timestamp: events, log and record stay JSON, replay and runs read them", async () => {
    // The first four digits of the epoch milliseconds start every `ts` for the next 11 days.
    const PIN = String(Date.now()).slice(0, 4);
    const file = path.join(dir, "pin.yaml");
    await writeFile(file, "name: pin\nsecrets: [PIN]\nnodes:\n  - { id: say, type: log, parameters: { message: 'pin is {{ $env.PIN }}' } }\n");
    const json = await atomiton(["run", file, "--reporter", "json"], { cwd: dir, env: { PIN } });
    expect(json.exitCode, json.stderr).toBe(0);
    expect(json.stderr).not.toMatch(/LISTENER_ERROR|not valid JSON/);
    const events = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; ts: number; message?: string });
    expect(events.map((e) => e.type)).toContain("run:finish");
    expect(events.every((e) => typeof e.ts === "number" && String(e.ts).startsWith(PIN))).toBe(true);
    expect(events.find((e) => e.type === "node:log")?.message).toBe("pin is ***");
    const plain = await atomiton(["run", file, "--reporter", "plain"], { cwd: dir, env: { PIN } });
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).toContain("pin is ***");
    expect(plain.stderr).not.toMatch(/LISTENER_ERROR/);
    // The stored log and record parse, and the commands that read them work.
    const stored = await storedFiles(path.join(dir, ".atomiton"));
    for (const [name, text] of stored) for (const line of name.endsWith(".ndjson") ? text.trim().split("\n") : [text]) expect(() => JSON.parse(line), name).not.toThrow();
    const runId = [...stored.keys()].find((n) => n.endsWith(".json"))!.replace(/\.json$/, "");
    const replay = await atomiton(["replay", runId, "--reporter", "plain"], { cwd: dir });
    expect(replay.exitCode, replay.stderr).toBe(0);
    expect(replay.stderr).toContain("pin is ***");
    const list = await atomiton(["runs"], { cwd: dir });
    expect(list.stdout).toContain(runId);
    expect(list.stdout + list.stderr).not.toMatch(/could not be read/);
  });
});

describe("encoded and split secrets", () => {
  // "k9+Zx/Qw==" is "k9%2BZx%2FQw%3D%3D" in a query string; the others are long enough to wrap.
  const API_KEY = "k9+Zx/Qw==";
  const LONG_TOKEN = "tok-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ-9876543210";
  const PEM_KEY = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX\n-----END KEY-----";
  let server: Server;
  let serverUrl: string;
  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(401, { "content-type": "text/plain" }).end("no"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Every encoded form the fixture prints, and the pieces of the split ones. */
  function encodedForms(): Record<string, string> {
    const pemLine = PEM_KEY.split("\n")[1]!;
    const wrapped = Buffer.from(LONG_TOKEN).toString("base64");
    return {
      "URL-encoded": encodeURIComponent(API_KEY),
      "form-encoded": new URLSearchParams({ k: API_KEY }).toString().slice(2),
      hex: Buffer.from(API_KEY).toString("hex"),
      "raw key": API_KEY,
      "PEM line": pemLine,
      "base64 first line": wrapped.slice(0, 76),
      "base64 second line": wrapped.slice(76),
    };
  }

  function expectNoEncodedLeak(where: string, text: string): void {
    for (const [form, value] of Object.entries(encodedForms())) expect(text.includes(value), `${form} form (${value}) in ${where}:\n${text}`).toBe(false);
  }

  test("URL-encoded, hex, wrapped base64 and multi-line secrets leak from no reporter, record, event log, runs show or replay", async () => {
    const env = { API_KEY, LONG_TOKEN, PEM_KEY, SERVER_URL: serverUrl, GITHUB_ACTIONS: "true" };
    const file = path.join(FIXTURES, "secrets-encoded.yaml");
    for (const reporter of ["plain", "json", "github", "junit"]) {
      const r = await atomiton(["run", file, "--reporter", reporter], { cwd: dir, env });
      expect(r.exitCode, r.stderr).toBe(0);
      expectNoEncodedLeak(`${reporter} stdout`, r.stdout);
      expectNoEncodedLeak(`${reporter} stderr`, r.stderr);
      if (reporter === "plain") {
        // The error names the URL, with its query values masked.
        expect(r.stderr).toContain(`GET ${serverUrl}/private?key=***&page=*** → 401`);
        expect(r.stderr).toMatch(/encode +\| url:\*\*\*/);
        expect(r.stderr).toMatch(/encode +\| hex:\*\*\*/);
      }
    }
    const dataDir = path.join(dir, ".atomiton");
    const stored = await storedFiles(dataDir);
    for (const [name, text] of stored) expectNoEncodedLeak(name, text);
    const runId = [...stored.keys()].find((n) => n.endsWith(".json"))!.replace(/\.json$/, "");
    const show = await atomiton(["runs", "show", runId], { cwd: dir });
    expect(show.exitCode, show.stderr).toBe(0);
    expectNoEncodedLeak("runs show", show.stdout + show.stderr);
    for (const reporter of ["plain", "json"]) {
      const replay = await atomiton(["replay", runId, "--reporter", reporter], { cwd: dir });
      expect(replay.exitCode, replay.stderr).toBe(0);
      expect(replay.stdout + replay.stderr).toContain("***");
      expectNoEncodedLeak(`replay --reporter ${reporter}`, replay.stdout + replay.stderr);
    }
  });
});

describe("a secret in what --resume and replay --from would reuse", () => {
  // `auth` returns the secret (the record keeps `***`); `use` fails the first time and checks it got the real value.
  const COMPOSITE = `name: resume-secret
secrets: [API_TOKEN]
variables:
  v: { type: string, default: "" }
nodes:
  - id: auth
    type: code
    parameters: { code: "return { header: 'Bearer ' + $env.API_TOKEN }" }
  - id: plain
    type: code
    parameters: { code: "return 'nothing secret'" }
  - id: use
    type: code
    parameters: { code: "if ($env.FAIL_ONCE === '1') throw new Error('down'); return { real: $nodes.auth.header === 'Bearer ' + $env.API_TOKEN, plain: $nodes.plain, v: $vars.v }" }
edges: [auth -> use, plain -> use]
`;
  const SECRET = "s3cr3t-Value-123";

  async function failedRun(args: string[] = []): Promise<string> {
    await writeFile(path.join(dir, "resume.yaml"), COMPOSITE);
    const first = await atomiton(["run", "resume.yaml", "--reporter", "plain", ...args], { cwd: dir, env: { API_TOKEN: SECRET, FAIL_ONCE: "1" } });
    expect(first.exitCode, first.stderr).toBe(1);
    const stored = await storedFiles(path.join(dir, ".atomiton"));
    const record = JSON.parse(stored.get([...stored.keys()].find((n) => n.endsWith(".json"))!)!) as { runId: string; nodes: Record<string, { output?: unknown; reusable?: boolean; redacted?: boolean }> };
    expect(record.nodes.auth).toMatchObject({ output: { header: "Bearer ***" }, reusable: false, redacted: true });
    expect(record.nodes.plain!.reusable).toBeUndefined();
    return record.runId;
  }

  test("--resume runs a node whose recorded output was redacted again instead of handing on ***", async () => {
    const runId = await failedRun();
    const r = await atomiton(["run", "--resume", runId, "--reporter", "json", "--output", "out.json"], { cwd: dir, env: { API_TOKEN: SECRET } });
    expect(r.exitCode, r.stderr).toBe(0);
    const finishes = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; nodeId?: string; reason?: string }).filter((e) => e.type === "node:finish");
    expect(finishes.find((e) => e.nodeId === "plain")?.reason).toBe(`reused from run ${runId}`);
    expect(finishes.find((e) => e.nodeId === "auth")?.reason).toBeUndefined();
    expect(JSON.parse(await readFile(path.join(dir, "out.json"), "utf8"))).toMatchObject({ real: true, plain: "nothing secret" });
  });

  test("variables that held a secret are asked for again, not reused as ***", async () => {
    const runId = await failedRun(["--var", `v=${SECRET}`]);
    const again = await atomiton(["run", "--resume", runId, "--reporter", "plain"], { cwd: dir, env: { API_TOKEN: SECRET } });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`--resume ${runId}: the run's variables held a secret's value, which its record keeps only as ***`);
    expect(again.stderr).toContain("--var name=value");
    expect(again.stderr).not.toContain("    at ");
    const given = await atomiton(["run", "--resume", runId, "--var", `v=${SECRET}`, "--reporter", "plain", "--output", "out.json"], { cwd: dir, env: { API_TOKEN: SECRET } });
    expect(given.exitCode, given.stderr).toBe(0);
    const replay = await atomiton(["replay", runId, "--from", "use", "--reporter", "plain"], { cwd: dir, env: { API_TOKEN: SECRET } });
    expect(replay.exitCode).toBe(2);
    expect(replay.stderr).toMatch(/the run's variables held a secret's value|upstream node "auth" has an output that held a secret/);
  });

  test("replay --from below a node whose output was redacted says so, and names the node to start from", async () => {
    const runId = await failedRun();
    const r = await atomiton(["replay", runId, "--from", "use", "--reporter", "plain"], { cwd: dir, env: { API_TOKEN: SECRET } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`--from use: upstream node "auth" has an output that held a secret, which the record keeps only as *** in run ${runId}`);
    const fromAuth = await atomiton(["replay", runId, "--from", "auth", "--reporter", "plain"], { cwd: dir, env: { API_TOKEN: SECRET } });
    expect(fromAuth.exitCode, fromAuth.stderr).toBe(0);
  });
});

describe("a secret that is part of a node's id", () => {
  // The record and the events are redacted as text, so `fetch-abc123` is kept there as `fetch-***`.
  const COMPOSITE = `name: id-secret
secrets: [SHORT]
nodes:
  - { id: fetch-abc123, type: edit-fields, parameters: { values: { a: 1 } } }
  - { id: use, type: code, parameters: { code: "if ($env.FAIL_ONCE === '1') throw new Error('down'); return $input" } }
edges: [fetch-abc123 -> use]
`;

  test("replay --from below it and --resume find the node under its redacted id", async () => {
    await writeFile(path.join(dir, "ids.yaml"), COMPOSITE);
    const env = { SHORT: "abc123" };
    const first = await atomiton(["run", "ids.yaml", "--reporter", "plain"], { cwd: dir, env: { ...env, FAIL_ONCE: "1" } });
    expect(first.exitCode, first.stderr).toBe(1);
    const stored = await storedFiles(path.join(dir, ".atomiton"));
    const record = JSON.parse(stored.get([...stored.keys()].find((n) => n.endsWith(".json"))!)!) as { runId: string; nodes: Record<string, unknown> };
    expect(Object.keys(record.nodes).sort()).toEqual(["fetch-***", "use"]);

    const replay = await atomiton(["replay", record.runId, "--from", "use", "--reporter", "plain"], { cwd: dir, env });
    expect(replay.exitCode, replay.stderr).toBe(0);
    const resume = await atomiton(["run", "--resume", record.runId, "--reporter", "json"], { cwd: dir, env });
    expect(resume.exitCode, resume.stderr).toBe(0);
    const reused = resume.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; nodeId?: string; reason?: string }).find((e) => e.type === "node:finish" && e.nodeId === "fetch-***");
    expect(reused?.reason).toBe(`reused from run ${record.runId}`);
  });
});

describe("a --secret name in what --resume and replay redact", () => {
  const COMPOSITE = `name: named-secret
nodes:
  - { id: a, type: code, parameters: { code: "return 'nothing secret'" } }
  - { id: b, type: code, parameters: { code: "if ($env.FAIL === '1') throw new Error('down'); return 'b ' + $env.MY_TOKEN" } }
edges: [a -> b]
`;
  const SECRET = "named-Secret-4567";

  test("the record keeps the names (not the values), and a resume or replay without --secret still redacts them", async () => {
    await writeFile(path.join(dir, "named.yaml"), COMPOSITE);
    const first = await atomiton(["run", "named.yaml", "--secret", "MY_TOKEN", "--reporter", "plain"], { cwd: dir, env: { MY_TOKEN: SECRET, FAIL: "1" } });
    expect(first.exitCode, first.stderr).toBe(1);
    let stored = await storedFiles(path.join(dir, ".atomiton"));
    const record = JSON.parse(stored.get([...stored.keys()].find((n) => n.endsWith(".json"))!)!) as { runId: string; secretNames?: string[] };
    expect(record.secretNames).toEqual(["MY_TOKEN"]);

    const resume = await atomiton(["run", "--resume", record.runId, "--reporter", "plain"], { cwd: dir, env: { MY_TOKEN: SECRET } });
    expect(resume.exitCode, resume.stderr).toBe(0);
    expect(resume.stdout).toContain("b ***");
    // The resumed run keeps the names too: a replay of it from b, again without --secret.
    const resumed = /run (\S+) saved/.exec(resume.stderr + resume.stdout)![1]!;
    const replay = await atomiton(["replay", resumed, "--from", "b", "--reporter", "json"], { cwd: dir, env: { MY_TOKEN: SECRET } });
    expect(replay.exitCode, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('"output":"b ***"');
    for (const r of [resume, replay]) expectNoLeak("a resumed or replayed run's output", r.stdout + r.stderr, SECRET);
    stored = await storedFiles(path.join(dir, ".atomiton"));
    for (const [name, text] of stored) expectNoLeak(name, text, SECRET);
  });
});

describe("a secret given on the command line", () => {
  const COMPOSITE = `name: flags-secret
secrets: [API_TOKEN]
variables:
  n: { type: number, default: 1 }
nodes:
  - id: a
    type: log
    parameters: { message: hi, level: info }
`;
  const SECRET = "hunter2-Value-789";

  test.each([
    { what: "a --var that cannot be coerced", args: ["--var", `n=${SECRET}`], reporters: ["plain"], message: 'variable "n" is declared as number' },
    { what: "an --input that does not parse", args: ["--input", SECRET], reporters: ["plain"], message: "--input" },
    { what: "a --set that fails validation", args: ["--set", `a.level=${SECRET}`], reporters: ["plain", "github", "junit"], message: "--set a.level" },
    // Malformed: refused before the composite is read, whose secrets: are then read for the message.
    { what: "a --set without a node id", args: ["--set", `a=${SECRET}`], reporters: ["plain"], message: "expected <nodeId>.<param>=<value>" },
    { what: "a --var without a name", args: ["--var", SECRET], reporters: ["plain"], message: "expected key=value" },
  ])("is redacted from $what, in every reporter's form of it", async ({ args, reporters, message }) => {
    await writeFile(path.join(dir, "flags.yaml"), COMPOSITE);
    for (const reporter of reporters) {
      const r = await atomiton(["run", "flags.yaml", "--reporter", reporter, ...args], { cwd: dir, env: { API_TOKEN: SECRET, GITHUB_ACTIONS: "true" } });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr + r.stdout).toContain(message);
      expect(r.stderr + r.stdout).toContain("***");
      expectNoLeak(`${reporter} stderr`, r.stderr, SECRET);
      expectNoLeak(`${reporter} stdout`, r.stdout, SECRET);
    }
    // Marked by --secret instead of the composite: the same.
    await writeFile(path.join(dir, "flags.yaml"), COMPOSITE.replace("secrets: [API_TOKEN]\n", ""));
    const flagged = await atomiton(["run", "flags.yaml", "--reporter", "plain", "--secret", "API_TOKEN", ...args], { cwd: dir, env: { API_TOKEN: SECRET } });
    expect(flagged.exitCode, flagged.stderr).toBe(2);
    expectNoLeak("stderr with --secret", flagged.stderr, SECRET);
  });
});

test("an output that is bytes is redacted too, byte for byte, in a file and through a pipe", async () => {
  const SECRET = "s3cr3t-Value-123";
  await writeFile(path.join(dir, "bytes.yaml"), 'name: bytes\nsecrets: [API_TOKEN]\nnodes:\n  - id: b\n    type: code\n    parameters: { code: "return Uint8Array.from(\\"token=\\" + $env.API_TOKEN + \\";\\", (c) => c.charCodeAt(0))" }\n');
  const r = await atomiton(["run", "bytes.yaml", "--reporter", "silent", "--output", "out.bin"], { cwd: dir, env: { API_TOKEN: SECRET } });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await readFile(path.join(dir, "out.bin"), "latin1")).toBe("token=***;");
  const piped = await atomiton(["run", "bytes.yaml", "--reporter", "silent", "--output", "-"], { cwd: dir, env: { API_TOKEN: SECRET } });
  expect(piped.stdout).toBe("token=***;");
});
