// The registry under `experimentalDecorators` (jest project `legacy`): the class is known at decoration.
import 'reflect-metadata';
import { CircuitBreaker, Retry, livePolicies } from '@staunch/decorators';

describe('livePolicies (legacy decorators)', () => {
  it('lists decorated policies with their class before any instance exists', () => {
    class Ledger {
      @Retry()
      @CircuitBreaker({ scope: 'instance' })
      async post(): Promise<void> {}

      @Retry()
      static async close(): Promise<void> {}
    }
    const rows = livePolicies().filter((row) => row.class === 'Ledger');
    expect(rows.map((row) => `${row.kind} ${row.method ?? ''} ${row.scope} ${row.count}`).sort()).toEqual([
      'circuitBreaker post instance 0',
      'retry close class 1',
      'retry post class 1',
    ]);
    expect(Ledger).toBeDefined();
  });
});
