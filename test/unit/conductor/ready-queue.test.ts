import fc from "fast-check";
import { expect, test } from "vitest";
import { ReadyQueue } from "../../../src/conductor/ready-queue.js";

test("pops the smallest index whatever the push order (random interleavings)", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.nat(5000), fc.constant(-1)), { maxLength: 400 }), (ops) => {
      const q = new ReadyQueue(4);
      const model: number[] = [];
      for (const op of ops) {
        if (op === -1) {
          if (model.length === 0) continue;
          model.sort((a, b) => a - b);
          expect(q.pop()).toBe(model.shift());
        } else {
          q.push(op);
          model.push(op);
        }
        expect(q.size).toBe(model.length);
      }
      model.sort((a, b) => a - b);
      while (model.length > 0) expect(q.pop()).toBe(model.shift());
    }),
  );
});
