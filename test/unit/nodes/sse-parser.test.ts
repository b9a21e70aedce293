import { describe, expect, test } from "vitest";
import { createSseParser } from "../../../src/nodes/builtin/sse-parser.js";

/** Feed `pieces` in order; the events dispatched and what the end left. */
function parse(pieces: readonly string[]): { events: string[]; end: ReturnType<ReturnType<typeof createSseParser>["end"]> } {
  const events: string[] = [];
  const parser = createSseParser((data) => {
    events.push(data);
    return false;
  });
  for (const piece of pieces) parser.feed(piece);
  return { events, end: parser.end() };
}

/** Every way to cut `text` in two, plus the text whole and one character at a time. */
function splits(text: string): string[][] {
  const out: string[][] = [[text], [...text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe("server-sent events parser (WHATWG event stream interpretation)", () => {
  test.each([
    ["LF", "data: a\n\ndata: b\n\n"],
    ["CRLF", "data: a\r\n\r\ndata: b\r\n\r\n"],
    ["CR alone", "data: a\r\rdata: b\r\r"],
    ["mixed", "data: a\r\n\rdata: b\n\r\n"],
  ])("lines ended by %s dispatch the same events, however the text is cut", (_name, stream) => {
    for (const pieces of splits(stream)) expect(parse(pieces)).toEqual({ events: ["a", "b"], end: { data: undefined, lastLine: "" } });
  });

  test("data lines of one event join with a newline; one leading space is removed, no more", () => {
    expect(parse(["data:{\"a\":\ndata:  1}\n\n"]).events).toEqual(['{"a":\n 1}']);
  });

  test("comments, other fields and a blank line without data dispatch nothing", () => {
    expect(parse([": keep-alive\n\nevent: message\nid: 7\nretry: 100\n\ndata\n\n"]).events).toEqual([""]);
  });

  test("the end returns an undispatched event, the unfinished last line included", () => {
    expect(parse(["data: a\n\ndata: {\"b\":\ndata: 2}"])).toEqual({ events: ["a"], end: { data: '{"b":\n2}', lastLine: "data: 2}" } });
  });

  test("onEvent returning true stops the parser there", () => {
    const seen: string[] = [];
    const parser = createSseParser((data) => {
      seen.push(data);
      return data === "stop";
    });
    expect(parser.feed("data: a\r\rdata: stop\r\rdata: never\r\r")).toBe(true);
    expect(seen).toEqual(["a", "stop"]);
  });

  test("sawData tells an event stream from a body with no data line", () => {
    const plain = createSseParser(() => false);
    plain.feed('{"error":{"message":"no"}}');
    plain.end();
    expect(plain.sawData).toBe(false);
    const sse = createSseParser(() => false);
    sse.feed("data: x");
    expect(sse.sawData).toBe(false);
    sse.feed("\n");
    expect(sse.sawData).toBe(true);
  });
});
