/** Secrets shorter than this are not redacted: `***` in place of every "ab" would garble all output. */
const MIN_SECRET_LENGTH = 3;
/**
 * A secret shorter than this (and each of its encoded forms) is redacted only where it stands alone,
 * not inside a longer run of letters and digits: `abc1` would otherwise turn up inside every hash,
 * hex id and base64 text (`9f3abc1e…` → `9f3***e…`). GitLab will not mask a value under 8 characters
 * at all; GitHub Actions masks any substring, and logs full of `***` in unrelated words are its most
 * common masking complaint. A short secret next to `=`, `:`, `/`, a quote, a space or a line end is
 * still redacted.
 */
const MIN_ANYWHERE_LENGTH = 8;
/** Letters and digits: a short secret with one of these on either side is part of a longer word. */
const WORD_CHAR = "[A-Za-z0-9]";
/** A fragment of an encoded secret (a base64 middle, one line of a multi-line secret) shorter than this is not a form. */
const MIN_FRAGMENT_LENGTH = 8;
/** `base64` and PEM wrap their output at 76 and 64 columns: a long secret's base64 spans lines. */
const BASE64_WRAP_WIDTHS = [76, 64];

/**
 * A function that replaces every secret value with `***`, in each form a secret takes on its way
 * to a terminal or a file:
 * - as is, JSON-escaped, and JSON-escaped twice (JSON text inside a JSON string);
 * - URL-encoded (`encodeURIComponent`, form encoding with `+` for spaces, `encodeURI`; upper- and
 *   lower-case `%xx`): a secret in a query string;
 * - hex (lower and upper case) and base64 (standard and URL-safe, with and without padding, and
 *   inside a longer base64 text at each of the three byte alignments);
 * - split over lines: each line of a multi-line secret (a PEM key printed line by line), and each
 *   line of its base64 when wrapped at 64 or 76 columns.
 * `undefined` when there is nothing to redact.
 *
 * @example
 * createRedactor(["k9+Zx/Qw=="])!("GET /x?key=k9%2BZx%2FQw%3D%3D"); // "GET /x?key=***"
 */
export function createRedactor(secrets: readonly string[]): ((text: string) => string) | undefined {
  const found = secretPattern(secrets);
  if (found === undefined) return undefined;
  const { pattern } = found;
  return (text) => text.replace(pattern, "***");
}

/**
 * Like `createRedactor`, for JSON text (events, run records, the event log), which stays valid JSON:
 * secrets are replaced inside string values and keys, and a number is replaced (by the string
 * `"***"`) only when the whole number is a secret. Text outside strings (a `ts`, a `pid`, a
 * duration) is never cut, and neither are the run's own ids, times and words where they have the
 * runner's own form (a `runId` as `createRunId` makes it, an ISO `startedAt`/`finishedAt`, an event
 * `type`, a run or node `status`): a secret "2026" or a PIN that happens to be the start of a
 * timestamp would otherwise break every line it touched. The same keys in a node's output, with any
 * other value (`{"status": "<a token>"}`), are redacted like any string. A `nodeId` is redacted as
 * the record's node keys are (`nodesUnderTheirIds` finds such a node again).
 */
export function createJsonRedactor(secrets: readonly string[]): ((json: string) => string) | undefined {
  const found = secretPattern(secrets);
  if (found === undefined) return undefined;
  const { pattern, forms } = found;
  return (json) =>
    json.replace(JSON_TOKEN, (token: string, key: string | undefined, value: string | undefined, text: string | undefined) => {
      if (key !== undefined) return RUNNER_FORMS[key as keyof typeof RUNNER_FORMS].test(value!) ? token : token.replace(pattern, "***");
      if (text !== undefined) return token.replace(pattern, "***");
      return forms.has(token) ? '"***"' : token;
    });
}

/** The values the runner itself writes under these keys; only these are left whole. */
const RUNNER_FORMS = {
  runId: /^\d{8}T\d{6}-[0-9a-f]{6}$/,
  startedAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/,
  finishedAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/,
  type: /^(?:run|node):[a-z]+$/,
  status: /^(?:succeeded|failed|skipped|cancelled|running|cancelling)$/,
};

// A string under a key whose runner-written values redaction leaves alone (groups 1 and 2: the key
// and the value), any other JSON string (group 3), or a number (no group). Strings come first, so
// digits inside them are never taken for numbers.
const JSON_TOKEN = /"(runId|type|status|startedAt|finishedAt)"\s*:\s*"((?:[^"\\]|\\.)*)"|("(?:[^"\\]|\\.)*")|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

/** Every form of every secret long enough to redact, as one pattern (longest first, so a form that contains another is replaced whole). */
function secretPattern(secrets: readonly string[]): { pattern: RegExp; forms: ReadonlySet<string> } | undefined {
  const forms = new Set<string>();
  // Forms of a short secret only: matched where they stand alone (MIN_ANYWHERE_LENGTH).
  const alone = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    const short = [...secret].length < MIN_ANYWHERE_LENGTH;
    for (const form of secretForms(secret)) {
      if (short && !forms.has(form)) alone.add(form);
      if (!short) alone.delete(form);
      forms.add(form);
    }
    const lines = secret.split(/\r?\n/).map((line) => line.trim());
    if (lines.length < 2) continue;
    for (const line of lines) {
      if (line.length < MIN_FRAGMENT_LENGTH) continue;
      for (const form of secretForms(line)) {
        forms.add(form);
        alone.delete(form);
      }
    }
  }
  if (forms.size === 0) return undefined;
  const cuts = secrets.flatMap((secret) => [cutForm(secret), cutForm(JSON.stringify(secret).slice(1, -1))]).filter((c): c is string => c !== undefined);
  const sources = [...forms].sort((a, b) => b.length - a.length).map((form) => (alone.has(form) ? `(?<!${WORD_CHAR})${escapeRegExp(form)}(?!${WORD_CHAR})` : escapeRegExp(form)));
  return { pattern: new RegExp([...new Set(cuts), ...sources].join("|"), "g"), forms };
}

/** How far into a secret a message may have cut it (messages cut long values at 40 to 200 characters). */
const MAX_CUT = 200;

/**
 * A secret cut short for a message (`"sk-abcdefgh…"`, as messages quote a long value): its first
 * MIN_FRAGMENT_LENGTH characters or more, then `…` or `...`. Undefined for a secret too short to be cut.
 */
function cutForm(secret: string): string | undefined {
  const chars = [...secret].slice(0, MAX_CUT);
  if (chars.length <= MIN_FRAGMENT_LENGTH) return undefined;
  let tail = "";
  for (let k = chars.length - 1; k >= MIN_FRAGMENT_LENGTH; k--) tail = `(?:${escapeRegExp(chars[k]!)}${tail})?`;
  // `…`, or the three dots V8 cuts its own messages with (`Unexpected token … "{"a": sk-superse"... is not valid JSON`).
  return `${escapeRegExp(chars.slice(0, MIN_FRAGMENT_LENGTH).join(""))}${tail}(?:…|"?\\.\\.\\.)`;
}

function secretForms(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  const bytes = Buffer.from(secret);
  const forms = [
    secret,
    escaped,
    JSON.stringify(escaped).slice(1, -1),
    ...urlForms(secret),
    bytes.toString("hex"),
    bytes.toString("hex").toUpperCase(),
    ...base64Forms(bytes),
  ];
  return forms.filter((form) => form.length >= MIN_SECRET_LENGTH);
}

function urlForms(secret: string): string[] {
  const component = encodeURIComponent(secret);
  const forms = [component, new URLSearchParams({ s: secret }).toString().slice(2), encodeURI(secret)];
  for (const form of [...forms]) forms.push(form.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
  return forms;
}

function base64Forms(bytes: Buffer): string[] {
  const standard = bytes.toString("base64");
  const forms = [standard, standard.replace(/=+$/, ""), bytes.toString("base64url")];
  // Inside a longer base64 text (`user:secret` in a Basic header), the secret's bytes start at one of
  // three offsets within a 3-byte group: keep the characters that depend only on the secret's bytes.
  for (const offset of [1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    const whole = Math.floor((offset + bytes.length) / 3) * 4;
    const middle = shifted.slice(4, whole);
    if (middle.length >= MIN_FRAGMENT_LENGTH) forms.push(middle);
  }
  const aligned = standard.slice(0, Math.floor(bytes.length / 3) * 4);
  if (aligned.length >= MIN_FRAGMENT_LENGTH) forms.push(aligned);
  for (const width of BASE64_WRAP_WIDTHS) {
    if (standard.length <= width) continue;
    for (let i = 0; i < standard.length; i += width) {
      const line = standard.slice(i, i + width);
      if (line.length >= MIN_FRAGMENT_LENGTH) forms.push(line);
    }
  }
  return forms;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
