// An Angular service whose methods carry staunch's decorators, compiled by Angular's compiler (ngc,
// legacy decorators): Angular's own decorators become static definitions (ɵprov, ɵfac), staunch's
// stay on the methods, in legacy mode.
import { Injectable, inject } from '@angular/core';
import { CircuitBreaker, Retry } from '@staunch/decorators';

export class Unavailable extends Error {}

@Injectable({ providedIn: 'root' })
export class PaymentsGateway {
  calls = 0;

  async charge(amount: number): Promise<string> {
    if (++this.calls < 3) throw new Unavailable('gateway busy');
    return `charged ${amount}`;
  }
}

@Injectable({ providedIn: 'root' })
export class PaymentsService {
  private readonly gateway = inject(PaymentsGateway);

  @Retry(Unavailable, { times: 3, interval: 5 })
  @CircuitBreaker(Unavailable, { threshold: 5, resetTimeout: 1_000 })
  async charge(amount: number): Promise<string> {
    return this.gateway.charge(amount);
  }
}
