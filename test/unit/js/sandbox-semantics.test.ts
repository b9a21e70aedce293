// The locked-down sandbox still runs ordinary code, and values cross it as documented in
// docs/security.md ("Copies in", "Copies out").
import { describe, expect, test } from "vitest";
import { createSandbox } from "../../../src/js/sandbox.js";

const run = (body: string, args: Record<string, unknown> = {}) => {
  const sandbox = createSandbox();
  return sandbox.call(sandbox.compileBody(body, Object.keys(args)), Object.values(args));
};

describe("ordinary code under frozen built-ins", () => {
  test.each([
    ["an error subclass that sets its name", "class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } } const e = new MyError('x'); return [e.name, e.message, e instanceof Error];", ["MyError", "x", true]],
    ["assigning message on an error made without one", "const e = new Error(); e.message = 'late'; return e.message;", "late"],
    ["an own toString and constructor", "const o = { n: 1 }; o.toString = () => 'custom'; o.constructor = 'mine'; return [String(o), o.constructor];", ["custom", "mine"]],
    ["a prototype method set by assignment", "function P() {} P.prototype.toString = function () { return 'P'; }; return String(new P());", "P"],
    ["arrays, maps, sets, iteration", "const m = new Map([[1, 'a']]); const s = new Set([1, 1, 2]); const out = []; for (const [k, v] of m) out.push(k + v); return [...out, s.size, [3, 1, 2].sort(), Array.from({ length: 2 }, (_, i) => i * 2)];", ["1a", 2, [1, 2, 3], [0, 2]]],
    ["strings, regular expressions, Intl, JSON, Date", "return ['a-b'.replace(/-/g, '+'), 'b'.localeCompare('a'), new Intl.NumberFormat('en-US').format(1234.5), JSON.stringify({ a: [1] }), new Date(0).toISOString()];", ["a+b", 1, "1,234.5", '{"a":[1]}', "1970-01-01T00:00:00.000Z"]],
    ["generators and spread", "function* g() { yield 1; yield 2; } return [...g(), ...'ab', { ...{ a: 1 }, b: 2 }];", [1, 2, "a", "b", { a: 1, b: 2 }]],
    ["Error.captureStackTrace and stack", "const o = {}; Error.captureStackTrace(o); return typeof o.stack;", "string"],
  ])("%s", (_name, body, expected) => {
    expect(run(body)).toEqual(expected);
  });

  test("async bodies await inside the sandbox", async () => {
    const sandbox = createSandbox();
    const fn = sandbox.compileBody("const [a, b] = await Promise.all([1, Promise.resolve(data.n)]); return { sum: a + b, at: new Date(0) };", ["data"], { async: true });
    await expect(sandbox.callAsync(fn, [{ n: 2 }])).resolves.toEqual({ sum: 3, at: new Date(0) });
    const failing = sandbox.compileBody("await null; throw new TypeError('late failure');", [], { async: true });
    await expect(sandbox.callAsync(failing, [])).rejects.toMatchObject({ name: "TypeError", message: "late failure" });
  });
});

describe("values across the boundary", () => {
  test("copies keep types, shared references and cycles; functions and symbols are dropped", () => {
    const shared = { s: 1 };
    const input: Record<string, unknown> = {
      date: new Date(5),
      re: /a+/gi,
      map: new Map([["k", { v: 1 }]]),
      set: new Set([1, 2]),
      bytes: Buffer.from("hi"),
      nested: [shared, shared],
      fn: () => 1,
      sym: Symbol("s"),
      undef: undefined,
    };
    input.self = input;
    const out = run(
      "return { types: [data.date instanceof Date, data.re instanceof RegExp, data.map instanceof Map, data.set instanceof Set, data.bytes instanceof Uint8Array], same: data.nested[0] === data.nested[1], cyclic: data.self === data, fn: typeof data.fn, sym: typeof data.sym, hasUndef: 'undef' in data, data };",
      { data: input },
    ) as Record<string, unknown> & { data: Record<string, unknown> };
    expect(out.types).toEqual([true, true, true, true, true]);
    expect([out.same, out.cyclic, out.fn, out.sym, out.hasUndef]).toEqual([true, true, "undefined", "undefined", true]);
    // Back in the host: host constructors, the same shapes.
    expect(out.data.date).toEqual(new Date(5));
    expect(out.data.date).toBeInstanceOf(Date);
    expect(out.data.map).toEqual(new Map([["k", { v: 1 }]]));
    expect(Object.getPrototypeOf(out.data.nested)).toBe(Array.prototype);
    expect(out.data.self).toBe(out.data);
    expect(out.data.bytes).toEqual(new Uint8Array([104, 105]));
    expect("fn" in out.data).toBe(true);
    expect(out.data.fn).toBeUndefined();
  });

  test("a thrown value comes back as a host Error with its name, message and code; a primitive as it is", () => {
    expect(() => run("const e = new RangeError('too far'); e.code = 'E_HTTP'; throw e;")).toThrow(expect.objectContaining({ name: "RangeError", message: "too far", code: "E_HTTP" }));
    let thrown: unknown;
    try {
      run("throw 'plain text';");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe("plain text");
    expect(() => run("throw new Error('x');")).toThrow(Error);
  });

  test("an error returned in a value keeps the stack of the code body only, not the runner's frames (node:vm, the bundle's paths)", () => {
    const { err } = run("function inner() { return new Error('e'); }\nreturn { err: inner() };") as { err: Error };
    expect(err.message).toBe("e");
    const lines = err.stack!.split("\n");
    expect(lines[0]).toBe("Error: e");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const frame of lines.slice(1)) expect(frame).toMatch(/^\s+at .*atomiton:(async-)?code:\d+:\d+/);
    expect(err.stack).not.toMatch(/node:vm|\.cjs|\.ts:|\/src\//);
  });

  test("an endless loop is E_TIMEOUT, and the sandbox is usable afterwards", () => {
    const sandbox = createSandbox();
    expect(() => sandbox.call(sandbox.compileBody("while (true) {}", []), [], { timeoutMs: 50 })).toThrow(expect.objectContaining({ code: "E_TIMEOUT" }));
    expect(sandbox.call(sandbox.compileBody("return 1 + 1;", []), [])).toBe(2);
  });

  test("a global that cannot be removed makes the next call use a fresh context", () => {
    const sandbox = createSandbox();
    sandbox.call(sandbox.compileBody("Object.defineProperty(globalThis, 'sticky', { value: 1 }); leaked = 2;", []), []);
    expect(sandbox.call(sandbox.compileBody("return [typeof sticky, typeof leaked];", []), [])).toEqual(["undefined", "undefined"]);
  });
});
