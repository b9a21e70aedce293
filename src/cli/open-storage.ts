import path from "node:path";
import { AtomitonError, ErrorCode } from "../errors.js";
import { createStorage } from "../storage/create-storage.js";
import type { Storage } from "../storage/types.js";
import type { CliIO } from "./io.js";

/** The CLI's store: the filesystem at --data-dir, $ATOMITON_DATA_DIR or ./.atomiton; or memory. */
export function openStorage(type: string, dataDir: string | undefined, io: CliIO): Storage {
  if (type === "memory") return createStorage({ type: "memory" });
  if (type !== "filesystem") {
    throw new AtomitonError(ErrorCode.USAGE, `unknown --storage "${type}"`, { retryable: false, hint: "use filesystem or memory" });
  }
  const dir = path.resolve(io.cwd, dataDir ?? io.env.ATOMITON_DATA_DIR ?? ".atomiton");
  return createStorage({ type: "filesystem", dir });
}
