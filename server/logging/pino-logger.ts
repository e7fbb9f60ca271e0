// The Logger over pino: one JSON object per line ({level, time, msg, ...fields}), errors serialized with their type,
// message and stack. Context travels as fields: rpc lines name their requestId, engine lines their executionId (no
// AsyncLocalStorage: its promise hooks cost every rpc and evaluation 5-10% of their CPU).
import { type DestinationStream, type LevelWithSilent, pino } from "pino";
import type { LogLevel } from "../config.js";
import type { Logger } from "../logger.js";
import { writeStderrLine } from "./stderr-lines.js";

/** Error values anywhere at the top level of a line's fields become {type, message, stack, code?, cause?}. */
function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      out ??= { ...fields };
      out[k] = pino.stdSerializers.err(v);
    }
  }
  return out ?? fields;
}

export function createPinoLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const destination: DestinationStream = { write: write ?? writeStderrLine };
  const log = pino(
    {
      level: level satisfies LevelWithSilent,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: "msg",
      formatters: {
        level: (label) => ({ level: label }),
        log: serializeErrors,
      },
    },
    destination,
  );
  return {
    debug: (msg, fields) => (fields === undefined ? log.debug(msg) : log.debug(fields, msg)),
    info: (msg, fields) => (fields === undefined ? log.info(msg) : log.info(fields, msg)),
    warn: (msg, fields) => (fields === undefined ? log.warn(msg) : log.warn(fields, msg)),
    error: (msg, fields) => (fields === undefined ? log.error(msg) : log.error(fields, msg)),
  };
}
