import { Controller, Get } from '@nestjs/common';
import type { PolicyDescriptor } from '@staunch/decorators';
import { StaunchDiscovery } from '@staunch/nestjs';

/** One decorated method, as `GET /policies` lists it. */
export interface PolicyListing {
  readonly method: string;
  readonly policies: readonly PolicyDescriptor[];
}

/** `GET /policies`: every staunch policy of the app, found by discovery. */
@Controller('policies')
export class PoliciesController {
  constructor(private readonly discovery: StaunchDiscovery) {}

  @Get()
  list(): PolicyListing[] {
    return this.discovery
      .methods()
      .map((m) => ({ method: `${m.className}.${String(m.method)}`, policies: m.policies }));
  }
}
