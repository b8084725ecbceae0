import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { StaunchModule } from '@staunch/nestjs';
import { HealthController } from './health.controller';
import { PoliciesController } from './policies.controller';
import { UsersController } from './users.controller';
import { UPSTREAM_URL, UsersService } from './users.service';

@Module({})
export class AppModule {
  /** The app, calling the upstream at `url`. */
  static forUpstream(url: string): DynamicModule {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false }), StaunchModule.forRoot()],
      controllers: [UsersController, HealthController, PoliciesController],
      providers: [UsersService, { provide: UPSTREAM_URL, useValue: url }],
    };
  }
}
