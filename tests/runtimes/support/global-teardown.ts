import { rmSync } from 'node:fs';

import { packDir } from './paths';

export default function globalTeardown(): void {
  rmSync(packDir, { recursive: true, force: true });
}
