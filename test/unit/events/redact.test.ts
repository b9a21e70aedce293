import { describe, expect, test } from "vitest";
import { createRedactor } from "../../../src/events/redact.js";

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
