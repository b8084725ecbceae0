import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { StaunchModule } from '@staunch/nestjs';
import { HealthController } from './health.controller';
import { PoliciesController } from './policies.controller';
import { UsersController } from './users.controller';
import { UPSTREAM_URL, UsersService } from './users.service';

/** The app's policy defaults: every decorated method takes these for the options it leaves out. */
const defaults = {
  retry: { times: 3, interval: 100 },
  circuitBreaker: { threshold: 3, resetTimeout: 1_000, counting: 'consecutive' },
} as const;

@Module({})
export class AppModule {
  /** The app, calling the upstream at `url`. */
  static forUpstream(url: string): DynamicModule {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false }), StaunchModule.forRoot({ defaults })],
      controllers: [UsersController, HealthController, PoliciesController],
      providers: [UsersService, { provide: UPSTREAM_URL, useValue: url }],
    };
  }
}
