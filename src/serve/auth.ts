import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { AtomitonError, ErrorCode } from "../errors.js";

/** True when `given` is the token, compared in constant time (both hashed first, so lengths do not leak). */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(given).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** A fresh token for a server started without `--token` or `ATOMITON_TOKEN`. */
export function generateToken(): string {
  return randomBytes(24).toString("base64url");
}

/** 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || bare.startsWith("::ffff:127.");
  return false;
}

/**
 * A token must fit in `Authorization: Bearer <token>`: whitespace in it (`--token "a b"`) could
 * never be presented, so it is refused up front (E_USAGE) by the server and by `run --remote`.
 */
export function assertUsableToken(token: string, from: string): void {
  if (!/\s/.test(token)) return;
  throw new AtomitonError(ErrorCode.USAGE, `${from}: a token cannot contain whitespace (it could never pass the Authorization: Bearer header)`, {
    retryable: false,
    hint: "choose a token without spaces, tabs or newlines, e.g. one from `openssl rand -hex 24`",
  });
}

/**
 * The token a server uses: `--token`, else `ATOMITON_TOKEN`, else a generated one (which the caller
 * prints once). A bind address other than loopback needs an explicit token.
 */
export function resolveToken(options: { token?: string | undefined; env: Record<string, string | undefined>; host: string }): { token: string; generated: boolean } {
  const given = options.token ?? options.env.ATOMITON_TOKEN;
  if (given !== undefined && given !== "") {
    assertUsableToken(given, options.token !== undefined ? "--token" : "ATOMITON_TOKEN");
    return { token: given, generated: false };
  }
  if (!isLoopback(options.host)) {
    throw new AtomitonError(ErrorCode.USAGE, `--host ${options.host} is not loopback: give a token with --token or ATOMITON_TOKEN`, {
      retryable: false,
      hint: "anyone who can reach the port could run shell commands through your composites; a generated token is only for loopback",
    });
  }
  return { token: generateToken(), generated: true };
}
