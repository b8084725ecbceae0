export { systemClock, getDefaultClock, setDefaultClock, type Clock, type TimerHandle } from './clock.js';
export {
  StaunchError,
  TimeoutError,
  PollTimeoutError,
  AttemptTimeoutError,
  DeadlineExceededError,
  CircuitOpenError,
  isStaunchError,
  isTimeoutError,
  isPollTimeoutError,
  isAttemptTimeoutError,
  isDeadlineExceededError,
  isCircuitOpenError,
} from './errors.js';
export { type ErrorClass, type ErrorFilter } from './error-filter.js';
export { Events, type Listener, type Unsubscribe } from './events.js';
export { type RandomSource } from './random.js';
