import path from "node:path";
import { describe, expect, it } from "vitest";
import { openStorage } from "../../../src/cli/open-storage.js";
import type { CliIO } from "../../../src/cli/io.js";
import { AtomitonError, ErrorCode } from "../../../src/errors.js";

const cwd = path.resolve("/tmp/atomiton-open-storage-test");
const io = (env: Record<string, string | undefined>): CliIO => ({ stdout: process.stdout, stderr: process.stderr, env, cwd });

describe("openStorage: where the filesystem store goes", () => {
  it("an empty --data-dir is a usage error, never the working directory itself", () => {
    for (const empty of ["", "  "]) {
      let thrown: unknown;
      try {
        openStorage("filesystem", empty, io({}));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AtomitonError);
      expect((thrown as AtomitonError).code).toBe(ErrorCode.USAGE);
      expect((thrown as AtomitonError).message).toBe("--data-dir is empty");
    }
  });

  it("an empty $ATOMITON_DATA_DIR counts as unset: records go to ./.atomiton", () => {
    expect(openStorage("filesystem", undefined, io({ ATOMITON_DATA_DIR: "" })).location).toBe(path.join(cwd, ".atomiton"));
    expect(openStorage("filesystem", undefined, io({ ATOMITON_DATA_DIR: "store" })).location).toBe(path.join(cwd, "store"));
    expect(openStorage("filesystem", "flag", io({ ATOMITON_DATA_DIR: "store" })).location).toBe(path.join(cwd, "flag"));
  });
});
