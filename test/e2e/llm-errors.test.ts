// The built CLI against an OpenAI-compatible server on 127.0.0.1 that refuses a request (4xx) with
// a JSON error body: the node's error says the provider's own message after the status, as an
// error object in a 200 answer does; the whole body stays in the error's details.
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";

let dir: string;
useTempDir((d) => (dir = d));
let api: FakeOpenAI;
beforeAll(async () => {
  api = await startFakeOpenAI();
});
afterAll(async () => {
  await api.close();
});

const flow = () => `nodes:
  - id: ask
    type: llm
    parameters: { baseUrl: "${api.baseUrl}", model: tiny-1, prompt: Say something, retry: { attempts: 1 } }
`;

test.each([
  { status: 400, error: { message: "max_tokens is too large: 100000", type: "invalid_request_error", param: "max_tokens" }, says: "→ 400 Bad Request: max_tokens is too large: 100000" },
  { status: 404, error: "model 'tiny-1' not found, try pulling it first", says: "→ 404 Not Found: model 'tiny-1' not found, try pulling it first" },
])("a $status with a JSON error body shows the provider's message (it showed the whole raw body)", async ({ status, error, says }) => {
  const body = JSON.stringify({ error });
  api.queue.push({ status, body });
  await writeFile(path.join(dir, "flow.yaml"), flow());
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toContain(`E_LLM: llm tiny-1 at ${api.baseUrl}/chat/completions ${says}\n`);
  expect(r.stderr).not.toContain('{"error"');
  // The run record keeps the status and the whole body.
  const runs = path.join(dir, ".atomiton", "runs");
  const record = JSON.parse(await readFile(path.join(runs, (await readdir(runs)).find((f) => f.endsWith(".json"))!), "utf8")) as { nodes: Record<string, { error?: { details?: unknown } }> };
  expect(record.nodes.ask!.error!.details).toEqual({ status, body });
});

test("a 4xx without a JSON error keeps its body in the message", async () => {
  api.queue.push({ status: 403, body: "<html>forbidden by the proxy</html>" });
  await writeFile(path.join(dir, "flow.yaml"), flow());
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toContain("→ 403 Forbidden: <html>forbidden by the proxy</html>");
});
