import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { createMemoryBackend } from "../../../src/storage/memory.js";

describe("memory backend", () => {
  // 20,000 appends of 2 KB: linear appends copy 40 MB; copying everything on each append would copy
  // ~400 GB and never finish within the test timeout (yielding now and then lets the timeout fire).
  test("append of many chunks keeps the exact concatenation without copying it each time", async () => {
    const backend = createMemoryBackend();
    const chunk = (i: number) => Buffer.from(`${String(i).padStart(6, "0")}${"x".repeat(2_041)}\n`);
    for (let i = 0; i < 20_000; i++) {
      await backend.append("runs/big.ndjson", chunk(i));
      if (i % 100 === 0) await nextTurn();
    }
    const data = (await backend.read("runs/big.ndjson"))!;
    expect(data.length).toBe(20_000 * 2_048);
    for (const i of [0, 1, 9_999, 19_999]) expect(data.subarray(i * 2_048, (i + 1) * 2_048)).toEqual(chunk(i));
  });

  test("appended bytes are copied in and reads return fresh copies", async () => {
    const backend = createMemoryBackend();
    const mine = Buffer.from("ab");
    await backend.append("k.txt", mine);
    await backend.append("k.txt", mine);
    mine.fill(0);
    const first = (await backend.read("k.txt"))!;
    expect(first.toString()).toBe("abab");
    first.fill(0);
    await backend.append("k.txt", Buffer.from("c"));
    expect((await backend.read("k.txt"))!.toString()).toBe("ababc");
    await backend.write("k.txt", Buffer.from("new"));
    expect((await backend.read("k.txt"))!.toString()).toBe("new");
  });
});
