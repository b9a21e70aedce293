import path from "node:path";
import { parse as parseYamlText } from "yaml";
import { AtomitonError, ErrorCode } from "../errors.js";
import { readUserFile, StreamTooLargeError } from "../read-file.js";
import { decodeSource } from "../composite/decode-source.js";
import { isTooDeep, TOO_DEEP } from "../composite/yaml-hints.js";
import type { ParameterOverride } from "../composite/load-composite.js";
import type { Composite } from "../composite/model.js";
import { checkVariables } from "../conductor/variables.js";
import { parseDuration } from "../js/duration.js";
import { isRedisPrefix } from "../storage/create-storage.js";
import { DEFAULT_REDIS_PREFIX, redactRedisUrl } from "../storage/redis.js";

/** A flag value: JSON when it parses as JSON (`5`, `true`, `[1,2]`, `{"a":1}`), else the string. */
export function parseFlagValue(text: string): unknown {
  const t = text.trim();
  if (t === "") return text;
  if (/^[-\d[{"]|^(true|false|null)$/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * The queue's namespace (the prefix of its Redis keys): `flag`'s value (`--queue`, `--queue-name`),
 * else $ATOMITON_QUEUE, else `atomiton`. A name Redis keys cannot take (`a b`) is a usage error that
 * names where it came from, before anything reaches Redis (a worker took it and waited on a queue no
 * submitter could reach; `run --queue` queued its run, then failed with E_STORAGE).
 */
export function queueNameFrom(flag: string, value: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const [source, name] = value !== undefined ? [flag, value] : env.ATOMITON_QUEUE ? ["ATOMITON_QUEUE", env.ATOMITON_QUEUE] : ["", DEFAULT_REDIS_PREFIX];
  if (!isRedisPrefix(name)) {
    throw new AtomitonError(ErrorCode.USAGE, `${source}: ${JSON.stringify(name)} is not a queue name`, { retryable: false, hint: 'use letters, digits, "_", "." and "-", with ":" between parts, e.g. team-a or ci:nightly' });
  }
  return name;
}

/**
 * A Redis URL given with `flag` (`--redis`, `--queue`, or `ATOMITON_REDIS_URL`): redis:// or
 * rediss://, one that parses, a port from 1 to 65535 and, after the host, a database number. Checked
 * here so a bad one is a usage error naming it, not a TypeError from the Redis client later (which
 * is a "bug" report and, in a worker, a process that goes on with nothing to do).
 */
export function parseRedisUrl(flag: string, value: string): string {
  const bad = (why: string) =>
    new AtomitonError(ErrorCode.USAGE, `${flag}: ${why}, got ${redactRedisUrl(value)}`, {
      retryable: false,
      // `run --queue` takes the URL, `worker --queue` the queue's name: a name given to `run` belongs in --queue-name.
      hint: flag === "--queue" && /^[\w.-]+$/.test(value) ? `for example --queue redis://127.0.0.1:6379; the queue's name goes in --queue-name ${value}` : "for example redis://127.0.0.1:6379, rediss://:password@host:6380/1",
    });
  if (!/^rediss?:\/\//.test(value)) throw bad("expected a redis:// or rediss:// URL");
  // The port before `new URL`: it rejects one over 65535 with a bare "Invalid URL".
  const port = /^rediss?:\/\/(?:[^@/?#]*@)?(?:\[[^\]/]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)/.exec(value)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) throw bad(`port ${port} is not from 1 to 65535`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad("not a valid URL (check the host, the brackets of an IPv6 address, the port)");
  }
  if (url.hostname === "") throw bad("no host");
  if (url.pathname !== "" && url.pathname !== "/" && !/^\/\d+$/.test(url.pathname)) throw bad(`the path must be a database number (/0, /1…), not ${url.pathname}`);
  return value;
}

/**
 * A duration flag (`--timeout 30s`) in ms; undefined when the flag was not given. Anything
 * `parseDuration` does not read, or shorter than `min` ms, is a usage error naming the flag and the value.
 */
export function durationFlag(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) {
    throw new AtomitonError(ErrorCode.USAGE, `${flag}: expected a duration${min > 0 ? ` of at least ${min} ms` : ""} such as 30s or 5m, got ${value}`, { retryable: false });
  }
  return ms;
}

/** What each `k=v` flag expects, for its messages. */
const PAIR_FORMS: Record<string, { form: string; example: string }> = {
  "--var": { form: "key=value", example: "--var limit=5" },
  "--set": { form: "<nodeId>.<param>=<value>", example: "--set fetch.url=http://127.0.0.1:8080" },
  "--input": { form: "key=value", example: "--input name=Ada" },
};

function splitPair(flag: string, text: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    const { form, example } = PAIR_FORMS[flag] ?? { form: "key=value", example: `${flag} key=value` };
    const looksLikeNode = flag === "--set" && /^[\w-]+$/.test(text);
    throw new AtomitonError(ErrorCode.USAGE, `${flag} ${JSON.stringify(text)}: expected ${form}`, {
      retryable: false,
      hint: looksLikeNode ? `name the parameter of node "${text}" and its value, e.g. --set ${text}.<param>=<value>` : `e.g. ${example}`,
    });
  }
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/**
 * `--var k=v` (repeatable) → an object; values are JSON when they parse as JSON. The text as typed
 * is kept too: `checkVarFlags` gives it to variables declared `type: string` (`--var version=1.10`
 * is "1.10", not the number 1.1 written back as "1.1").
 */
export function parseVars(values: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const texts: Record<string, string> = {};
  for (const v of values) {
    const [k, raw] = splitPair("--var", v);
    // Own properties, also for `__proto__` (which `out[k] =` would take as the prototype and drop
    // without a word): a name no composite declares is then reported like any other.
    Object.defineProperty(out, k, { value: parseFlagValue(raw), enumerable: true, writable: true, configurable: true });
    Object.defineProperty(texts, k, { value: raw, enumerable: true, writable: true, configurable: true });
  }
  typedTexts.set(out, texts);
  return out;
}
const typedTexts = new WeakMap<object, Record<string, string>>();

/** `--set node.param=value` (repeatable). */
export function parseSets(values: readonly string[]): ParameterOverride[] {
  return values.map((v) => {
    const [target, raw] = splitPair("--set", v);
    const dot = target.indexOf(".");
    if (dot <= 0 || dot === target.length - 1) {
      throw new AtomitonError(ErrorCode.USAGE, `--set ${JSON.stringify(v)}: expected <nodeId>.<param>=<value>`, { retryable: false, hint: "e.g. --set fetch.url=http://127.0.0.1:8080" });
    }
    return { nodeId: target.slice(0, dot), param: target.slice(dot + 1), value: parseFlagValue(raw) };
  });
}

/**
 * `--input` (repeatable): JSON, `@file.json|yaml`, or `k=v` pairs merged into one object.
 * A single JSON or @file value is the input as is.
 */
export async function parseInput(values: readonly string[], cwd: string): Promise<unknown> {
  if (values.length === 0) return undefined;
  const pairs: Record<string, unknown> = {};
  let whole: unknown;
  let hasPairs = false;
  for (const v of values) {
    if (v.startsWith("@")) {
      whole = await readInputFile(v.slice(1), cwd);
    } else if (/^\s*[[{"]/.test(v) || /^\s*(-?\d|true$|false$|null$)/.test(v)) {
      try {
        whole = JSON.parse(v);
      } catch (error) {
        throw new AtomitonError(ErrorCode.USAGE, `--input is not valid JSON: ${(error as Error).message}`, { retryable: false, hint: "quote JSON for your shell: --input '{\"a\":1}'" });
      }
    } else {
      const [k, raw] = splitPair("--input", v);
      // An own property also for `__proto__`: input is data (`pairs[k] =` would set the prototype).
      Object.defineProperty(pairs, k, { value: parseFlagValue(raw), enumerable: true, writable: true, configurable: true });
      hasPairs = true;
    }
  }
  if (hasPairs) {
    if (whole !== undefined && (typeof whole !== "object" || whole === null || Array.isArray(whole))) {
      throw new AtomitonError(ErrorCode.USAGE, "--input k=v pairs can only be combined with an object input", { retryable: false });
    }
    return { ...(whole as object | undefined), ...pairs };
  }
  return whole;
}

/** `@file` of a flag: JSON, or YAML for .yaml/.yml. A pipe (`@<(cmd)`) waits for its writer, interruptibly. */
export async function readInputFile(file: string, cwd: string, flag = "--input"): Promise<unknown> {
  let bytes: Buffer;
  // `--input @f`, but `--pin id=@f` (a flag that ends in "=" takes the file right after it).
  const named = `${flag}${flag.endsWith("=") ? "" : " "}@${file}`;
  try {
    bytes = await readUserFile(path.resolve(cwd, file));
  } catch (error) {
    const reason = error instanceof StreamTooLargeError ? error.message : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    throw new AtomitonError(ErrorCode.USAGE, `${named}: cannot read the file (${reason})`, { retryable: false });
  }
  // As a composite file is read: UTF-8 without its byte order mark. A UTF-16 file (PowerShell's `>`)
  // failed as "Unexpected token '�'", and a binary .yaml became a string of replacement characters.
  const decoded = decodeSource(bytes, undefined, { files: "input files", text: "JSON or YAML text", binaryHint: "give a JSON file, or a YAML one named .yaml or .yml (text in UTF-8)" });
  if (!decoded.ok) {
    const { line, col, message, hint } = decoded.problem;
    throw new AtomitonError(ErrorCode.USAGE, `${named}: ${file}:${line}:${col} ${message}`, { retryable: false, ...(hint === undefined ? {} : { hint }) });
  }
  const text = decoded.text;
  const yaml = /\.ya?ml$/i.test(file);
  try {
    return yaml ? parseYamlText(text) : JSON.parse(text);
  } catch (error) {
    const { at, reason } = locateParseError(error as Error, text, yaml);
    // yaml's "Maximum call stack size exceeded" for lists in lists thousands deep: said as the composite parser says it.
    const deep = yaml && isTooDeep(error as Error);
    throw new AtomitonError(ErrorCode.USAGE, `${named}: ${at === undefined ? "" : `${file}:${at.line}:${at.col} `}${deep ? TOO_DEEP : reason}`, {
      retryable: false,
      hint: deep ? "give the value fewer levels of lists or mappings inside each other" : yaml ? "the file is read as YAML (.yaml, .yml)" : "the file is read as JSON (name it .yaml or .yml for YAML)",
    });
  }
}

/** Where a JSON or YAML parse failed, 1-based, and its reason on one line (yaml's message carries a code frame). */
function locateParseError(error: Error, text: string, yaml: boolean): { at?: { line: number; col: number }; reason: string } {
  if (yaml) {
    const at = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    return { ...(at ? { at } : {}), reason: error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, "").trim() };
  }
  const position = /at position (\d+)/.exec(error.message)?.[1];
  const offset = position !== undefined ? Number(position) : /Unexpected end of JSON input/.test(error.message) ? text.length : undefined;
  // V8 quotes the text in some messages (`Unexpected token '}', "{…" is not valid JSON`): the token is enough.
  const reason = error.message.replace(/, "[\s\S]* is not valid JSON$/, "").replace(/ in JSON at position \d+[\s\S]*$/, "");
  if (offset === undefined) return { reason };
  const before = text.slice(0, offset).split("\n");
  return { at: { line: before.length, col: before.at(-1)!.length + 1 }, reason };
}

/** commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--var` values against the composite, before anything runs (a dry run too); a string variable takes the text as typed. */
export function checkVarFlags(composite: Composite, vars: Record<string, unknown>): void {
  const texts = typedTexts.get(vars);
  if (texts !== undefined) {
    for (const [name, spec] of Object.entries(composite.variables)) if (spec.type === "string" && Object.hasOwn(texts, name)) vars[name] = texts[name];
  }
  checkVariables(composite, vars, "--var");
}
