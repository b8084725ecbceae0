export { StaunchModule } from './staunch.module.js';
export { STAUNCH_MODULE_OPTIONS, type StaunchModuleOptions, type StaunchModuleAsyncOptions } from './module-options.js';
export { StaunchExceptionFilter, httpAnswerOf, RATE_LIMITED_CODE, type StaunchHttpAnswer } from './exception-filter.js';
export { StaunchHealthIndicator, type CircuitHealth, type CircuitsHealth } from './health-indicator.js';
export { StaunchDiscovery, type DiscoveredMethod, type DiscoveredCircuit } from './policy-discovery.js';
export { moduleCircuitStore } from './module-circuit-store.js';
