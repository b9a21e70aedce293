import { hostname } from "node:os";
import { AtomitonError, ErrorCode } from "../errors.js";
import { isSameProcess, ownStartMark } from "../storage/process-alive.js";
import type { Storage } from "../storage/types.js";

interface Claim {
  pid: number;
  pidStart?: string;
  host: string;
}

function parseClaim(text: string | undefined): Claim | undefined {
  try {
    const value = JSON.parse(text ?? "") as Partial<Claim>;
    return typeof value.pid === "number" && typeof value.host === "string" ? { pid: value.pid, host: value.host, ...(typeof value.pidStart === "string" ? { pidStart: value.pidStart } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Claim the resume of `runId` for this process (`runs/<runId>.resuming`, created exclusively): two
 * `run --resume` of one run at once both ran the nodes it had left (a deploy step twice). A claim
 * whose process is gone (killed, or on another host, which cannot be checked) is taken over. Resolves
 * the release, which removes the claim if it is still this process's.
 */
export async function claimResume(storage: Storage, runId: string): Promise<() => Promise<void>> {
  const key = `runs/${runId}.resuming`;
  const pidStart = ownStartMark();
  const text = JSON.stringify({ pid: process.pid, ...(pidStart === undefined ? {} : { pidStart }), host: hostname() } satisfies Claim);
  if (!(await storage.createText(key, text))) {
    const holder = parseClaim(await storage.loadText(key).catch(() => undefined));
    if (holder && holder.host === hostname() && holder.pid !== process.pid && isSameProcess(holder.pid, holder.pidStart)) {
      throw new AtomitonError(ErrorCode.USAGE, `--resume ${runId}: run ${runId} is being resumed already (pid ${holder.pid})`, { retryable: false, hint: "wait for that resume to end; then resume the run it made, or this one again" });
    }
    await storage.saveText(key, text);
  }
  return async () => {
    if ((await storage.loadText(key).catch(() => undefined)) === text) await storage.delete(key).catch(() => undefined);
  };
}
