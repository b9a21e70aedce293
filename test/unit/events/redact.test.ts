import { describe, expect, test } from "vitest";
import { createJsonRedactor, createRedactor } from "../../../src/events/redact.js";

const SECRET = "k9+Zx/Qw==-long-enough-secret";

describe("createRedactor", () => {
  test("nothing to redact without a secret of 3 or more characters", () => {
    expect(createRedactor([])).toBeUndefined();
    expect(createRedactor(["ab"])).toBeUndefined();
  });

  test.each([
    ["as is", SECRET],
    ["JSON-escaped", JSON.stringify('say "hi"').slice(1, -1)],
    ["URL-encoded", encodeURIComponent(SECRET)],
    ["URL-encoded, lower-case", encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
    ["form-encoded", new URLSearchParams({ k: SECRET }).toString().slice(2)],
    ["hex", Buffer.from(SECRET).toString("hex")],
    ["HEX", Buffer.from(SECRET).toString("hex").toUpperCase()],
    ["base64", Buffer.from(SECRET).toString("base64")],
    ["base64url", Buffer.from(SECRET).toString("base64url")],
  ])("the %s form is replaced", (_form, text) => {
    const redact = createRedactor([SECRET, 'say "hi"'])!;
    expect(redact(`before ${text} after`)).toBe("before *** after");
  });

  test.each([0, 1, 2, 3, 4, 5])("inside a longer base64 text (a Basic header), after %i bytes, the secret's bytes are masked", (offset) => {
    const redact = createRedactor([SECRET])!;
    const encoded = Buffer.from(`${"u".repeat(offset)}${SECRET}:rest`).toString("base64");
    const out = redact(encoded);
    expect(out).toContain("***");
    // What is left cannot be decoded back to the secret.
    expect(Buffer.from(out.replace("***", ""), "base64").toString("latin1")).not.toContain(SECRET.slice(3, -3));
  });

  test("each line of a multi-line secret and of its wrapped base64 is masked on its own", () => {
    const pem = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX\n-----END KEY-----";
    const long = "x".repeat(40) + "y".repeat(40);
    const redact = createRedactor([pem, long])!;
    expect(redact("MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX")).toBe("***");
    const wrapped = Buffer.from(long).toString("base64");
    expect(redact(wrapped.slice(0, 76))).toBe("***");
    expect(redact(wrapped.slice(76))).toBe("***");
  });
});

describe("a short secret (under 8 characters) is redacted only where it stands alone", () => {
  const hash = "9f3abc1e0d4c7b2a61626331ffee00aa59574a6a4d513d3d"; // holds abc1, its hex 61626331 and its base64 YWJjMQ==

  test.each([
    ["inside a hex hash", `sha256 ${hash}`, `sha256 ${hash}`],
    ["inside a word", "xabc1 abc1x", "xabc1 abc1x"],
    ["alone", "token abc1 ok", "token *** ok"],
    ["after = and before &", "?key=abc1&x=1", "?key=***&x=1"],
    ["quoted, or after a colon or a slash", '"abc1" user:abc1 /abc1/', '"***" user:*** /***/'],
    ["next to _ and -", "id_abc1 fetch-abc1", "id_*** fetch-***"],
    ["its hex alone, its base64 alone", "61626331 YWJjMQ==", "*** ***"],
    ["at the start and end of the text", "abc1", "***"],
  ])("%s", (_where, text, expected) => {
    expect(createRedactor(["abc1"])!(text)).toBe(expected);
    expect(JSON.parse(createJsonRedactor(["abc1"])!(JSON.stringify({ message: text })))).toEqual({ message: expected });
  });

  test("a secret of 8 characters or more is redacted anywhere, also inside a longer word", () => {
    expect(createRedactor(["abcd1234"])!("9f3abcd1234e")).toBe("9f3***e");
  });

  test("a form shared with a longer secret is redacted anywhere", () => {
    expect(createRedactor(["abc1", "abc1abc1"])!("xxabc1abc1yy and xabc1y")).toBe("xx***yy and xabc1y");
  });
});

describe("createJsonRedactor: JSON stays JSON", () => {
  const line = (over: Record<string, unknown> = {}) =>
    JSON.stringify({ type: "node:log", runId: "20261796T070829-ab1796", ts: 1796627300649, nodeId: "n-1796", pid: 17960, message: "pin 1796 and SuperSecret", ...over });

  test("a numeric secret inside a timestamp, a pid or a run id leaves them whole; inside strings it is replaced", () => {
    const redact = createJsonRedactor(["1796", "SuperSecret"])!;
    const out = redact(line({ startedAt: "2026-12-07T17:96:00.000Z" }));
    const parsed = JSON.parse(out) as Record<string, unknown>;
    // A node id is redacted as the record's node keys are (nodesUnderTheirIds finds the node again).
    expect(parsed).toMatchObject({ type: "node:log", runId: "20261796T070829-ab1796", ts: 1796627300649, nodeId: "n-***", pid: 17960, message: "pin *** and ***", startedAt: "2026-12-07T17:96:00.000Z" });
  });

  test("the runner's own keys in a node's output are redacted: only the runner's forms of their values are left whole", () => {
    const token = "tok_9f8e7d6c5b4a";
    const redact = createJsonRedactor([token, "succeeded"])!;
    const output = { status: token, type: `Bearer ${token}`, runId: token, startedAt: token, finishedAt: `at ${token}` };
    const out = JSON.parse(redact(JSON.stringify({ type: "node:finish", status: "succeeded", output }))) as Record<string, unknown>;
    expect(out).toEqual({ type: "node:finish", status: "succeeded", output: { status: "***", type: "Bearer ***", runId: "***", startedAt: "***", finishedAt: "at ***" } });
  });

  test("a number that is a secret as a whole becomes the string \"***\"; keys and escaped strings are redacted too", () => {
    const redact = createJsonRedactor(["1796", 'a"b\\c'])!;
    const out = redact(JSON.stringify({ pin: 1796, near: 17961, list: [1796, -1796.5], "key 1796": 'x a"b\\c y' }));
    expect(JSON.parse(out)).toEqual({ pin: "***", near: 17961, list: ["***", -1796.5], "key ***": "x *** y" });
  });

  test("the plain text redactor replaces a short secret standing alone, as in JSON (run outputs, which need not be JSON)", () => {
    expect(createRedactor(["1796"])!("pin=1796, ts 1796627300649")).toBe("pin=***, ts 1796627300649");
  });

  test("nothing to redact: undefined", () => {
    expect(createJsonRedactor(["ab", ""])).toBeUndefined();
  });
});

describe("a secret cut short in a message", () => {
  const SECRET = "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-more";

  test("its first characters before an ellipsis are redacted, at any cut of 8 characters or more", () => {
    const redact = createRedactor([SECRET])!;
    for (const cut of [8, 12, 40, 60, SECRET.length - 1]) expect(redact(`got "${SECRET.slice(0, cut)}…" (a duration)`)).toBe('got "***" (a duration)');
    // Shorter than 8, or without the ellipsis, the text is left as it is: it may be anything.
    expect(redact(`got "${SECRET.slice(0, 7)}…"`)).toBe(`got "${SECRET.slice(0, 7)}…"`);
    expect(redact(`got "${SECRET.slice(0, 40)}"`)).toBe(`got "${SECRET.slice(0, 40)}"`);
    // V8's JSON.parse message cuts with three dots after the closing quote.
    expect(redact(`Unexpected token 's', "{"a": ${SECRET.slice(0, 10)}"... is not valid JSON`)).toBe(`Unexpected token 's', "{"a": *** is not valid JSON`);
  });

  test("in JSON text too, and a whole secret is still a whole secret", () => {
    const redact = createJsonRedactor([SECRET])!;
    expect(JSON.parse(redact(JSON.stringify({ message: `got "${SECRET.slice(0, 40)}…"`, whole: SECRET })))).toEqual({ message: 'got "***"', whole: "***" });
  });
});
