export { VirtualClock } from './virtual-clock.js';
export { seededRandom } from '../random.js';
