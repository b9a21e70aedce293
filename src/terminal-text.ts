/**
 * Characters a terminal acts on instead of showing: C0 controls but TAB and LF (ESC starts cursor
 * moves, screen clears and OSC window titles; CR rewrites the line), DEL, C1 controls (U+0080–U+009F,
 * 8-bit CSI/OSC) and the bidi controls that reorder what is shown ("Trojan Source", CVE-2021-42574).
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const HAS_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Whether `text` holds a character `escapeControlCharacters` would rewrite. */
export function hasControlCharacters(text: string): boolean {
  return HAS_CONTROL.test(text);
}

/**
 * Text from a composite, a node or a record, made safe to print on a terminal: every control
 * character shows as its escape (`\x1b`, `\r`→`\x0d`, `\u202e`), so a file cannot clear the screen,
 * move the cursor or set the window title. TAB and LF stay (callers split lines). Apply it to
 * untrusted text before adding our own colours.
 *
 * @example
 * escapeControlCharacters("a\u001b[2Jb"); // "a\\x1b[2Jb"
 */
export function escapeControlCharacters(text: string): string {
  return HAS_CONTROL.test(text) ? text.replace(CONTROL, visible) : text;
}

/**
 * `value` with every string in it (keys too) passed through `escapeControlCharacters`, except under
 * the keys in `skip` (a run's `output`, which is data, not text to show). The same object comes back
 * when nothing needed escaping, so the common case copies nothing.
 */
export function escapeControlDeep<T>(value: T, skip: ReadonlySet<string> = new Set()): T {
  return walk(value, skip, 0) as T;
}

const MAX_DEPTH = 64;

function walk(value: unknown, skip: ReadonlySet<string>, depth: number): unknown {
  if (typeof value === "string") return escapeControlCharacters(value);
  if (typeof value !== "object" || value === null || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const safe = walk(item, skip, depth + 1);
      if (safe !== item) {
        copy ??= value.slice();
        copy[i] = safe;
      }
    }
    return copy ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    if (skip.has(key)) continue;
    const safeKey = escapeControlCharacters(key);
    const safe = walk(item, skip, depth + 1);
    if (safe !== item || safeKey !== key) {
      copy ??= { ...(value as Record<string, unknown>) };
      if (safeKey !== key) delete copy[key];
      copy[safeKey] = safe;
    }
  }
  return copy ?? value;
}
