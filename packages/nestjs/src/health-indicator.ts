import { Inject, Injectable } from '@nestjs/common';
import { StaunchDiscovery } from './policy-discovery.js';

/** One circuit in a {@link CircuitsHealth} report. */
export interface CircuitHealth {
  /** `'PaymentsService.charge'`. */
  readonly method: string;
  /** The circuit's own name. */
  readonly name: string;
  readonly state: 'open' | 'half-open';
  /** Held open by `isolate()` until released. */
  readonly isolated: boolean;
}

/** The health of the app's circuits: `down` while one is open. The shape `@nestjs/terminus` expects. */
export type CircuitsHealth<Key extends string = string> = Record<
  Key,
  { readonly status: 'up' | 'down'; readonly circuits: number; readonly open: readonly CircuitHealth[] }
>;

/**
 * A health indicator for `@nestjs/terminus`: `down` while a circuit of the app is open (isolated
 * included), listing the circuits not closed; `up` otherwise (a half-open circuit is listed, and
 * up: it is trying). Reads the circuits {@link StaunchDiscovery.circuits} reaches. Needs nothing
 * from terminus itself: it returns terminus's result shape. Provided by `StaunchModule`.
 *
 * @example
 * import { Controller, Get } from '@nestjs/common';
 * import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
 * import { StaunchHealthIndicator } from '@staunch/nestjs';
 *
 * @Controller('health')
 * export class HealthController {
 *   constructor(
 *     private readonly health: HealthCheckService,
 *     private readonly circuits: StaunchHealthIndicator,
 *   ) {}
 *
 *   @Get()
 *   @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.circuits.check('circuits')]);
 *   }
 * }
 */
export class StaunchHealthIndicator {
  readonly #discovery: StaunchDiscovery;

  constructor(discovery: StaunchDiscovery) {
    this.#discovery = discovery;
  }

  /** The report under `key`: `down` while any circuit is open. */
  check<Key extends string = 'circuits'>(key: Key = 'circuits' as Key): CircuitsHealth<Key> {
    const circuits = this.#discovery.circuits();
    const open: CircuitHealth[] = [];
    let down = false;
    for (const { method, circuit } of circuits) {
      const state = circuit.state;
      if (state === 'closed') continue;
      if (state === 'open') down = true;
      open.push({ method, name: circuit.name, state, isolated: circuit.isolated });
    }
    const report: CircuitsHealth[string] = { status: down ? 'down' : 'up', circuits: circuits.length, open };
    // A computed key types as a string index; it is exactly `key`.
    return { [key]: report } as Record<string, typeof report> as CircuitsHealth<Key>;
  }
}
Injectable()(StaunchHealthIndicator);
Inject(StaunchDiscovery)(StaunchHealthIndicator, undefined, 0);
