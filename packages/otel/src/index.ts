export { instrument, meterName, type InstrumentOptions, type Instrumentation } from './instrument.js';
export { durationBuckets, metricNames } from './metrics.js';
export { attributeNames } from './attributes.js';
