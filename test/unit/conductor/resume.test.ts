import { describe, expect, test } from "vitest";
import { loadCompositeFromText } from "../../../src/composite/load-composite.js";
import { createConductor } from "../../../src/conductor/create-conductor.js";
import { DebugSession } from "../../../src/conductor/debug-session.js";
import { createEventBus } from "../../../src/events/create-event-bus.js";
import type { RunEvent, RunEventMap } from "../../../src/events/event-map.js";
import { createStorage } from "../../../src/storage/create-storage.js";

const chain = (fourth: string) => `
nodes:
  - { id: n1, type: code, parameters: { code: "return data + 1" } }
  - { id: n2, type: code, parameters: { code: "return data * 2" } }
  - { id: n3, type: code, parameters: { code: "return data + 3" } }
  - { id: n4, type: code, parameters: { code: "${fourth}" } }
  - { id: n5, type: code, parameters: { code: "return 'result ' + data" } }
edges: [n1 -> n2, n2 -> n3, n3 -> n4, n4 -> n5]
`;

describe("--resume", () => {
  test("a 5-node chain that failed at node 4 re-runs only nodes 4 and 5 after the fix", async () => {
    const storage = createStorage({ type: "memory" });
    const bus = createEventBus<RunEventMap>();
    const events: RunEvent[] = [];
    bus.onAny((type, payload) => events.push({ type, ...payload } as RunEvent));
    const conductor = createConductor({ storage, events: bus });

    const broken = loadCompositeFromText(chain("throw new Error('bug')"), { file: "chain.yaml" }).composite!;
    const first = await conductor.execute({ composite: broken, input: 1 });
    expect(first.status).toBe("failed");
    expect(first.record!.nodes.n3).toMatchObject({ status: "succeeded", output: 7 });

    events.length = 0;
    const fixed = loadCompositeFromText(chain("return data * 10"), { file: "chain.yaml" }).composite!;
    const second = await conductor.execute({ composite: fixed, input: 1, resume: { runId: first.runId, nodes: first.record!.nodes } });
    expect(second.status).toBe("succeeded");
    expect(second.output).toBe("result 70");
    const started = events.filter((e) => e.type === "node:start").map((e) => (e as { nodeId: string }).nodeId);
    expect(started).toEqual(["n4", "n5"]);
    const reused = events.filter((e) => e.type === "node:finish" && (e as { reused?: boolean }).reused).map((e) => (e as { nodeId: string }).nodeId);
    expect(reused).toEqual(["n1", "n2", "n3"]);
    expect(second.nodes.n1!.reason).toBe(`reused from run ${first.runId}`);
  });

  test("a changed input or parameter re-runs that node and everything downstream", async () => {
    const storage = createStorage({ type: "memory" });
    const conductor = createConductor({ storage });
    const composite = loadCompositeFromText(chain("return data"), { file: "chain.yaml" }).composite!;
    const first = await conductor.execute({ composite, input: 1 });
    const bus = createEventBus<RunEventMap>();
    const started: string[] = [];
    bus.on("node:start", (e) => started.push(e.nodeId));
    const again = createConductor({ storage, events: bus });
    const edited = loadCompositeFromText(chain("return data").replace("data * 2", "data * 3"), { file: "chain.yaml" }).composite!;
    await again.execute({ composite: edited, input: 1, resume: { runId: first.runId, nodes: first.record!.nodes } });
    expect(started).toEqual(["n2", "n3", "n4", "n5"]);
    started.length = 0;
    await again.execute({ composite, input: 2, resume: { runId: first.runId, nodes: first.record!.nodes } });
    expect(started).toEqual(["n1", "n2", "n3", "n4", "n5"]);
  });

  test("a failure skipped at the debugger prompt (k) is not reused: --resume runs that node again", async () => {
    const storage = createStorage({ type: "memory" });
    const broken = loadCompositeFromText(chain("throw new Error('bug')"), { file: "chain.yaml" }).composite!;
    const debug = new DebugSession({ breakOnError: true, onPause: (pause) => pause.skip(41) });
    const firstBus = createEventBus<RunEventMap>();
    const finishes: RunEventMap["node:finish"][] = [];
    firstBus.on("node:finish", (e) => finishes.push(e));
    const first = await createConductor({ storage, events: firstBus }).execute({ composite: broken, input: 1, debug });
    expect(first.status).toBe("succeeded");
    expect(first.output).toBe("result 41");
    // Nothing was reused (the summary counted it as "1 reused"); the reason says what happened.
    const skipped = finishes.find((e) => e.nodeId === "n4")!;
    expect(skipped.reused).toBeUndefined();
    expect(skipped.reason).toBe("skipped in the debugger");
    expect(first.record!.nodes.n4).toMatchObject({ status: "succeeded", output: 41 });

    const bus = createEventBus<RunEventMap>();
    const started: string[] = [];
    bus.on("node:start", (e) => started.push(e.nodeId));
    const second = await createConductor({ storage, events: bus }).execute({ composite: broken, input: 1, resume: { runId: first.runId, nodes: first.record!.nodes } });
    expect(started).toEqual(["n4"]);
    expect(second.status).toBe("failed");
  });
});
