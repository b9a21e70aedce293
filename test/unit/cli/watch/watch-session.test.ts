import { describe, expect, test } from "vitest";
import { createWatchSession, type RunTrigger, type WatchSessionOptions } from "../../../../src/cli/watch/watch-session.js";

interface RunCall {
  trigger: RunTrigger;
  signal: AbortSignal;
  finish(code: number): void;
}

/** A session whose runs stay in flight until the test finishes them (or they are aborted). */
function harness(overrides: Partial<WatchSessionOptions> = {}) {
  const calls: RunCall[] = [];
  const events: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const waiters: (() => void)[] = [];
  const session = createWatchSession({
    debounceMs: 20,
    run(signal, trigger, index) {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      events.push(`run ${index} ${trigger.kind}${trigger.kind === "change" ? ` ${trigger.files.join(",")}` : ""}`);
      return new Promise<number>((resolve) => {
        const finish = (code: number): void => {
          running -= 1;
          events.push(`end ${index} ${code}`);
          resolve(code);
        };
        // Like a real run: an abort settles it as cancelled (asynchronously, after cleanup).
        signal.addEventListener("abort", () => setTimeout(() => finish(130), 5), { once: true });
        calls.push({ trigger, signal, finish });
        for (const w of waiters.splice(0)) w();
      });
    },
    onCancel: (trigger, index) => events.push(`cancel ${index} ${trigger.kind}`),
    afterRun: (code, index, stopping) => {
      events.push(`after ${index} ${code}${stopping ? " stopping" : ""}`);
    },
    ...overrides,
  });
  const nextRun = async (count: number): Promise<RunCall> => {
    const deadline = Date.now() + 5000;
    while (calls.length < count) {
      if (Date.now() > deadline) throw new Error(`run ${count} never started; events: ${events.join(" | ")}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return calls[count - 1]!;
  };
  return { session, calls, events, nextRun, maxRunning: () => maxRunning };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe("createWatchSession", () => {
  test("a burst of changes coalesces into one run that names every changed file", async () => {
    const h = harness();
    h.session.start();
    (await h.nextRun(1)).finish(0);
    for (let i = 0; i < 20; i++) h.session.change(i % 2 === 0 ? "/p/flow.yaml" : "/p/nodes/a.ts");
    const second = await h.nextRun(2);
    expect(second.trigger).toEqual({ kind: "change", files: ["/p/flow.yaml", "/p/nodes/a.ts"] });
    second.finish(0);
    await settle();
    h.session.stop();
    expect(await h.session.closed).toBe(0);
    expect(h.calls).toHaveLength(2);
  });

  test("a change during a run cancels it, and the next run starts only after it settled", async () => {
    const h = harness();
    h.session.start();
    const first = await h.nextRun(1);
    h.session.change("/p/flow.yaml");
    const second = await h.nextRun(2);
    expect(first.signal.aborted).toBe(true);
    expect(first.signal.reason).toMatchObject({ code: "E_CANCELLED", message: "flow.yaml changed, re-running" });
    expect(second.signal.aborted).toBe(false);
    expect(h.maxRunning()).toBe(1);
    expect(h.events).toEqual(["run 1 initial", "cancel 1 change", "end 1 130", "after 1 130", "run 2 change /p/flow.yaml"]);
    second.finish(1);
    await settle();
    h.session.stop();
    expect(await h.session.closed).toBe(0);
  });

  test("r re-runs at once, cancelling the run in flight", async () => {
    const h = harness({ debounceMs: 60_000 });
    h.session.start();
    const first = await h.nextRun(1);
    h.session.rerun();
    const second = await h.nextRun(2);
    expect(first.signal.aborted).toBe(true);
    expect(second.trigger).toEqual({ kind: "key" });
    second.finish(0);
    h.session.stop();
    await h.session.closed;
  });

  test.each([
    ["while idle", false, undefined, 0],
    ["mid-run", true, undefined, 130],
    ["with an explicit code", false, 2, 2],
  ])("stop %s resolves closed with the exit code", async (_name, midRun, code, expected) => {
    const h = harness();
    h.session.start();
    const first = await h.nextRun(1);
    if (!midRun) first.finish(0);
    await settle();
    h.session.stop(code);
    expect(await h.session.closed).toBe(expected);
    expect(first.signal.aborted).toBe(midRun);
    h.session.change("/p/flow.yaml");
    h.session.rerun();
    await new Promise((r) => setTimeout(r, 60));
    expect(h.calls).toHaveLength(1);
    expect(h.events.at(-1)).toBe(midRun ? "after 1 130 stopping" : "after 1 0");
  });

  test("a run that throws counts as failed and watching goes on", async () => {
    let n = 0;
    const session = createWatchSession({
      debounceMs: 5,
      run: async () => {
        n += 1;
        if (n === 1) throw new Error("boom");
        return 0;
      },
      afterRun: (code, index) => {
        if (index === 1) {
          expect(code).toBe(1);
          session.change("/p/flow.yaml");
        } else {
          session.stop();
        }
      },
    });
    session.start();
    expect(await session.closed).toBe(0);
    expect(n).toBe(2);
  });
});
