import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebSocket } from "ws";
import { bearerToken, tokenMatches } from "./auth.js";
import { frameBatch, type FrameBatch } from "./frame-batch.js";
import type { RunServer } from "./create-run-server.js";
import { parseRpcMessage, renderError, renderResult, RpcError } from "./json-rpc.js";
import { CloseCode, MAX_MESSAGE_BYTES, RpcErrorCode } from "./protocol.js";

export interface WsListenOptions {
  server: RunServer;
  host: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
  /** Origins a browser page may connect from (`--allow-origin`); any other `Origin` → 4403. */
  allowOrigins?: readonly string[];
  /** Time a client without the Authorization header has to send `auth`. Default 2 000 ms. */
  authTimeoutMs?: number;
  /** Largest frame read; bigger → 1009. Default 1 MiB. */
  maxPayload?: number;
  /** One line per connection event, for the server's log (stderr). */
  log?: (line: string) => void;
}

export interface WsListener {
  readonly port: number;
  readonly host: string;
  /** `ws://host:port/` */
  readonly url: string;
  /** Stops accepting and closes every socket with `code` (1001 at shutdown). */
  close(code?: number, reason?: string): Promise<void>;
}

/**
 * `atomiton serve` over WebSocket (`ws`): path `/`, one JSON-RPC message per text frame. A client
 * authenticates with `Authorization: Bearer <token>` on the upgrade or with an `auth` request as its
 * first message within 2 s (4401 otherwise); an `Origin` not in `allowOrigins` is closed with 4403;
 * a frame over 1 MiB with 1009 (ws's `maxPayload`).
 */
export async function listenWebSocket(options: WsListenOptions): Promise<WsListener> {
  const { WebSocketServer } = await import("ws");
  const log = options.log ?? (() => undefined);
  const allowOrigins = new Set(options.allowOrigins ?? []);
  const authTimeoutMs = options.authTimeoutMs ?? 2_000;
  const http = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain; charset=utf-8", upgrade: "websocket" });
    res.end("atomiton serve speaks JSON-RPC 2.0 over WebSocket on path /; see docs/protocol.md\n");
  });
  const wss = new WebSocketServer({ server: http, path: "/", maxPayload: options.maxPayload ?? MAX_MESSAGE_BYTES, perMessageDeflate: false });

  // ws re-emits the HTTP server's errors (a port in use at listen) on itself: without a listener
  // that is an uncaught 'error' event. Listening failures reach the caller through `listen` below
  // (and are its error to tell: logged here too, they were said twice); later ones are logged.
  let listening = false;
  wss.on("error", (error: Error) => {
    if (listening) log(`server: ${error.message}`);
  });
  const batches = new WeakMap<WebSocket, FrameBatch>();
  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    ws.on("error", (error) => log(`${peer}: ${error.message}`));
    const origin = req.headers.origin;
    if (origin !== undefined && !allowOrigins.has(origin)) {
      log(`${peer}: refused origin ${origin} (4403)`);
      ws.close(CloseCode.forbiddenOrigin, "origin not allowed (start the server with --allow-origin)");
      return;
    }
    let authed = false;
    const header = req.headers.authorization;
    if (header !== undefined) {
      if (!tokenMatches(options.token, bearerToken(header))) {
        log(`${peer}: wrong token in the Authorization header (4401)`);
        ws.close(CloseCode.unauthorized, "unauthorized");
        return;
      }
      authed = true;
    }
    const batch = frameBatch(ws);
    batches.set(ws, batch);
    // Every close goes out after the messages sent before it.
    const closeWs = (code: number, reason: string): void => {
      if (code === CloseCode.slowClient) log(`${peer}: closing (4408): ${reason}`);
      batch.flush();
      ws.close(code, reason);
    };
    const client = options.server.connect({
      send: (text) => {
        if (ws.readyState === ws.OPEN) batch.send(text);
      },
      sendRunEvent: (runId, seq, event) => {
        if (ws.readyState === ws.OPEN) batch.sendRunEvent(runId, seq, event);
      },
      bufferedAmount: () => ws.bufferedAmount + batch.pending(),
      close: closeWs,
    });
    const timer = authed
      ? undefined
      : setTimeout(() => {
          log(`${peer}: no auth message within ${authTimeoutMs} ms (4401)`);
          closeWs(CloseCode.unauthorized, "no auth message in time");
        }, authTimeoutMs);
    ws.on("close", (code) => {
      clearTimeout(timer);
      client.connection.closedByPeer();
      log(`${peer}: closed (${code})`);
    });
    ws.on("message", (data, isBinary) => {
      if (authed && isBinary) {
        client.connection.send(renderError(null, new RpcError(RpcErrorCode.invalidRequest, "invalid request: send text frames (JSON), not binary")));
        return;
      }
      const text = Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.concat(data as Buffer[]).toString("utf8");
      if (authed) {
        void client.receive(text);
        return;
      }
      // The first message must be a text `auth` with the right token; anything else (a binary frame
      // included) closes the socket, unanswered.
      const parsed = isBinary ? undefined : parseRpcMessage(text);
      const params = parsed?.ok ? (parsed.request.params as { token?: unknown }) : undefined;
      if (!parsed?.ok || parsed.request.method !== "auth" || !tokenMatches(options.token, params?.token)) {
        log(`${peer}: first message was not a valid auth (4401)`);
        closeWs(CloseCode.unauthorized, "unauthorized");
        return;
      }
      authed = true;
      clearTimeout(timer);
      if (parsed.request.id !== undefined) client.connection.send(renderResult(parsed.request.id, { ok: true }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, () => {
      http.off("error", reject);
      listening = true;
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    port: address.port,
    host: address.address,
    url: `ws://${hostForUrl}:${address.port}/`,
    close: (code = CloseCode.goingAway, reason = "server shutting down") =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        for (const ws of wss.clients) {
          batches.get(ws)?.flush();
          ws.close(code, reason);
        }
        wss.close();
        // Sockets that do not answer the close handshake are cut after a moment.
        const cut = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          http.closeAllConnections();
        }, 1_000);
        cut.unref();
      }),
  };
}
