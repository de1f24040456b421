import { describe, it, expect } from 'vitest';
import { ForbiddenError } from '../../../shared/domain/errors.ts';
import { ROLES, hasRole, isPlatformAdmin, requireRole, type Principal, type Role } from '../../../shared/domain/roles.ts';

const as = (role: Role): Principal => ({ keyId: 'key-1', role, clientId: role === 'platform-admin' ? null : 'client-1' });

/** From DESIGN.md: platform-admin > admin > operator > viewer; each can do what the weaker ones can. */
const RANK: Record<Role, number> = { 'platform-admin': 4, admin: 3, operator: 2, viewer: 1 };
const ALL: Role[] = ['platform-admin', 'admin', 'operator', 'viewer'];
const PAIRS = ALL.flatMap((held) => ALL.map((needed) => ({ held, needed, allowed: RANK[held] >= RANK[needed] })));

describe('roles', () => {
  it('lists exactly the four roles of the design, strongest first', () => {
    expect([...ROLES]).toEqual(ALL);
  });

  it.each(PAIRS)('hasRole($held, $needed) is $allowed', ({ held, needed, allowed }) => {
    expect(hasRole(as(held), needed)).toBe(allowed);
  });

  it.each(PAIRS.filter((p) => p.allowed))('requireRole lets $held do what needs $needed', ({ held, needed }) => {
    expect(() => requireRole(as(held), needed, 'do it')).not.toThrow();
  });

  it.each(PAIRS.filter((p) => !p.allowed))('requireRole stops $held from what needs $needed with a 403', ({ held, needed }) => {
    let thrown: unknown;
    try {
      requireRole(as(held), needed, 'delete instances');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ForbiddenError);
    const error = thrown as ForbiddenError;
    expect(error.status).toBe(403);
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain(`'${needed}'`);
    expect(error.message).toContain(held);
    expect(error.message).toContain('delete instances');
  });

  it('fails closed: a role it does not know (e.g. a corrupt key record) grants nothing', () => {
    const stranger = { keyId: 'key-x', role: 'superuser' as Role, clientId: 'client-1' };
    expect(hasRole(stranger, 'viewer')).toBe(false);
    expect(() => requireRole(stranger, 'viewer', 'read')).toThrow(ForbiddenError);
  });

  it('isPlatformAdmin is true for the platform admin only', () => {
    for (const role of ALL) expect(isPlatformAdmin(as(role))).toBe(role === 'platform-admin');
  });
});
