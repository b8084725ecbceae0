import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { StaunchHealthIndicator } from '@staunch/nestjs';

/** `GET /health`: 200 while every circuit is closed or trying, 503 while one is open. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly circuits: StaunchHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.circuits.check('circuits')]);
  }
}
