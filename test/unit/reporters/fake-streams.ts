import { Writable } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import type { ReporterOptions } from "../../../src/reporters/types.js";

/** A writable that keeps what it was given, with the TTY shape reporters read. */
export class FakeStream extends Writable {
  readonly chunks: string[] = [];
  isTTY: boolean;
  columns: number;

  constructor(options: { isTTY: boolean; columns?: number }) {
    super({ decodeStrings: false });
    this.isTTY = options.isTTY;
    this.columns = options.columns ?? 100;
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(typeof chunk === "string" ? chunk : String(chunk));
    callback();
  }

  /** Everything written, raw (ANSI kept). */
  raw(): string {
    return this.chunks.join("");
  }

  /** Everything written, ANSI stripped. */
  text(): string {
    return stripVTControlCharacters(this.raw());
  }
}

export interface FakeStreams {
  stdout: FakeStream;
  stderr: FakeStream;
  options: ReporterOptions;
}

/** stdout + stderr + env for a reporter; both streams share `isTTY`. */
export function fakeStreams(isTTY: boolean, env: Record<string, string | undefined> = {}, extra: Partial<ReporterOptions> = {}): FakeStreams {
  const stdout = new FakeStream({ isTTY });
  const stderr = new FakeStream({ isTTY });
  return { stdout, stderr, options: { stdout, stderr, env: { LANG: "en_US.UTF-8", TERM: "xterm-256color", ...env }, ...extra } };
}

/** Replaces durations ("12ms", "1.23s", "2m 03s", "[  0.012s]") so output can be snapshotted. */
export function normalizeDurations(text: string): string {
  return text
    .replace(/\[\s*\d+\.\d{3}s\]/g, "[T]")
    .replace(/\b\d+h \d{2}m\b/g, "<d>")
    .replace(/\b\d+m \d{2}s\b/g, "<d>")
    .replace(/\b\d+\.\d{2}s\b/g, "<d>")
    .replace(/\b\d+ms\b/g, "<d>");
}

export const ANSI_PATTERN = /\u001b\[[0-9;]*m/;
