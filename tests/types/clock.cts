// CommonJS consumer of @staunch/core/testing (exports map "require" condition).
import testing = require('@staunch/core/testing');
import core = require('@staunch/core');

const clock: core.Clock = new testing.VirtualClock();
const restore: () => void = core.setDefaultClock(clock);
restore();

// @ts-expect-error the testing entry exports VirtualClock, not a systemClock
testing.systemClock;
