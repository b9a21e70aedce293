import { describe, expect, test } from "vitest";
import { DebugSession, type Pause } from "../../../src/conductor/debug-session.js";
import { runYaml } from "./harness.js";

// Parameters set at a debugger prompt are what the node runs with: on its first attempt, on the
// retries of its policy, in the --break-on-error pause that follows, and on `r` there. (They held
// for the first attempt only: the retries and the error pause went back to the YAML's values.)

const FLOW = `
nodes:
  - id: a
    type: test-sleep
    retry: { attempts: 3, delay: 1ms }
    parameters: { fail: original, retryable: true }
`;

describe("debugger edits outlive the first attempt", () => {
  test("set then c: every retry runs with the edit, and the failure is the edited one", async () => {
    const session = new DebugSession({
      breakpoints: ["a"],
      onPause: (pause) => {
        expect(pause.set("fail", "edited").ok).toBe(true);
        pause.go();
      },
    });
    const { result, events } = await runYaml(FLOW, { debug: session });
    expect(result.status).toBe("failed");
    const errors = events.flatMap((e) => (e.type === "node:retry" ? [e.error.message] : e.type === "node:finish" ? [e.error?.message] : []));
    expect(errors).toEqual(["edited", "edited", "edited"]);
  });

  test("--break-on-error: the pause shows the edited parameters and r retries with them", async () => {
    const reasons: string[] = [];
    const shown: unknown[] = [];
    const session = new DebugSession({
      breakpoints: ["a"],
      breakOnError: true,
      onPause: (pause: Pause) => {
        reasons.push(pause.reason);
        if (pause.reason === "breakpoint") {
          pause.set("fail", "edited");
          return pause.go();
        }
        const parameters = pause.parameters();
        shown.push(parameters.ok ? parameters.parameters.fail : parameters.message);
        if (reasons.length === 2) return void pause.retry();
        pause.go();
      },
    });
    const { result, events } = await runYaml(FLOW, { debug: session });
    expect(reasons).toEqual(["breakpoint", "error", "error"]);
    expect(shown).toEqual(["edited", "edited"]);
    expect(result.status).toBe("failed");
    const failures = events.flatMap((e) => (e.type === "node:retry" ? [e.error.message] : e.type === "node:finish" ? [e.error?.message] : []));
    // Two policy retries, the failure paused on, r (attempt 4), its failure paused on and let stand.
    expect(failures).toEqual(["edited", "edited", "edited"]);
    expect(result.nodes.a!.attempts).toBe(4);
  });
});

describe("time at the debugger prompt", () => {
  const TWO = `
nodes:
  - { id: a, type: test-sleep, parameters: { ms: 50 } }
  - { id: b, type: test-sleep, parameters: { ms: 50 } }
edges: [a -> b]
`;

  test("does not count against the run timeout: a pause longer than --timeout, then the run succeeds", async () => {
    const session = new DebugSession({ breakpoints: ["b"], onPause: (pause) => void setTimeout(() => pause.go(), 400) });
    const { result } = await runYaml(TWO, { debug: session, timeout: 300 });
    expect(result.status, JSON.stringify(result.error)).toBe("succeeded");
  });

  test("the time before and after the pause still counts: the run times out in the nodes after it", async () => {
    const SLOW = TWO.replace("id: b, type: test-sleep, parameters: { ms: 50 }", "id: b, type: test-sleep, parameters: { ms: 2000 }");
    const session = new DebugSession({ breakpoints: ["b"], onPause: (pause) => void setTimeout(() => pause.go(), 100) });
    const { result } = await runYaml(SLOW, { debug: session, timeout: 300 });
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("E_TIMEOUT");
  });
});

describe("set checks JavaScript as validation does", () => {
  test("a code body with a syntax error is refused and changes nothing; a good one runs", async () => {
    const flow = "nodes:\n  - { id: t, type: transform, parameters: { operation: map, transformFunction: 'x => x + 1' } }\n";
    const answers: { ok: boolean; message?: string }[] = [];
    const session = new DebugSession({
      breakpoints: ["t"],
      onPause: (pause) => {
        answers.push(pause.set("transformFunction", "1 +") as { ok: boolean; message?: string });
        answers.push(pause.set("transformFunction", "x => x * 10") as { ok: boolean; message?: string });
        pause.go();
      },
    });
    const { result } = await runYaml(flow, { debug: session, input: [1, 2] });
    expect(answers[0]).toMatchObject({ ok: false, message: expect.stringMatching(/^transformFunction: syntax error: /) as unknown });
    expect(answers[1]!.ok).toBe(true);
    expect(result.status).toBe("succeeded");
    expect(result.output).toEqual([10, 20]);
  });
});
