import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import Database from "better-sqlite3";
import { atomiton, EXAMPLES, useTempDir } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";

// Every composite in examples/ runs here (README promise).
let dir: string;
useTempDir((d) => (dir = d), "atomiton-examples-");

let server: Server;
let api: string;
let llmApi: FakeOpenAI;
const hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const json = (body: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/users") return json([{ id: 1 }, { id: 2 }, { id: 3 }]);
    if (url.pathname === "/orders" && url.searchParams.get("status") === "paid") return json([{ amount: 10 }, { amount: 32.5 }]);
    if (url.pathname === "/health") return res.writeHead(204).end();
    res.writeHead(404).end("not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A fake OpenAI-compatible model server (rule-based labels) for llm-classify.yaml.
  llmApi = await startFakeOpenAI();
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await llmApi.close();
});

const example = (name: string) => path.join(EXAMPLES, name);

describe("examples/", () => {
  test("every example is covered by this file", async () => {
    const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith(".yaml")).sort();
    expect(files).toEqual(["build-pipeline.yaml", "csv-report.yaml", "csv-to-sqlite.yaml", "hello.yaml", "http-fanout.yaml", "llm-classify.yaml", "thumbnails.yaml"]);
  });

  test("hello.yaml", async () => {
    const r = await atomiton(["run", example("hello.yaml"), "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("HELLO, WORLD! ... hello, world!");
  });

  test("csv-report.yaml totals paid orders by region", async () => {
    const out = path.join(dir, "report.md");
    const r = await atomiton(["run", example("csv-report.yaml"), "--var", `source=${example("data/orders.csv")}`, "--var", `out=${out}`, "--storage", "memory"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = await readFile(out, "utf8");
    expect(report).toContain("| west | 2 | 4180.40 |");
    expect(report).toContain("| north | 2 | 1890.00 |");
    expect(report).toContain("| south | 1 | 830.50 |");
  });

  test("http-fanout.yaml fetches in parallel and joins", async () => {
    hits.length = 0;
    const r = await atomiton(["run", example("http-fanout.yaml"), "--var", `api=${api}`, "--reporter", "json", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const finish = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    expect(finish.output).toEqual({ users: 3, paidOrders: 2, revenue: 42.5, healthy: true });
    expect(hits.sort()).toEqual(["GET /orders?status=paid", "GET /users", "HEAD /health"]);
  });

  test("thumbnails.yaml writes a WebP thumbnail and a grayscale preview per image", async () => {
    const out = path.join(dir, "thumbs");
    const r = await atomiton(["run", example("thumbnails.yaml"), "--var", `src=${example("data/images")}`, "--var", `out=${out}`, "--storage", "memory"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await readdir(out)).filter((f) => f.endsWith(".webp")).sort()).toEqual(["meadow.webp", "sunrise.webp"]);
    const thumb = await sharp(path.join(out, "sunrise.webp")).metadata();
    expect([thumb.format, Math.max(thumb.width!, thumb.height!)]).toEqual(["webp", 200]);
    const preview = await sharp(path.join(out, "previews/meadow.jpg")).stats();
    expect(preview.isOpaque).toBe(true);
    // Grayscale: the three channels agree.
    const [r0, g0, b0] = preview.channels;
    expect(Math.abs(r0!.mean - g0!.mean) + Math.abs(g0!.mean - b0!.mean)).toBeLessThan(2);
  });

  test("build-pipeline.yaml runs its shell steps and streams their output", async () => {
    const r = await atomiton(["run", example("build-pipeline.yaml"), "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("3 tests passed");
    expect(r.stderr).toContain("package: 16 bytes");
    expect(await readFile(path.join(dir, "out/build/app.js"), "utf8")).toBe("console.log(42)\n");
  });

  test("csv-to-sqlite.yaml imports the CSV into SQLite and reports paid revenue by region", async () => {
    const db = path.join(dir, "orders.db");
    const args = ["run", example("csv-to-sqlite.yaml"), "--var", `source=${example("data/orders.csv")}`, "--var", `db=${db}`, "--storage", "memory", "--output", "-", "--reporter", "silent"];
    const r = await atomiton(args, { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = [
      { region: "west", orders: 2, revenue: 4180.4 },
      { region: "north", orders: 2, revenue: 1890 },
      { region: "south", orders: 1, revenue: 830.5 },
    ];
    expect(JSON.parse(r.stdout)).toEqual(report);
    // Run again: the import replaces the rows (one transaction), it does not add to them.
    const again = await atomiton(args, { cwd: dir });
    expect(JSON.parse(again.stdout)).toEqual(report);
    const sqlite = new Database(db, { readonly: true });
    expect(sqlite.prepare("SELECT count(*) FROM orders").pluck().get()).toBe(7);
    expect(sqlite.prepare("SELECT customer FROM orders WHERE id = 1006").pluck().get()).toBe('Stark "Labs"');
    sqlite.close();
  });

  test("llm-classify.yaml labels every ticket through an OpenAI-compatible server", async () => {
    llmApi.requests.length = 0;
    const out = path.join(dir, "labelled.csv");
    const r = await atomiton(
      ["run", example("llm-classify.yaml"), "--var", `tickets=${example("data/tickets.csv")}`, "--var", `out=${out}`, "--var", `baseUrl=${llmApi.baseUrl}`, "--var", "model=fake-classifier", "--storage", "memory", "--output", "-", "--reporter", "silent"],
      { cwd: dir },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)["per-label"]).toEqual({ billing: 2, bug: 2, question: 1 });
    const csv = await readFile(out, "utf8");
    expect(csv.split("\n")[0]).toBe("ticket,customer,message,label");
    expect(csv).toContain("T-102,Globex,The export button crashes the app every time I press it.,bug");
    expect(llmApi.requests).toHaveLength(5);
    expect(llmApi.requests[0]!.body).toMatchObject({ model: "fake-classifier", temperature: 0, response_format: { type: "json_schema" } });
  });
});

describe("examples/ as the README says to run them", () => {
  test("every example passes validate --strict", async () => {
    const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith(".yaml")).map(example);
    const r = await atomiton(["validate", "--strict", ...files], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning|error/);
  });

  test("http-fanout.yaml runs against the shipped examples/serve-fixtures.mjs", async () => {
    const { execa } = await import("execa");
    const server = execa("node", [example("serve-fixtures.mjs"), "0"], { cwd: dir, reject: false });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let seen = "";
        server.stdout?.on("data", (chunk: Buffer) => {
          seen += String(chunk);
          const found = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)?.[1];
          if (found !== undefined) resolve(found);
        });
        void server.then((r) => reject(new Error(`serve-fixtures.mjs exited: ${r.stderr}`)));
      });
      const r = await atomiton(["run", example("http-fanout.yaml"), "--var", `api=${url}`, "--reporter", "json", "--storage", "memory"], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split("\n").at(-1)!).output).toEqual({ users: 3, paidOrders: 2, revenue: 42.5, healthy: true });
    } finally {
      server.kill();
      await server;
    }
  });
});
