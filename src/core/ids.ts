import { randomUUID } from 'node:crypto';

/** Session ids are UUIDs: unguessable, so an id alone never grants anything without the token. */
export const newSessionId = (): string => randomUUID();
export const newTurnId = (): string => `turn_${randomUUID().slice(0, 8)}`;
