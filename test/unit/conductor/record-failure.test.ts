// The final record save fails (issue 11, defect 2): run:finish is emitted once, carries the storage
// error, and execute resolves with the run's own status.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor } from "../../../src/conductor/create-conductor.js";
import { AtomitonError, ErrorCode } from "../../../src/errors.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEventMap } from "../../../src/events/event-map.js";
import { createBuiltinCatalog } from "../../../src/nodes/catalog.js";
import { createStorage } from "../../../src/storage/create-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import { TEST_NODES } from "./harness.js";

const YAML = `
nodes:
  - { id: a, type: test-sleep, parameters: { ms: 0, value: 1 } }
  - { id: b, type: test-echo }
edges: [a -> b]
`;

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function runWith(storage: Storage) {
  const catalog = createBuiltinCatalog(TEST_NODES.map((definition) => ({ definition, source: "test" })));
  const loaded = loadCompositeFromText(YAML, { catalog, file: "record.yaml" });
  const bus = createEventBus<RunEventMap>();
  const finishes: RunEventMap["run:finish"][] = [];
  bus.on("run:finish", (e) => {
    finishes.push(e);
  });
  const result = await createConductor({ nodes: catalog, storage, events: bus }).execute({ composite: loaded.composite! });
  return { result, finishes };
}

/** A storage (the Storage contract, memory underneath) whose save of the finished record fails. */
function failingFinalSave(): Storage {
  const inner = createStorage({ type: "memory" });
  const storage = Object.create(inner) as Storage & { saveText: Storage["saveText"] };
  storage.saveText = async (key, text) => {
    if (key.endsWith(".json") && text.includes('"finishedAt"')) throw new AtomitonError(ErrorCode.STORAGE, `cannot save "${key}": disk full`, { retryable: false });
    return inner.saveText(key, text);
  };
  return storage;
}

describe("a failed final save", () => {
  test("run:finish once, with the storage error; execute resolves with the run's status", async () => {
    const { result, finishes } = await runWith(failingFinalSave());
    expect(result.status).toBe("succeeded");
    expect(result.record).toBeUndefined();
    expect(result.recordError).toMatchObject({ code: "E_STORAGE", message: expect.stringContaining("disk full") });
    expect(finishes).toHaveLength(1);
    expect(finishes[0]).toMatchObject({ status: "succeeded", recordError: { code: "E_STORAGE" } });
  });

  test("a filesystem storage whose runs/ folder is a file: the same, with the filesystem's error", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "atomiton-record-"));
    await writeFile(path.join(dir, "runs"), "not a folder");
    const { result, finishes } = await runWith(createStorage({ type: "filesystem", dir }));
    expect(result.status).toBe("succeeded");
    expect(result.recordError?.code).toBe("E_STORAGE");
    expect(finishes.map((e) => [e.status, e.recordError?.code])).toEqual([["succeeded", "E_STORAGE"]]);
  });
});

describe("an earlier save failed for lack of space, the final one did not", () => {
  test("the record keeps its outputs, and the error says the final record is complete", async () => {
    // Before, any ENOSPC kept as the first failure made the final record drop every output.
    const inner = createStorage({ type: "memory" });
    const storage = Object.create(inner) as Storage & { saveText: Storage["saveText"] };
    let failed = false;
    storage.saveText = async (key, text) => {
      if (key.endsWith(".json") && !failed) {
        failed = true;
        throw new AtomitonError(ErrorCode.STORAGE, `cannot save "${key}" (ENOSPC)`, { retryable: false, cause: Object.assign(new Error("no space left on device"), { code: "ENOSPC" }) });
      }
      return inner.saveText(key, text);
    };
    const { result } = await runWith(storage);
    expect(result.status).toBe("succeeded");
    expect(result.recordError).toMatchObject({ code: "E_STORAGE", message: expect.stringContaining("its final record is complete"), details: { recordSaved: true } });
    const record = JSON.parse((await inner.loadText(`runs/${result.runId}.json`))!) as { status: string; nodes: Record<string, { output?: unknown }> };
    expect(record.status).toBe("succeeded");
    expect(record.nodes.a!.output).toBe(1);
  });
});
