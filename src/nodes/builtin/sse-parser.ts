/** What the end of a stream left: the data of an event that no blank line dispatched, and the unfinished last line. */
export interface SseEnd {
  /** The `data:` lines of the undispatched event joined with "\n" (the last line counts when it is a data line), else undefined. */
  data: string | undefined;
  /** The last line, when the stream ended without its line end ("" otherwise). */
  lastLine: string;
}

export interface SseParser {
  /** Parse the next piece of decoded text; `onEvent` returning true stops the parser, and `feed` returns true. */
  feed(text: string): boolean;
  /** The stream ended: what was left undispatched (the caller decides whether a whole last event counts). */
  end(): SseEnd;
  /** Whether any `data:` line was seen so far (a body without one is not an event stream). */
  readonly sawData: boolean;
}

const LINE_END = /\r\n|\r|\n/g;

/**
 * The event stream interpretation of the WHATWG HTML spec (server-sent events), for the data of
 * events: a line ends with CRLF, LF or CR alone (a CR that ends one piece of text and an LF that
 * starts the next are one line end); the `data:` lines of an event join with "\n" and a blank line
 * dispatches it; comments (`:`) and the other fields (`event`, `id`, `retry`) are read past. Only the
 * new text of each piece is searched, so a long line costs linear time.
 */
export function createSseParser(onEvent: (data: string) => boolean): SseParser {
  let pending: string[] = [];
  let data: string[] | undefined;
  let afterCR = false;
  let sawData = false;

  const line = (text: string): boolean => {
    if (text === "") {
      const event = data;
      data = undefined;
      return event !== undefined && onEvent(event.join("\n"));
    }
    if (text.startsWith(":")) return false;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    if (field !== "data") return false;
    const value = colon === -1 ? "" : text.slice(colon + (text[colon + 1] === " " ? 2 : 1));
    (data ??= []).push(value);
    sawData = true;
    return false;
  };

  return {
    get sawData() {
      return sawData;
    },
    feed(text) {
      let start = afterCR && text.startsWith("\n") ? 1 : 0;
      afterCR = false;
      LINE_END.lastIndex = start;
      let match: RegExpExecArray | null;
      while ((match = LINE_END.exec(text)) !== null) {
        const whole = pending.length === 0 ? text.slice(start, match.index) : pending.join("") + text.slice(start, match.index);
        pending = [];
        start = match.index + match[0].length;
        // A CR at the very end may be the first half of a CRLF split across two pieces.
        if (match[0] === "\r" && start === text.length) afterCR = true;
        if (line(whole)) return true;
      }
      if (start < text.length) pending.push(text.slice(start));
      return false;
    },
    end() {
      const lastLine = pending.join("");
      pending = [];
      if (lastLine !== "") line(lastLine);
      const left = data;
      data = undefined;
      return { data: left?.join("\n"), lastLine };
    },
  };
}
