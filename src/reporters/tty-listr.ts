import type * as Listr2 from "listr2";
import type { Style } from "./style.js";
import { truncate } from "./text.js";
import { RowState, type Row, type TtyModel } from "./tty-model.js";
import { renderRowIcon, renderRowText } from "./tty-rows.js";
import type { ReporterStream } from "./types.js";

export interface TtyView {
  /** Renders the final state and returns the stream to the caller. */
  stop(): Promise<void>;
  /** Draws the current state once and returns the stream, leaving the model as it is (the debugger paused the run). */
  suspend(): Promise<void>;
}

export interface ListrViewOptions {
  /** The `listr2` module, imported lazily by the caller. */
  listr2: typeof Listr2;
  model: TtyModel;
  style: Style;
  stream: ReporterStream;
  /** The terminal's width now (read at every frame, so a resize takes effect). */
  columns: () => number;
}

const INDENT = 2;

/**
 * The live tree for graphs small enough for one listr2 task per node (≤ `COLLAPSE_ABOVE` rows).
 *
 * listr2 is driven from outside: each row is a task whose function waits for the node's final
 * event (a promise the model settles); body rows are subtasks of their container (`newListr`), so
 * they fold under it once it succeeds (`collapseSubtasks`) and stay open when one failed.
 * A `DefaultRenderer` subclass keeps the tree, spinner, log-update and stream hijacking of listr2
 * but takes the icons from our row states (`style`) and cuts lines to *our* stream's width
 * (`format`; listr2 reads `process.stdout.columns`). `static nonTTY = true` stops listr2 from
 * consulting `process.stdout.isTTY` — `detectTerminal` already decided (no `forceTTY`, which
 * assigns `isTTY`). Frames: listr2 redraws on every spinner tick (100 ms, ≤ 10 fps) and on task
 * state changes; we refresh running rows' titles in the spinner tick (`spin()`), assigning
 * `task.title` without an event, so fast logs never cause extra redraws.
 */
export function startListrView(options: ListrViewOptions): TtyView {
  const { listr2, model, style, stream, columns } = options;
  const { Listr, DefaultRenderer, Spinner, ListrLogger, ProcessOutput } = listr2;
  type ListrTaskObject = Listr2.ListrDefaultRendererTask;

  const rowOfDefinition = new WeakMap<object, Row>();
  const taskOfRow = new Map<Row, { title?: string }>();
  const waiting = new Map<Row, () => void>();
  const ellipsis = style.unicode ? "…" : ".";

  const titleOf = (row: Row): string =>
    renderRowText(row, { style, now: model.now(), width: columns() - row.depth * INDENT - 3 }, true);

  const refreshRunning = (): void => {
    for (const row of model.running) {
      const task = taskOfRow.get(row);
      if (task !== undefined) task.title = titleOf(row);
    }
  };

  class FrameSpinner extends Spinner {
    protected override readonly spinner = [...style.spinner];
    override spin(): void {
      super.spin();
      refreshRunning();
    }
  }
  const spinner = new FrameSpinner();

  class AtomitonRenderer extends DefaultRenderer {
    static override nonTTY = true;

    protected override style(task: ListrTaskObject, output = false): string {
      const row = rowOfDefinition.get(task.task);
      if (row === undefined) return super.style(task, output);
      if (output) return style.chalk.dim(style.symbols.pointer);
      return renderRowIcon(row, spinner.fetch(), style);
    }

    protected override format(message: string, icon: string, level: number): string[] {
      if (message.trim() === "") return [];
      const indent = " ".repeat(level * INDENT);
      const width = Math.max(8, columns() - level * INDENT - 3);
      return message
        .trimEnd()
        .split("\n")
        .map((line, i) => `${indent}${i === 0 ? (icon ? `${icon} ` : "") : "  "}${truncate(line, width, ellipsis)}`);
    }
  }

  let suspended = false;
  const settled = (row: Row): Promise<void> =>
    row.final || suspended ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(row, resolve));

  model.onSettle = (row) => {
    const task = taskOfRow.get(row);
    if (task !== undefined) task.title = titleOf(row);
    const resolve = waiting.get(row);
    waiting.delete(row);
    resolve?.();
  };

  type Definition = Listr2.ListrTask<unknown, typeof AtomitonRenderer>;
  const definitionOf = (row: Row): Definition => {
    const definition: Definition = {
      title: titleOf(row),
      task: async (_ctx, wrapper) => {
        taskOfRow.set(row, wrapper.task);
        wrapper.task.title = titleOf(row);
        if (row.children.length > 0) {
          return wrapper.newListr(row.children.map(definitionOf), { concurrent: true, exitOnError: false });
        }
        await settled(row);
        if (row.state === RowState.failed) throw new Error(row.error?.message ?? "failed");
        if (row.state === RowState.skipped || row.state === RowState.cancelled) wrapper.skip();
        return undefined;
      },
    };
    rowOfDefinition.set(definition, row);
    return definition;
  };

  const processOutput = new ProcessOutput(stream as NodeJS.WriteStream, stream as NodeJS.WriteStream, {
    leaveEmptyLine: false,
  });
  const listr = new Listr<unknown, typeof AtomitonRenderer>(model.roots.map(definitionOf), {
    concurrent: true,
    exitOnError: false,
    // The CLI owns SIGINT (abort, save the record, exit 130); listr2's handler would exit(127).
    registerSignalListeners: false,
    renderer: AtomitonRenderer,
    rendererOptions: {
      logger: new ListrLogger({ processOutput, useIcons: true, toStderr: [] }),
      spinner,
      collapseSubtasks: true,
      collapseErrors: true,
      showErrorMessage: false,
      collapseSkips: true,
      showSkipMessage: false,
      suffixSkips: false,
      suffixRetries: false,
      formatOutput: "truncate",
      removeEmptyLines: true,
      lazy: false,
    },
    fallbackRendererCondition: false,
    silentRendererCondition: false,
  });
  const done = listr.run().then(
    () => undefined,
    () => undefined,
  );

  return {
    stop: async () => {
      model.finishAll(false);
      await done;
    },
    suspend: async () => {
      // Every task ends now (rows keep their state and icons); a new view takes over on resume.
      suspended = true;
      for (const resolve of waiting.values()) resolve();
      waiting.clear();
      await done;
    },
  };
}
