import type { WebSocket as WsSocket } from "ws";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { RpcErrorData } from "./json-rpc.js";

/** A JSON-RPC error answered by the server. */
export class RemoteError extends AtomitonError {
  override name = "RemoteError";
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly data: RpcErrorData | undefined,
  ) {
    super(typeof data?.code === "string" ? data.code : ErrorCode.INTERNAL, message, { retryable: false, ...(typeof data?.hint === "string" ? { hint: data.hint } : {}), ...(data ? { details: data } : {}) });
  }
}

export interface RpcClientOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Called for every notification (`run.event`…). */
  onNotification?: (method: string, params: unknown) => void;
  /** Milliseconds to wait for the connection. Default 10 000. */
  connectTimeoutMs?: number;
}

export interface RpcClient {
  request<T = unknown>(method: string, params?: object): Promise<T>;
  /** Resolves with the close code and reason once the socket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(code?: number): void;
}

/**
 * A small client of `atomiton serve` over WebSocket (the CLI's `run --remote` uses it). Requests get
 * ids and promises; pending requests reject when the socket closes.
 */
export async function connectRpc(url: string, options: RpcClientOptions = {}): Promise<RpcClient> {
  const { WebSocket } = await import("ws");
  const ws: WsSocket = new WebSocket(url, {
    perMessageDeflate: false,
    handshakeTimeout: options.connectTimeoutMs ?? 10_000,
    ...(options.token ? { headers: { Authorization: `Bearer ${options.token}` } } : {}),
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let closeError: AtomitonError | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => {
      closeError = closedError(url, code, reason.toString());
      for (const p of pending.values()) p.reject(closeError);
      pending.clear();
      resolve({ code, reason: reason.toString() });
    });
  });
  ws.on("message", (data) => {
    let message: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { code: number; message: string; data?: RpcErrorData } };
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    if (message.method !== undefined && message.id === undefined) {
      options.onNotification?.(message.method, message.params);
      return;
    }
    const waiter = typeof message.id === "number" ? pending.get(message.id) : undefined;
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.reject(new RemoteError(message.error.code, message.error.message, message.error.data));
    else waiter.resolve(message.result);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new AtomitonError("E_CONNECTION", `cannot connect to ${url}: ${error.code ?? error.message}`, {
          retryable: true,
          hint: "is `atomiton serve` running there? check the host, the port and that the URL starts with ws://",
        }),
      );
    });
  });
  ws.on("error", () => undefined); // the close handler reports it
  return {
    request<T>(method: string, params: object = {}): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        // Closing already: answer with why, once the close handshake says it.
        if (ws.readyState !== ws.OPEN) return void closed.then(() => reject(closeError));
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      });
    },
    closed,
    close: (code = 1000) => ws.close(code),
  };
}

/** Why the server closed the socket, in words (SPEC §9 close codes). */
function closedError(url: string, code: number, reason: string): AtomitonError {
  const known: Record<number, [string, string]> = {
    4401: ["E_AUTH", "give the server's token with --token or ATOMITON_TOKEN (it printed it on its stderr at start)"],
    4403: ["E_AUTH", "the server refuses this Origin: start it with --allow-origin"],
    4408: ["E_CONNECTION", "the client read too slowly; resume with events.subscribe fromSeq"],
    1001: ["E_CONNECTION", "the server is shutting down"],
    1009: ["E_CONNECTION", "a message was over the 1 MiB limit"],
  };
  const [errorCode, hint] = known[code] ?? ["E_CONNECTION", "check that the server is still running"];
  return new AtomitonError(errorCode, `${url} closed the connection (${code}${reason ? ` ${reason}` : ""})`, { retryable: errorCode !== "E_AUTH", hint });
}
