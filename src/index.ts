/** atomiton's public API: every pipeline stage is usable without the CLI. */
export { loadComposite, loadCompositeFromText } from "./composite/load-composite.js";
export type { LoadOptions, LoadResult, ParameterOverride } from "./composite/load-composite.js";
export type { Composite, CompositeNode, CompositeEdge, CompositeBody, RetryPolicy, VariableSpec, SourceLocation } from "./composite/model.js";
export type { Problem, Severity } from "./composite/problem.js";
export { renderCodeFrame } from "./composite/code-frame.js";
export { parseDuration } from "./js/duration.js";

export { createConductor, createRunId, DEFAULT_CONCURRENCY } from "./conductor/create-conductor.js";
export type { Conductor, ConductorOptions, ExecuteOptions, RunResult } from "./conductor/create-conductor.js";
export type { NodeOutcome } from "./conductor/run-graph.js";
export type { RunRecord, NodeRecord } from "./conductor/run-recorder.js";
export type { ResumeSource } from "./conductor/run-state.js";
export { DebugSession, Pause } from "./conductor/debug-session.js";
export type { DebugSessionOptions, PauseDecision, PauseReason, PauseTarget } from "./conductor/debug-session.js";

export { createEventBus } from "./events/create-event-bus.js";
export type { EventBus, EventBusOptions, RequestOptions } from "./events/create-event-bus.js";
export { NodeStatus, RunStatus, LogLevel, RUN_EVENT_NAMES } from "./events/event-map.js";
export type { RunEvent, RunEventMap, RunEventName, RunStartEvent, NodeStartEvent, NodeFinishEvent, NodeLogEvent, NodeProgressEvent, NodeRetryEvent, RunFinishEvent } from "./events/event-map.js";

export { createStorage } from "./storage/create-storage.js";
export type { Storage, StorageOptions } from "./storage/types.js";

export { defineNode } from "./nodes/define-node.js";
export type { NodeDefinition, NodeDefinitionInput, NodeContext, PortSpec, AnyNodeDefinition, BodyScope, BodyInfo } from "./nodes/define-node.js";
export { createCatalog, createBuiltinCatalog } from "./nodes/catalog.js";
export type { Catalog, CatalogEntry } from "./nodes/catalog.js";
export { builtinNodes } from "./nodes/builtin/index.js";

export { createReporter, REPORTER_NAMES } from "./reporters/create-reporter.js";
export type { Reporter, ReporterOptions, ReporterStreams } from "./reporters/types.js";
export { detectTerminal } from "./reporters/detect-terminal.js";

export { AtomitonError, NonRetryableError, TimeoutError, CancelledError, ErrorCode, toNodeError, toSerializedError } from "./errors.js";
export type { SerializedError } from "./errors.js";

export { createRunServer } from "./serve/create-run-server.js";
export type { RunServer, RunServerOptions, ClientHandle } from "./serve/create-run-server.js";
export { listenWebSocket } from "./serve/ws-server.js";
export type { WsListenOptions, WsListener } from "./serve/ws-server.js";
export { serveStdio } from "./serve/stdio-server.js";
export { connectRpc } from "./serve/client.js";
export type { RpcClient, RpcClientOptions } from "./serve/client.js";
export type { Transport, ConnectionOptions } from "./serve/connection.js";
export type { EventParts } from "./serve/event-json.js";
export { METHODS, PROTOCOL_VERSION, RpcErrorCode, CloseCode } from "./serve/protocol.js";
