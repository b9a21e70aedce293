import { ErrorCode } from "../errors.js";
import { makeProblem, type Problem } from "./problem.js";

/** The stable code of a file that is not UTF-8 text. */
export const ENCODING_CODE = ErrorCode.ENCODING;

export type DecodeResult =
  | { ok: true; text: string }
  /** `text`: a lossy decoding for a code frame, absent for a binary file. */
  | { ok: false; problem: Problem; text?: string };

/** How messages name the file: `files` (plural), `text` (what it should be), `binaryHint` (what to give instead). */
export interface FileKind {
  files: string;
  text: string;
  binaryHint: string;
}
const COMPOSITE: FileKind = { files: "composites", text: "a YAML composite", binaryHint: "point atomiton at a .yaml composite (text in UTF-8)" };

/**
 * A composite file's bytes as text: UTF-8, with a leading byte order mark dropped. A binary file
 * (a NUL byte, a UTF-16 byte order mark) or bytes that are not UTF-8 (a Latin-1 `é`) give one
 * `E_ENCODING` problem at the first offending byte instead of a run on replacement characters.
 * `what` names the kind of file in messages (default: composites).
 *
 * @example
 * decodeSource(Buffer.from("\uFEFFname: x\n"), "a.yaml"); // { ok: true, text: "name: x\n" }
 */
export function decodeSource(bytes: Uint8Array, file?: string, what: FileKind = COMPOSITE): DecodeResult {
  const where = file === undefined ? {} : { file };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    const problem = makeProblem(ENCODING_CODE, `the file is UTF-16 text; ${what.files} are read as UTF-8`, { ...where, line: 1, col: 1 }, { hint: "save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 in.yaml > out.yaml`)" });
    return { ok: false, problem };
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bytes.subarray(start);
  const nul = body.indexOf(0);
  if (nul !== -1) {
    const { line, col } = position(body, nul);
    const problem = makeProblem(ENCODING_CODE, `this is a binary file, not ${what.text} (a NUL byte at line ${line}, column ${col})`, { ...where, line, col }, { hint: what.binaryHint });
    return { ok: false, problem };
  }
  try {
    // Native and fast; the byte scan below only runs to locate a problem.
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body) };
  } catch {
    // fall through
  }
  const bad = Math.max(0, firstInvalidUtf8(body));
  // For the code frame: each byte that is not UTF-8 shows as "?" (a terminal may not draw U+FFFD).
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8").replace(/\uFFFD/g, "?");
  const { line, col } = position(body, bad);
  const byte = body[bad]!.toString(16).toUpperCase().padStart(2, "0");
  const problem = makeProblem(ENCODING_CODE, `the file is not UTF-8 text: byte 0x${byte} at line ${line}, column ${col} is not valid UTF-8`, { ...where, line, col }, {
    hint: "save it as UTF-8; from Latin-1: `iconv -f latin1 -t utf-8 in.yaml > out.yaml`",
  });
  return { ok: false, problem, text };
}

/** 1-based line and column (in characters) of a byte offset. */
function position(bytes: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // Count characters, not bytes: continuation bytes (10xxxxxx) do not start one.
  let col = 1;
  for (let i = lineStart; i < offset; i++) if ((bytes[i]! & 0xc0) !== 0x80) col++;
  return { line, col };
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}
