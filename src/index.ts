export { loadConfig, parseConfig, type LoadedConfig } from './config/load.js';
export { configSchema, type Config, type HostConfig } from './config/schema.js';
export {
  DeployError,
  ERRORS,
  type ConfigProblem,
  type ErrorCode,
  type ErrorDetails,
  type ShownError,
} from './definitions/errors.js';
export { EXIT } from './definitions/exit-codes.js';
export { deploy, type DeployOptions, type DeployResult } from './engine/deploy.js';
export { MemoryReporter, type Reporter } from './engine/reporter.js';
export { sh, quote } from './remote/sh.js';
export { main } from './cli.js';
