import { SessionSettings } from '../protocol/session.js';
import { definedSettings } from './commit-plan.js';

export { settingsJson } from './commit-plan.js';

/** The `settings` column read back: fields written by an older or newer Tower that do not parse are dropped. */
export function settingsFromJson(text: string): SessionSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {};
  }
  const parsed = SessionSettings.safeParse(raw);
  return parsed.success ? definedSettings(parsed.data) : {};
}
