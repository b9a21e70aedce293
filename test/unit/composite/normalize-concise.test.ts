import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { displayName, loadComposite, loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { CompositeBody, CompositeEdge, CompositeNode } from "../../../src/composite/model.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/composite");
const text = (...lines: string[]): string => `${lines.join("\n")}\n`;
const edgeText = (e: CompositeEdge): string => `${e.source}.${e.sourcePort} -> ${e.target}.${e.targetPort}`;
const byId = (body: CompositeBody, id: string): CompositeNode => {
  const node = body.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node ${id} in ${body.nodes.map((n) => n.id).join(", ")}`);
  return node;
};

/** Load one concise node (plus a `sink` log node) and return it with the problems. */
function loadNode(...nodeLines: string[]) {
  const result = loadCompositeFromText(text("nodes:", ...nodeLines.map((l) => `  ${l}`)), { file: "flow.yaml" });
  return { ...result, node: result.composite?.nodes[0] };
}

describe("concise form: the whole fixture", async () => {
  const result = await loadComposite(path.join(FIXTURES, "concise.yaml"));
  const c = result.composite!;

  test("loads with no problem at all", () => {
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(c.dialect).toBe("concise");
    expect(c.file).toBe(path.join(FIXTURES, "concise.yaml"));
  });

  test("top-level keys", () => {
    expect(c.name).toBe("Release Notes");
    expect(c.id).toBe("release-notes");
    expect(c.description).toBe("Collect merged PR titles and write release notes");
    expect(c.version).toBe("2");
    expect(c.secrets).toEqual(["API_TOKEN", "OTHER_TOKEN"]);
    expect(c.settings).toEqual({ timeout: 120_000, concurrency: 8, workdir: "out" });
  });

  test.each([
    ["name: 日本", "a.yaml", "日本"],
    ["name: 中国", "a.yaml", "中国"],
    ["name: Café Report", "a.yaml", "café-report"],
    ['name: "!!!"', "flows/bang.yaml", "bang"],
    ["", "flows/Nightly Build.yaml", "nightly-build"],
    ['name: "!!!"', undefined, "composite"],
  ])("the id from %j (file %s) is %j: letters of any script are kept, so two names never share an id by accident", (nameLine, file, id) => {
    const loaded = loadCompositeFromText(text(nameLine, "nodes:", "  - { id: a, type: log, parameters: { message: hi } }"), file === undefined ? {} : { file });
    expect(loaded.composite?.id).toBe(id);
  });

  test("variables: {type, default} objects and bare-value shorthand", () => {
    expect(c.variables).toEqual({
      repo: { type: "string", default: "atomiton/cli" },
      limit: { type: "number", default: 20 },
      verbose: { type: "boolean", default: false },
      tags: { type: "array", default: ["a", "b"] },
      label: { type: "string", default: "notes" },
      nothing: { type: "any", default: null },
      described: { type: "number", default: 3, description: "how many" },
    });
  });

  test("node control keys: name, timeout, retry object and shorthand, onError, if, enabled", () => {
    const fetch = byId(c, "fetch");
    expect(fetch).toMatchObject({ name: "Fetch PRs", timeout: 10_000, onError: "continue", enabled: true });
    expect(fetch.retry).toEqual({ attempts: 4, delay: 500, backoff: "fixed", maxDelay: 5000, jitter: 1, on: ["E_HTTP_STATUS"] });
    expect(fetch.parameters).toEqual({ url: "https://api.example.test/repos/{{ $vars.repo }}/pulls" });

    const titles = byId(c, "titles");
    expect(titles.retry).toEqual({ attempts: 2, delay: 1000, backoff: "exponential", jitter: 0 });
    expect(titles.if).toBe("$vars.limit > 0");
    expect(titles.onError).toBe("fail");
    expect(titles.timeout).toBeUndefined();

    expect(byId(c, "check").onError).toBe("route");
    expect(byId(c, "write").enabled).toBe(false);
    expect(byId(c, "each").if).toBe("true");
    expect(byId(c, "report").timeout).toBe(1500);
  });

  test("string shorthand, object edges and {nodeId, portId} endpoints end with explicit ports", () => {
    expect(c.edges.map(edgeText)).toEqual([
      "fetch.output -> titles.input",
      "titles.output -> check.input",
      "check.true -> write.input",
      "check.false -> each.input",
      "each.results -> report.input",
      "check.error -> report.input",
    ]);
  });

  test("a loop's nested nodes/edges become its body", () => {
    const each = byId(c, "each");
    expect(each.body?.nodes.map((n) => n.id)).toEqual(["show", "pause"]);
    expect(each.body?.edges.map(edgeText)).toEqual(["show.output -> pause.input"]);
    expect(c.nodes.map((n) => n.id)).toEqual(["fetch", "titles", "check", "write", "each", "report"]);
    // Nodes and edges remember where they were written.
    expect(byId(each.body!, "pause").loc).toEqual({ file: displayName(path.join(FIXTURES, "concise.yaml")), line: 51, col: 9 });
  });
});

describe("concise form: one rule at a time", () => {
  test.each([
    ["2m", 120_000],
    ["500ms", 500],
    ["30s", 30_000],
    ["1h", 3_600_000],
    [500, 500],
    ['"750"', 750],
  ])("settings.timeout %j → %i ms", (value, ms) => {
    const r = loadCompositeFromText(text("settings:", `  timeout: ${value}`, "nodes: []"));
    expect(r.problems).toEqual([]);
    expect(r.composite?.settings.timeout).toBe(ms);
  });

  test.each([
    ["retry: 3", { attempts: 3, delay: 1000, backoff: "exponential", jitter: 0 }],
    ["retry: { attempts: 2 }", { attempts: 2, delay: 1000, backoff: "exponential", jitter: 0 }],
    ["retry: { delay: 2s, backoff: fixed }", { attempts: 3, delay: 2000, backoff: "fixed", jitter: 0 }],
    ["retry: { attempts: 5, jitter: 0.5, maxDelay: 1m }", { attempts: 5, delay: 1000, backoff: "exponential", jitter: 0.5, maxDelay: 60_000 }],
    ["retry: { jitter: false }", { attempts: 3, delay: 1000, backoff: "exponential", jitter: 0 }],
  ])("%s", (line, policy) => {
    const { node, problems } = loadNode("- id: a", "  type: log", `  ${line}`);
    expect(problems).toEqual([]);
    expect(node?.retry).toEqual(policy);
  });

  test.each([
    ["onError: fail", { onError: "fail" }],
    ["onError: continue", { onError: "continue" }],
    ["onError: route", { onError: "route" }],
    ['if: "$input > 1"', { if: "$input > 1" }],
    ["if: false", { if: "false" }],
    ["enabled: false", { enabled: false }],
    ["enabled: true", { enabled: true }],
    ["timeout: 250ms", { timeout: 250 }],
    ["timeout: 0", { timeout: 0 }],
  ])("%s", (line, expected) => {
    const { node, problems } = loadNode("- id: a", "  type: log", `  ${line}`);
    // A node that routes its failures with no edge from its error port: they would go nowhere.
    expect(problems.map((p) => p.code)).toEqual(line === "onError: route" ? ["W_ROUTE"] : []);
    expect(node).toMatchObject(expected);
  });

  test("defaults: onError fail, enabled, no retry/timeout/if, empty parameters", () => {
    const { node } = loadNode("- id: a", "  type: log");
    expect(node).toMatchObject({ id: "a", type: "log", onError: "fail", enabled: true, parameters: {} });
    expect(node?.retry).toBeUndefined();
    expect(node?.timeout).toBeUndefined();
    expect(node?.if).toBeUndefined();
  });

  test("secrets are kept in order", () => {
    const r = loadCompositeFromText(text("secrets: [B_TOKEN, A_TOKEN]", "nodes: []"));
    expect(r.composite?.secrets).toEqual(["B_TOKEN", "A_TOKEN"]);
  });

  test("id and name fall back to each other, then to the file name", () => {
    expect(loadCompositeFromText(text("id: my-id", "nodes: []")).composite).toMatchObject({ id: "my-id", name: "my-id" });
    expect(loadCompositeFromText(text("name: Nightly Build!", "nodes: []")).composite).toMatchObject({ id: "nightly-build", name: "Nightly Build!" });
    expect(loadCompositeFromText(text("nodes: []"), { file: "dir/Hello World.yaml" }).composite).toMatchObject({ id: "hello-world", name: "hello-world" });
  });

  test("a group's nested body, and nested bodies inside it", () => {
    const r = loadCompositeFromText(
      text(
        "nodes:",
        "  - id: outer",
        "    type: group",
        "    nodes:",
        "      - id: inner",
        "        type: loop",
        "        nodes:",
        "          - { id: leaf, type: log }",
        "      - { id: after, type: log }",
        "    edges: [inner -> after]",
      ),
    );
    expect(r.problems).toEqual([]);
    const outer = r.composite!.nodes[0]!;
    expect(outer.body?.nodes.map((n) => n.id)).toEqual(["inner", "after"]);
    expect(outer.body?.edges.map(edgeText)).toEqual(["inner.results -> after.input"]);
    expect(outer.body?.nodes[0]?.body?.nodes.map((n) => n.id)).toEqual(["leaf"]);
  });

  test("an object value that looks like an editor descriptor is a plain value in the concise form", () => {
    const { node, problems } = loadNode(
      "- id: set",
      "  type: edit-fields",
      "  parameters:",
      "    values: { type: admin, required: true }",
    );
    expect(problems).toEqual([]);
    expect(node?.parameters).toEqual({ values: { type: "admin", required: true } });
  });

  test("an edge-less file and a null `edges:` are fine", () => {
    expect(loadCompositeFromText(text("nodes:", "  - { id: a, type: log }")).ok).toBe(true);
    expect(loadCompositeFromText(text("nodes:", "  - { id: a, type: log }", "edges:")).ok).toBe(true);
  });
});
