import { z } from "zod";
import { DebugPausedNotification } from "./debug-protocol.js";
import { CloseCode, EventsEndNotification, EventsErrorNotification, METHODS, PROTOCOL_VERSION, RpcErrorCode, RpcErrorSchema, RunEventNotification } from "./protocol.js";

const toJson = (schema: z.ZodType, io: "input" | "output") => z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" });

/**
 * The JSON Schemas of the run protocol (SPEC §9), generated from the zod schemas in protocol.ts —
 * never written by hand. `schema/protocol.json` is this output; `atomiton schema --protocol` prints it.
 */
export function createProtocolJsonSchema(): Record<string, unknown> {
  const methods: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(METHODS)) {
    methods[name] = { description: m.description, params: toJson(m.params, "input"), result: toJson(m.result, "output") };
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "atomiton run protocol",
    description: "JSON-RPC 2.0 over WebSocket (one message per text frame) or stdio (one per line). See docs/protocol.md.",
    protocol: PROTOCOL_VERSION,
    methods,
    notifications: { "run.event": toJson(RunEventNotification, "output"), "debug.paused": toJson(DebugPausedNotification, "output"), "events.error": toJson(EventsErrorNotification, "output"), "events.end": toJson(EventsEndNotification, "output") },
    error: toJson(RpcErrorSchema, "output"),
    errorCodes: RpcErrorCode,
    closeCodes: CloseCode,
  };
}

/** The text of `schema/protocol.json`. */
export function renderProtocolJsonSchema(): string {
  return `${JSON.stringify(createProtocolJsonSchema(), null, 2)}\n`;
}
