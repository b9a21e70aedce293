import { describe, expect, expectTypeOf, test } from "vitest";
import { z } from "zod";
import { defineNode, type NodeContext, type NodeDefinition } from "../../../src/index.js";

// Type-level checks run under `tsc --noEmit` (the repo's `npm run typecheck` covers test/) and under
// `vitest --typecheck`; a `@ts-expect-error` that stops erroring fails the type check.
const parameters = z.object({
  count: z.number().int().default(1).describe("How many"),
  label: z.string().optional(),
  mode: z.enum(["fast", "slow"]).default("fast"),
  tags: z.array(z.string()).default([]),
  url: z.url(),
  retries: z.coerce.number().min(0).catch(3),
});

describe("defineNode types", () => {
  test("execute sees z.output of the schema: defaults are filled, optionals may be undefined", () => {
    const node = defineNode({
      type: "typed",
      title: "Typed",
      description: "type test",
      category: "test",
      parameters,
      inputs: [{ id: "input" }],
      outputs: [{ id: "output" }],
      execute(ctx) {
        expectTypeOf(ctx.parameters).toEqualTypeOf<z.output<typeof parameters>>();
        expectTypeOf(ctx.parameters.count).toEqualTypeOf<number>();
        expectTypeOf(ctx.parameters.label).toEqualTypeOf<string | undefined>();
        expectTypeOf(ctx.parameters.mode).toEqualTypeOf<"fast" | "slow">();
        expectTypeOf(ctx.parameters.tags).toEqualTypeOf<string[]>();
        expectTypeOf(ctx.parameters.url).toEqualTypeOf<string>();
        expectTypeOf(ctx.parameters.retries).toEqualTypeOf<number>();
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
        expectTypeOf(ctx.log).parameter(0).toEqualTypeOf<"debug" | "info" | "warn" | "error">();
        // @ts-expect-error -- `count` is a number, not a string
        const wrong: string = ctx.parameters.count;
        // @ts-expect-error -- no such parameter
        void ctx.parameters.missing;
        void wrong;
        return ctx.parameters.count * 2;
      },
    });
    expectTypeOf(node).toEqualTypeOf<NodeDefinition<typeof parameters, number>>();
    expectTypeOf(node.execute).parameter(0).toEqualTypeOf<NodeContext<z.output<typeof parameters>>>();
    expectTypeOf(node.execute).returns.toEqualTypeOf<number | Promise<number>>();
    // Runtime: the definition is frozen and keeps its schema.
    expect(Object.isFrozen(node)).toBe(true);
    expect(node.parameters.parse({ url: "https://example.com" })).toEqual({ count: 1, mode: "fast", tags: [], url: "https://example.com", retries: 3 });
  });

  test("using a parameter with the wrong type is a type error", () => {
    const wrong = defineNode({
      type: "wrong",
      title: "Wrong",
      description: "type test",
      category: "test",
      parameters: z.object({ count: z.number().default(1), name: z.string().optional() }),
      inputs: [],
      outputs: [{ id: "output" }],
      execute({ parameters: p }) {
        // @ts-expect-error -- `name` may be undefined
        const upper: string = p.name.toUpperCase();
        // @ts-expect-error -- a number has no toUpperCase
        p.count.toUpperCase();
        return upper;
      },
    });
    // @ts-expect-error -- `parameters` must be a zod object schema, not a plain object
    defineNode({ type: "bad", title: "", description: "", category: "", parameters: { count: 1 }, inputs: [], outputs: [], execute: () => 1 });
    // @ts-expect-error -- `execute` is required
    defineNode({ type: "bad", title: "", description: "", category: "", parameters: z.object({}), inputs: [], outputs: [] });
    // @ts-expect-error -- `type` is required
    defineNode({ execute: () => 1 });
    // Given fields win over the defaults, an empty port list included.
    expect(wrong.inputs).toEqual([]);
    expect(wrong.title).toBe("Wrong");
  });

  test("a five-line node: only `type` and `execute`, everything else defaulted (SPEC §3)", () => {
    const double = defineNode({ type: "double", parameters: z.object({ n: z.number() }), execute: ({ parameters }) => parameters.n * 2 });
    expectTypeOf(double).toEqualTypeOf<NodeDefinition<z.ZodObject<{ n: z.ZodNumber }>, number>>();
    expect(double).toMatchObject({ type: "double", title: "double", description: "", category: "custom", inputs: [{ id: "input" }], outputs: [{ id: "output" }] });
    expect(Object.isFrozen(double)).toBe(true);

    const hello = defineNode({ type: "hello", execute: ({ parameters }) => Object.keys(parameters).length });
    expectTypeOf(hello.execute).returns.toEqualTypeOf<number | Promise<number>>();
    expect(hello.parameters.parse({})).toEqual({});
    // An explicit `undefined` takes the default too.
    expect(defineNode({ type: "x", title: undefined, execute: () => 1 }).title).toBe("x");
  });
});
