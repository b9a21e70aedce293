import type { Problem } from "../composite/problem.js";
import { AtomitonError } from "../errors.js";
import { createJsonRedactor, createRedactor } from "../events/redact.js";

/**
 * The secrets a command knows so far: `--secret` names at once, a composite's `secrets:` once the
 * file is read. A value given on the command line (`--var`, `--set`, `--input`) that equals a
 * secret's value is redacted from problems and usage errors too, not only from the run's output.
 */
export class KnownSecrets {
  private readonly names: string[];
  private cached: { text?: (t: string) => string; json?: (t: string) => string } | undefined;

  constructor(
    private readonly env: Record<string, string | undefined>,
    names: readonly string[] = [],
  ) {
    this.names = [...names];
  }

  /** Whether the composite's `secrets:` are among them yet. */
  compositeRead = false;

  add(names: readonly string[]): void {
    this.names.push(...names);
    this.cached = undefined;
  }

  /** The composite's `secrets:`, once it is read. */
  addComposite(names: readonly string[]): void {
    this.compositeRead = true;
    this.add(names);
  }

  /** The values of the named env vars that are set. */
  values(): string[] {
    return this.names.map((n) => this.env[n]).filter((v): v is string => typeof v === "string" && v.length > 0);
  }

  /** Redacts text (undefined when there is nothing to redact). */
  get text(): ((text: string) => string) | undefined {
    return this.redactors().text;
  }

  /** Redacts JSON text inside its strings only (undefined when there is nothing to redact). */
  get json(): ((json: string) => string) | undefined {
    return this.redactors().json;
  }

  /** Redacts bytes (an output that is a Buffer): each secret's UTF-8 bytes become `***`. */
  get bytes(): ((bytes: Uint8Array) => Uint8Array) | undefined {
    // Byte for byte: latin1 maps each byte to one character, and each secret to the characters of its UTF-8 bytes.
    const latin = createRedactor(this.values().map((v) => Buffer.from(v, "utf8").toString("latin1")));
    return latin && ((bytes) => Buffer.from(latin(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")), "latin1"));
  }

  problems(problems: readonly Problem[]): readonly Problem[] {
    const redact = this.text;
    if (!redact) return problems;
    return problems.map((p) => ({ ...p, message: redact(p.message), ...(p.hint === undefined ? {} : { hint: redact(p.hint) }) }));
  }

  /** The error as the user may see it: an AtomitonError's message, hint and details redacted. */
  error(error: unknown): unknown {
    const redact = this.text;
    if (!redact || !(error instanceof AtomitonError)) return error;
    const message = redact(error.message);
    const hint = error.hint === undefined ? undefined : redact(error.hint);
    const details = error.details === undefined ? undefined : redactDetails(error.details, this.json!);
    if (message === error.message && hint === error.hint && JSON.stringify(details) === JSON.stringify(error.details)) return error;
    const copy = new AtomitonError(error.code, message, { retryable: error.retryable, ...(hint === undefined ? {} : { hint }), ...(details === undefined ? {} : { details }) });
    copy.name = error.name;
    return copy;
  }

  private redactors(): { text?: (t: string) => string; json?: (t: string) => string } {
    if (this.cached) return this.cached;
    const values = this.values();
    const text = createRedactor(values);
    const json = createJsonRedactor(values);
    return (this.cached = { ...(text ? { text } : {}), ...(json ? { json } : {}) });
  }
}

function redactDetails(details: Record<string, unknown>, redact: (json: string) => string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(redact(JSON.stringify(details))) as Record<string, unknown>;
  } catch {
    return undefined; // Not JSON (a BigInt, a cycle): left out rather than shown unredacted.
  }
}

/**
 * Runs `work`: an error it throws is redacted with the secrets known by then, or, when it came before
 * the composite was read (a malformed `--set`, a `--queue`/`--remote` run), with the `secrets:` of
 * `file` too (read only then).
 */
export async function withRedactedErrors<T>(secrets: KnownSecrets, file: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!secrets.compositeRead && file !== undefined) secrets.addComposite(await secretsOfFile(file));
    throw secrets.error(error);
  }
}

/** The `secrets:` names of a composite file (none when it cannot be read as one). */
export async function secretsOfFile(file: string): Promise<string[]> {
  const { loadComposite } = await import("../composite/load-composite.js");
  const loaded = await loadComposite(file).catch(() => undefined);
  return loaded?.composite?.secrets ?? [];
}
