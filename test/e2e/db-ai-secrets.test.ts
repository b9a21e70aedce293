import { readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { postgresAvailability, startPostgres, type TestPostgres } from "../helpers/postgres.js";

// Secrets through the built CLI: a database URL with a password and an API key never reach
// stdout, stderr, the stored run record or its event log.
let dir: string;
useTempDir((d) => (dir = d), "atomiton-secrets-");

async function everything(result: { stdout: string; stderr: string }): Promise<string> {
  const dataDir = path.join(dir, ".atomiton");
  const files = await readdir(dataDir, { recursive: true }).catch(() => [] as string[]);
  const texts = await Promise.all(files.map((f) => readFile(path.join(dataDir, f), "utf8").catch(() => "")));
  expect(files.some((f) => f.endsWith(".ndjson"))).toBe(true);
  return [result.stdout, result.stderr, ...texts].join("\n");
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sqlFlow = (query: string) => `name: secret-sql
secrets: [DATABASE_URL]
nodes:
  - id: q
    type: sql
    parameters: { connection: "{{ $env.DATABASE_URL }}", query: "${query}" }
`;

const PASSWORD = "Hunter2-s3cret-pw";

describe("sql: a secret connection URL is never printed", () => {
  test("a refused connection names host and port, not the URL or its password", async () => {
    const url = `postgres://app:${PASSWORD}@127.0.0.1:${await closedPort()}/shop`;
    await writeFile(path.join(dir, "flow.yaml"), sqlFlow("SELECT 1"));
    for (const reporter of ["plain", "json"]) {
      const r = await atomiton(["run", "flow.yaml", "--reporter", reporter], { cwd: dir, env: { DATABASE_URL: url } });
      expect(r.exitCode).toBe(1);
      const all = await everything(r);
      expect(all).toContain("E_NETWORK");
      expect(all).toMatch(/sql \(postgres 127\.0\.0\.1:\d+\/shop\): cannot reach the server/);
      expect(all).not.toContain(PASSWORD);
    }
  });

  const availability = postgresAvailability();
  describe.runIf(availability.available)("with a real server", () => {
    let server: TestPostgres;
    beforeAll(async () => {
      server = await startPostgres();
    }, 180_000);
    afterAll(async () => {
      await server?.stop();
    }, 60_000);

    test("a failing query reports its SQLSTATE, never the URL", async () => {
      const url = new URL(server.url);
      url.password = PASSWORD; // ignored by a trust-auth server, and must not leak
      await writeFile(path.join(dir, "flow.yaml"), sqlFlow("SELEC 1"));
      const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir, env: { DATABASE_URL: url.toString() } });
      expect(r.exitCode).toBe(1);
      const all = await everything(r);
      expect(all).toContain("[SQLSTATE 42601]");
      expect(all).not.toContain(PASSWORD);
      expect(all).not.toContain(url.toString());
    });
  });
});

describe("llm: the API key is absent from every output", () => {
  const KEY = "sk-live-0a1b2c3d4e5f6a7b8c9d";
  let api: FakeOpenAI;
  beforeAll(async () => {
    api = await startFakeOpenAI();
  });
  afterAll(async () => {
    await api.close();
  });

  const flow = (stream: boolean) => `name: secret-llm
secrets: [OPENAI_API_KEY]
nodes:
  - id: ask
    type: llm
    parameters:
      baseUrl: ${api.baseUrl}
      model: tiny-1
      apiKey: "{{ $env.OPENAI_API_KEY }}"
      prompt: Say something
      stream: ${stream}
      retry: { attempts: 1 }
`;

  test("a 401 whose body echoes the key and the request headers", async () => {
    api.queue.push({ status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}`, request: { headers: { authorization: `Bearer ${KEY}` } } } }) });
    await writeFile(path.join(dir, "flow.yaml"), flow(false));
    const r = await atomiton(["run", "flow.yaml", "--reporter", "json"], { cwd: dir, env: { OPENAI_API_KEY: KEY } });
    expect(r.exitCode).toBe(1);
    expect(api.requests.at(-1)!.headers.authorization).toBe(`Bearer ${KEY}`);
    const all = await everything(r);
    expect(all).toContain("401 Unauthorized");
    expect(all).not.toContain(KEY);
  });

  test("a streamed answer (progress and logs) that repeats the key", async () => {
    api.queue.push({ stream: ["Your key is ", KEY, "\nbye"] });
    await writeFile(path.join(dir, "flow.yaml"), flow(true));
    const r = await atomiton(["run", "flow.yaml", "--reporter", "json"], { cwd: dir, env: { OPENAI_API_KEY: KEY } });
    expect(r.exitCode, r.stderr).toBe(0);
    const all = await everything(r);
    expect(all).toContain('"type":"node:progress"');
    expect(all).toContain("Your key is ***");
    expect(all).not.toContain(KEY);
  });
});
