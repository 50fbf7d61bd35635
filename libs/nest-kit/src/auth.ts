import {
  createParamDecorator,
  Inject,
  Injectable,
  Optional,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '@tally/errors';
import { TenantRateLimiter } from './rate-limiter';

export type ApiRole = 'ingest' | 'query' | 'admin';

export interface Principal {
  tenant: string;
  role: ApiRole;
}

/** Port: resolves a bearer key to its tenant and role (the catalog's ApiKeyStore implements it). */
export interface PrincipalResolver {
  resolve(key: string): Principal | undefined;
}

export const PRINCIPAL_RESOLVER = Symbol('PRINCIPAL_RESOLVER');

/**
 * Optional: requests per second one tenant may make to the routes `ApiKeyGuard` protects (all its
 * keys together, per process); beyond, 429 with Retry-After. Provided by the query service
 * (`QUERY_RATE_LIMIT_PER_SECOND`); the gateway limits ingestion by events instead.
 */
export const TENANT_REQUEST_RATE = Symbol('TENANT_REQUEST_RATE');

/** One shared bucket per tenant for every guarded controller of the process. */
export class TenantRequestRate {
  private readonly limiter = new TenantRateLimiter();

  constructor(readonly perSecond: number) {}

  /** 0 when the request may go on, else the seconds to wait. */
  take(tenant: string, nowMs = Date.now()): number {
    return this.limiter.take(tenant, 1, this.perSecond, nowMs);
  }
}

const ROLES = Symbol('ROLES');

/** Roles allowed on a controller or handler; admin is always allowed. */
export const Roles = (...roles: ApiRole[]) => SetMetadata(ROLES, roles);

/**
 * Authenticates `Authorization: Bearer <key>` and checks the handler's roles. The principal it
 * attaches is the only source of the tenant a request may touch, so a key never reaches another
 * tenant's data, whatever the URL or body says.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(PRINCIPAL_RESOLVER) private readonly resolver: PrincipalResolver,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Optional() @Inject(TENANT_REQUEST_RATE) private readonly rate?: TenantRequestRate,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const principal = match ? this.resolver.resolve(match[1]) : undefined;
    if (!principal) throw new UnauthorizedError();
    const roles =
      this.reflector.getAllAndOverride<ApiRole[] | undefined>(ROLES, [context.getHandler(), context.getClass()]) ?? [];
    if (principal.role !== 'admin' && !roles.includes(principal.role)) {
      throw new ForbiddenError(`A '${principal.role}' key may not do this`);
    }
    if (this.rate) {
      const wait = this.rate.take(principal.tenant);
      if (wait > 0) throw new RateLimitedError(wait);
    }
    request.principal = principal;
    return true;
  }
}

/** The authenticated principal of the request (set by ApiKeyGuard). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const request = context.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!request.principal) throw new UnauthorizedError();
  return request.principal;
});
