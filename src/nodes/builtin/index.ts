import type { AnyNodeDefinition } from "../define-node.js";
import code from "./code.js";
import condition from "./condition.js";
import delay from "./delay.js";
import editFields from "./edit-fields.js";
import fileSystem from "./file-system.js";
import group from "./group.js";
import httpRequest from "./http-request.js";
import image from "./image.js";
import llm from "./llm.js";
import log from "./log.js";
import loop from "./loop.js";
import parallel from "./parallel.js";
import shellCommand from "./shell-command.js";
import spreadsheet from "./spreadsheet.js";
import sql from "./sql.js";
import transform from "./transform.js";

/** Every built-in node type. Modules load heavy libraries lazily inside `execute`. */
export const builtinNodes: readonly AnyNodeDefinition[] = [
  code, condition, delay, editFields, fileSystem, group, httpRequest, image, llm, log, loop, parallel, shellCommand, spreadsheet, sql, transform,
];
