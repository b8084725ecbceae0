import { BadGatewayException, Controller, Get, Param } from '@nestjs/common';
import { UpstreamError, UsersService, type User } from './users.service';

@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** 200 with the user; 502 when the upstream failed every try; 503 + Retry-After while the circuit is open. */
  @Get(':id')
  async user(@Param('id') id: string): Promise<User> {
    try {
      return await this.users.getUser(id);
    } catch (error) {
      // The upstream's failure is a bad gateway; staunch's rejections go on to StaunchExceptionFilter.
      if (error instanceof UpstreamError) throw new BadGatewayException(error.message, { cause: error });
      throw error;
    }
  }
}
