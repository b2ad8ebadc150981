/** A stream the CLI writes to: process.stdout/stderr in production, a capturing fake in tests. */
export interface Output {
  write(text: string): void;
  readonly isTTY?: boolean;
}
