/** A mistake in how the command was called, found after commander's own checks. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
