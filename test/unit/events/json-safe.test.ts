import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { stringifyJsonSafe, toJsonSafe } from "../../../src/events/json-safe.js";

describe("toJsonSafe", () => {
  test.each([
    { name: "BigInt → decimal string", value: { n: 12345678901234567890n }, json: { n: "12345678901234567890" } },
    { name: "Buffer → size summary", value: { b: Buffer.from("hello") }, json: { b: "<Buffer 5 bytes>" } },
    { name: "typed array → size summary", value: new Uint16Array(4), json: "<Uint16Array 8 bytes>" },
    { name: "ArrayBuffer → size summary", value: new ArrayBuffer(3), json: "<ArrayBuffer 3 bytes>" },
    { name: "NaN and Infinity → null", value: [Number.NaN, Infinity, -Infinity], json: [null, null, null] },
    { name: "-0 → 0", value: -0, json: 0 },
    { name: "undefined dropped in objects, null in arrays", value: { a: undefined, b: [undefined] }, json: { b: [null] } },
    { name: "functions and symbols dropped", value: { f: () => 1, s: Symbol("x"), k: 1 }, json: { k: 1 } },
    { name: "Date → ISO string", value: { d: new Date(Date.UTC(2025, 0, 2)) }, json: { d: "2025-01-02T00:00:00.000Z" } },
    { name: "Map with string keys → object", value: new Map([["a", 1n]]), json: { a: "1" } },
    { name: "Map with other keys → pairs", value: new Map<unknown, number>([[1, 2]]), json: [[1, 2]] },
    { name: "Set → array", value: new Set([1, "x"]), json: [1, "x"] },
    { name: "undefined at the top → null", value: undefined, json: null },
  ])("$name", ({ value, json }) => {
    expect(toJsonSafe(value)).toEqual(json);
  });

  test("Buffers can be kept losslessly as base64", () => {
    expect(toJsonSafe({ b: Buffer.from("hi") }, { binary: "base64" })).toEqual({ b: { type: "Buffer", base64: "aGk=" } });
    const view = new Uint8Array([0, 1, 2, 3]).subarray(1, 3);
    expect(toJsonSafe(view, { binary: "base64" })).toEqual({ type: "Uint8Array", base64: Buffer.from([1, 2]).toString("base64") });
  });

  test("a cycle becomes [Circular]; a shared object is written twice", () => {
    const shared = { s: 1 };
    const root: Record<string, unknown> = { a: shared, b: shared };
    root.self = root;
    const list: unknown[] = [1];
    list.push(list);
    expect(toJsonSafe(root)).toEqual({ a: { s: 1 }, b: { s: 1 }, self: "[Circular]" });
    expect(toJsonSafe(list)).toEqual([1, "[Circular]"]);
  });

  test("errors keep name, message and their own fields", () => {
    const error = Object.assign(new TypeError("bad"), { code: "E_X", size: 2n });
    expect(toJsonSafe({ error })).toEqual({ error: { name: "TypeError", message: "bad", code: "E_X", size: "2" } });
  });

  test("throwing getters and toJSON do not throw out", () => {
    const getter = Object.defineProperty({}, "x", {
      enumerable: true,
      get() {
        throw new Error("nope");
      },
    });
    const badToJson = {
      toJSON() {
        throw new Error("no json");
      },
    };
    expect(toJsonSafe({ getter, badToJson })).toEqual({ getter: "[Unserializable: nope]", badToJson: "[Unserializable: no json]" });
  });

  test("very deep values are cut at maxDepth", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 10; i++) deep = { d: deep };
    expect(JSON.stringify(toJsonSafe(deep, { maxDepth: 3 }))).toBe('{"d":{"d":{"d":"[MaxDepth]"}}}');
  });

  test("stringifyJsonSafe never throws where JSON.stringify does", () => {
    const value: Record<string, unknown> = { n: 1n };
    value.loop = value;
    expect(() => JSON.stringify(value)).toThrow();
    expect(stringifyJsonSafe(value)).toBe('{"n":"1","loop":"[Circular]"}');
  });

  test("property: the result survives a JSON round trip unchanged", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }), (value) => {
        const safe = toJsonSafe(value);
        expect(JSON.parse(JSON.stringify(safe))).toEqual(safe);
      }),
      { numRuns: 300 },
    );
  });
});
