import { Permissions } from '../../protocol/session.js';

/** Permissions with the schema's defaults (balanced, no rules) and the given overrides. */
export function perms(overrides: Partial<Permissions> = {}): Permissions {
  return Permissions.parse(overrides);
}
