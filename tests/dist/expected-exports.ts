/**
 * Names each entry point of the BUILT packages must export (checked from CJS and ESM, on
 * every Node version). Add a name here when its export lands. `@staunch/decorators` must
 * also re-export everything `@staunch/core` exports; that is checked without a list.
 */
export const expectedExports: Readonly<Record<string, readonly string[]>> = {
  '@staunch/core': [
    'StaunchError',
    'TimeoutError',
    'PollTimeoutError',
    'AttemptTimeoutError',
    'DeadlineExceededError',
    'CallTimeoutError',
    'CircuitOpenError',
    'isStaunchError',
    'isTimeoutError',
    'isPollTimeoutError',
    'isAttemptTimeoutError',
    'isDeadlineExceededError',
    'isCallTimeoutError',
    'isCircuitOpenError',
    'systemClock',
    'getDefaultClock',
    'setDefaultClock',
    'Events',
    'retry',
    'poll',
    'asyncBackoff',
    'asyncRetry',
    'timeout',
    'timeoutPolicy',
    'TimeoutPolicy',
    'circuitBreaker',
    'isCircuitStoreProvider',
    'attemptSignal',
  ],
  '@staunch/core/testing': ['VirtualClock', 'seededRandom'],
  '@staunch/decorators': [
    'Retry',
    'Poll',
    'CircuitBreaker',
    'AsyncBackoff',
    'AsyncRetry',
    'Timeout',
    'policiesOf',
    'circuitOf',
  ],
  '@staunch/redis': ['redisStore', 'redisCircuitKeys', 'redisStoreDefaults'],
};
