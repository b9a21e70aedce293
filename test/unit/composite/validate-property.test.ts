import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import type { Problem } from "../../../src/composite/problem.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { BIN } from "../../helpers/cli.js";

// Random concise composites, valid and broken, and random damage to their YAML text: validation
// must never throw, must explain every rejection, and must point every problem at a real place.

const catalog = createBuiltinCatalog();
const IDS = ["a", "b", "c", "d", "e"] as const;

const anyScalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: false }));
const wrongType = fc.oneof(anyScalar, fc.array(anyScalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), anyScalar, { maxKeys: 2 }));
const duration = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("250ms", "30s", "5m", "1h", 100, 0) }, { weight: 1, arbitrary: fc.constantFrom("fast", "-1s", "10 parsecs", -5, true, "", [1]) });
const nodeId = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...IDS) }, { weight: 1, arbitrary: fc.constantFrom("bad id", "", "x.y", "ü", 42, null) });
const nodeType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("log", "code", "delay", "transform", "condition", "edit-fields", "shell-command") },
  { weight: 1, arbitrary: fc.constantFrom("htp-request", "lgo", "nope", "", 7, null) },
);
const parameters = fc.oneof(
  fc.record({ message: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("{{ $vars.missing }}", "{{ $nodes.ghost }}", "{{ broken")) }, { requiredKeys: [] }),
  fc.record({ duration }, { requiredKeys: [] }),
  fc.record({ code: fc.constantFrom("return data", "throw 1", "return (", "") }, { requiredKeys: [] }),
  fc.record({ expression: fc.constantFrom("$input > 1", "((", "true") }, { requiredKeys: [] }),
  fc.dictionary(fc.constantFrom("mesage", "duraton", "url", "program", "level"), wrongType, { maxKeys: 2 }),
  wrongType,
);
const retry = fc.oneof(fc.nat({ max: 5 }), fc.record({ attempts: fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constant("x")), delay: duration, backoff: fc.constantFrom("fixed", "exponential", "sideways") }, { requiredKeys: [] }), wrongType);
const anyNode = fc.record(
  {
    id: nodeId,
    type: nodeType,
    parameters,
    timeout: duration,
    retry,
    onError: fc.constantFrom("fail", "continue", "route", "explode", 3),
    if: fc.oneof(fc.constantFrom("$input > 0", "((", true), wrongType),
    enabled: fc.oneof(fc.boolean(), wrongType),
    // Misspelt or unknown keys.
    tiemout: duration,
    paramters: parameters,
  },
  { requiredKeys: ["id", "type"] },
);
/** A node that validates on its own (so later stages, edges and graph checks, get exercised too). */
const goodNode = fc
  .tuple(
    fc.constantFrom(...IDS),
    fc.constantFrom(
      { type: "log", parameters: { message: "hi {{ $input }}" } },
      { type: "delay", parameters: { duration: "10ms" } },
      { type: "code", parameters: { code: "return data" } },
      { type: "condition", parameters: { expression: "$input > 1" } },
    ),
    fc.record({ timeout: fc.constantFrom("1s", 500), onError: fc.constantFrom("fail", "continue", "route"), retry: fc.constantFrom(2, { attempts: 3, delay: "10ms" }) }, { requiredKeys: [] }),
  )
  .map(([id, body, control]) => ({ id, ...body, ...control }));
const node = fc.oneof({ weight: 3, arbitrary: goodNode }, { weight: 1, arbitrary: anyNode });
const endpoint = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...IDS) }, { weight: 1, arbitrary: fc.constantFrom("ghost", "a.error", "b.nope", "", "a.") });
const edge = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(endpoint, endpoint).map(([s, t]) => `${s} -> ${t}`) },
  fc.record({ source: endpoint, target: endpoint, sourceHandle: fc.constantFrom("output", "error", "bogus") }, { requiredKeys: ["source", "target"] }),
  fc.constantFrom("a -->", "-> b", "a -> b -> c", "a->a", ""),
  wrongType,
);
const composite = fc.record(
  {
    name: fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 10 }) }, { weight: 1, arbitrary: wrongType }),
    variables: fc.oneof(
      { weight: 4, arbitrary: fc.constant({ limit: { type: "number", default: 5 } }) },
      { weight: 1, arbitrary: fc.record({ limit: fc.record({ type: fc.constantFrom("number", "string", "vector"), default: anyScalar }, { requiredKeys: [] }) }) },
      { weight: 1, arbitrary: wrongType },
    ),
    settings: fc.oneof({ weight: 4, arbitrary: fc.record({ timeout: duration, concurrency: fc.integer({ min: -2, max: 8 }) }, { requiredKeys: [] }) }, { weight: 1, arbitrary: wrongType }),
    secrets: fc.oneof({ weight: 4, arbitrary: fc.array(fc.constantFrom("API_TOKEN", "HOME"), { maxLength: 2 }) }, { weight: 1, arbitrary: wrongType }),
    nodes: fc.oneof({ weight: 9, arbitrary: fc.uniqueArray(node, { maxLength: 6, selector: (n) => (n as { id?: unknown }).id }) }, { weight: 1, arbitrary: fc.array(node, { maxLength: 4 }) }, { weight: 1, arbitrary: wrongType }),
    edges: fc.oneof({ weight: 9, arbitrary: fc.array(edge, { maxLength: 8 }) }, { weight: 1, arbitrary: wrongType }),
    nodez: wrongType,
  },
  { requiredKeys: ["nodes"] },
);

/** Damage to the YAML text: random bytes, truncation, tabs, duplicated or dropped lines. */
type Mutation = { kind: "insert"; at: number; text: string } | { kind: "truncate"; at: number } | { kind: "tab"; at: number } | { kind: "duplicate-line"; at: number } | { kind: "drop-line"; at: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.string({ unit: "binary", minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.constantFrom(":", "- ", "{", "]", "&a", "*a", "\"", "'", "#", "\n  ", "\u0000", "\uFEFF", "!!binary ") }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("tab" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate-line" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("drop-line" as const), at: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  const at = text.length === 0 ? 0 : m.at % (text.length + 1);
  const lines = text.split("\n");
  const line = m.at % lines.length;
  switch (m.kind) {
    case "insert":
      return text.slice(0, at) + m.text + text.slice(at);
    case "truncate":
      return text.slice(0, at);
    case "tab":
      return lines.map((l, i) => (i === line ? `\t${l}` : l)).join("\n");
    case "duplicate-line":
      return [...lines.slice(0, line + 1), ...lines.slice(line)].join("\n");
    case "drop-line":
      return lines.filter((_, i) => i !== line).join("\n");
  }
}

const damagedText = fc.tuple(composite, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([c, ms]) => ms.reduce(mutate, stringify(c)));

/** The contract every validation result keeps, whatever the input. */
function checkResult(text: string, result: ReturnType<typeof loadCompositeFromText>): void {
  const lineCount = text.split("\n").length;
  if (!result.ok) expect(result.problems.some((p) => p.severity === "error")).toBe(true);
  for (const p of result.problems) checkProblem(p, lineCount);
}

function checkProblem(p: Problem, lineCount: number): void {
  expect(p.code, p.message).toMatch(/^[EW]_[A-Z_]+$/);
  expect(typeof p.message).toBe("string");
  expect(p.message.length).toBeGreaterThan(0);
  expect(p.line, `${p.code} ${p.message}`).toBeGreaterThanOrEqual(1);
  expect(p.line, `${p.code} ${p.message}`).toBeLessThanOrEqual(lineCount + 1);
  expect(p.col, `${p.code} ${p.message}`).toBeGreaterThanOrEqual(1);
}

function validate(text: string): ReturnType<typeof loadCompositeFromText> {
  return loadCompositeFromText(text, { catalog, file: "prop.yaml" });
}

describe("validation of random composites (fast-check)", () => {
  test("generated composites: never throws, located problems, an error whenever invalid", () => {
    fc.assert(
      fc.property(composite, (c) => {
        const text = stringify(c);
        checkResult(text, validate(text));
      }),
      { numRuns: 400 },
    );
  });

  test("damaged YAML text (random bytes, truncation, tabs, line edits): the same contract", () => {
    fc.assert(
      fc.property(damagedText, (text) => {
        checkResult(text, validate(text));
      }),
      { numRuns: 400 },
    );
  });

  test("arbitrary text and bytes: the same contract", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1"))), (text) => {
        checkResult(text, validate(text));
      }),
      { numRuns: 300 },
    );
  });

  test.each([
    { name: "dangling edge", yaml: "nodes: [{ id: a, type: log }]\nedges: [a -> ghost]\n", code: "E_EDGE" },
    { name: "cycle", yaml: "nodes: [{ id: a, type: log }, { id: b, type: log }]\nedges: [a -> b, b -> a]\n", code: "E_CYCLE" },
    { name: "unknown type", yaml: "nodes: [{ id: a, type: lgo }]\n", code: "E_UNKNOWN_TYPE" },
    { name: "wrong type", yaml: "nodes: [{ id: a, type: log, timeout: fast }]\n", code: "E_SCHEMA" },
    { name: "bad YAML", yaml: "nodes:\n\t- id: a\n", code: "E_YAML" },
  ])("the generators' building blocks are rejected as expected: $name", ({ yaml, code }) => {
    // Guards the property tests above: these inputs must fail, so a validator that accepts everything cannot pass.
    const result = validate(yaml);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toContain(code);
  });
});

describe("atomiton validate on generated bad files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-prop-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("exits 0 or 2, prints located problems and never a stack trace", async () => {
    const texts = fc.sample(fc.oneof(damagedText, composite.map((c) => stringify(c))), { numRuns: 20, seed: 20261124 });
    const files = await Promise.all(
      texts.map(async (text, i) => {
        const file = path.join(dir, `gen-${i}.yaml`);
        await writeFile(file, text);
        return file;
      }),
    );
    const results = await Promise.all(files.map((file) => execa("node", [BIN, "validate", file], { cwd: dir, reject: false, env: { CI: "true", NO_COLOR: "1" }, timeout: 30_000 })));
    let invalid = 0;
    for (const [i, r] of results.entries()) {
      const context = `${files[i]}:\n${texts[i]}\n--- stderr:\n${r.stderr}`;
      expect([0, 2], context).toContain(r.exitCode);
      expect(r.stderr, context).not.toMatch(/^\s+at /m);
      expect(r.stderr, context).not.toMatch(/internal error/);
      if (r.exitCode === 2) {
        invalid++;
        expect(r.stderr, context).toMatch(new RegExp(`gen-${i}\\.yaml:\\d+:\\d+`));
        expect(r.stderr, context).toMatch(/\b[EW]_[A-Z_]+\b/);
      }
    }
    // The sample is mostly broken; if nothing is rejected the generators or the validator are off.
    expect(invalid).toBeGreaterThan(files.length / 2);
  });
});
