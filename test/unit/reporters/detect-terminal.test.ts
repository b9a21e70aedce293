import { describe, expect, test } from "vitest";
import { detectTerminal, isCI } from "../../../src/reporters/detect-terminal.js";

const UTF8 = { LANG: "en_US.UTF-8", TERM: "xterm" };

describe("detectTerminal", () => {
  test.each([
    { name: "TTY", isTTY: true, env: UTF8, interactive: true, color: true },
    { name: "pipe", isTTY: false, env: UTF8, interactive: false, color: false },
    { name: "TTY in CI", isTTY: true, env: { ...UTF8, CI: "true" }, interactive: false, color: true },
    { name: "TTY with CI=false", isTTY: true, env: { ...UTF8, CI: "false" }, interactive: true, color: true },
    { name: "TTY with CI=0", isTTY: true, env: { ...UTF8, CI: "0" }, interactive: true, color: true },
    { name: "TTY with TERM=dumb", isTTY: true, env: { ...UTF8, TERM: "dumb" }, interactive: false, color: false },
    { name: "TTY with NO_COLOR", isTTY: true, env: { ...UTF8, NO_COLOR: "1" }, interactive: true, color: false },
    { name: "TTY with empty NO_COLOR", isTTY: true, env: { ...UTF8, NO_COLOR: "" }, interactive: true, color: true },
    { name: "pipe with FORCE_COLOR", isTTY: false, env: { ...UTF8, FORCE_COLOR: "1" }, interactive: false, color: true },
    { name: "pipe with empty FORCE_COLOR", isTTY: false, env: { ...UTF8, FORCE_COLOR: "" }, interactive: false, color: true },
    { name: "TTY with FORCE_COLOR=0", isTTY: true, env: { ...UTF8, FORCE_COLOR: "0" }, interactive: true, color: false },
    { name: "TTY with FORCE_COLOR=false", isTTY: true, env: { ...UTF8, FORCE_COLOR: "false" }, interactive: true, color: false },
    { name: "NO_COLOR beats FORCE_COLOR", isTTY: false, env: { ...UTF8, NO_COLOR: "1", FORCE_COLOR: "1" }, interactive: false, color: false },
  ])("$name → interactive $interactive, color $color", ({ isTTY, env, interactive, color }) => {
    const info = detectTerminal({ stream: { isTTY, columns: 120 }, env, platform: "linux" });
    expect({ interactive: info.interactive, color: info.color }).toEqual({ interactive, color });
    expect(info.colorLevel > 0).toBe(color);
  });

  test.each([
    { env: { FORCE_COLOR: "3" }, isTTY: false, level: 3 },
    { env: { FORCE_COLOR: "2" }, isTTY: false, level: 2 },
    { env: { FORCE_COLOR: "true" }, isTTY: false, level: 1 },
    { env: { TERM: "xterm-256color" }, isTTY: true, level: 2 },
    { env: { COLORTERM: "truecolor", TERM: "xterm" }, isTTY: true, level: 3 },
    { env: { TERM: "xterm" }, isTTY: true, level: 1 },
  ])("colour level $level for $env (TTY $isTTY)", ({ env, isTTY, level }) => {
    expect(detectTerminal({ stream: { isTTY }, env, platform: "linux" }).colorLevel).toBe(level);
  });

  test.each([
    { platform: "linux", env: { LANG: "en_US.UTF-8" }, unicode: true },
    { platform: "linux", env: {}, unicode: true },
    { platform: "linux", env: { LANG: "C" }, unicode: false },
    { platform: "linux", env: { LANG: "en_US.UTF-8", LC_ALL: "POSIX" }, unicode: false },
    { platform: "linux", env: { LC_CTYPE: "de_DE.utf8" }, unicode: true },
    { platform: "linux", env: { LANG: "en_US.UTF-8", TERM: "linux" }, unicode: false },
    { platform: "darwin", env: { LANG: "en_US.UTF-8", TERM: "dumb" }, unicode: false },
    { platform: "win32", env: {}, unicode: false },
    { platform: "win32", env: { WT_SESSION: "1" }, unicode: true },
    { platform: "win32", env: { TERM_PROGRAM: "vscode" }, unicode: true },
  ] as const)("unicode $unicode on $platform with $env", ({ platform, env, unicode }) => {
    expect(detectTerminal({ stream: { isTTY: true }, env, platform }).unicode).toBe(unicode);
  });

  test.each([
    { stream: { columns: 132 }, env: {}, columns: 132 },
    { stream: {}, env: { COLUMNS: "90" }, columns: 90 },
    { stream: {}, env: { COLUMNS: "wide" }, columns: 80 },
    { stream: { columns: 0 }, env: {}, columns: 80 },
  ])("columns $columns from $stream and $env", ({ stream, env, columns }) => {
    expect(detectTerminal({ stream, env }).columns).toBe(columns);
  });

  test.each([
    [undefined, false],
    ["", false],
    ["false", false],
    ["0", false],
    ["true", true],
    ["1", true],
    ["woodpecker", true],
  ])("isCI with CI=%j → %s", (value, expected) => {
    expect(isCI({ CI: value })).toBe(expected);
  });
});
