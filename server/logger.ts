// The leveled logger every component takes: structured JSON lines on stderr (pino; see logging/pino-logger.ts).
import type { LogLevel } from "./config.js";
import { createPinoLogger } from "./logging/pino-logger.js";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  return createPinoLogger(level, write);
}
