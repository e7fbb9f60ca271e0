// The `petrel/server` entry point: start a whole Petrel server (API, engine, embedded or external Postgres).
export { type PetrelServer, type StartOptions, startPetrel } from "./app.js";
export { loadConfig, type PetrelConfig } from "./config.js";
export { createLogger, type Logger } from "./logger.js";
