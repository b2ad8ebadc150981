/**
 * The tool contract, shared by the agent loop (core), the local executor and remote runners (runner/).
 * Types only: it lives in protocol/ so a runner can implement it without depending on core.
 */
import type { SandboxMode } from './session.js';

/** A tool as offered to the model: name, description and a JSON Schema of its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ToolCallRequest {
  id: string;
  name: string;
  args: unknown;
  /** Where `ToolExecutor.place` put the call when it was recorded; the executor runs it there if it can. */
  runner?: RunnerRef;
}

/** A remote runner, as tool calls and their results name it. */
export interface RunnerRef {
  id: string;
  name: string;
}

export interface ToolContext {
  /** Absolute path of the session's working directory; every path a tool touches stays inside it. */
  workingDir: string;
  signal: AbortSignal;
  /** Streams partial output (bash stdout/stderr) while the tool runs. */
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void;
  /** The session's sandbox mode; overrides the executor's default (from config). */
  sandbox?: SandboxMode;
  /** The session allows sandboxed commands network access; overrides the executor's default. */
  network?: boolean;
  /** Variables the session passes to commands explicitly (secret-looking names are still dropped). */
  env?: Record<string, string>;
}

export interface ToolResult {
  /** What the model sees as the tool's result. */
  output: string;
  is_error: boolean;
  /** Process exit code, for tools that run one. */
  exit_code?: number;
  /** The remote runner that ran the call, when it did not run on the server. */
  runner?: RunnerRef;
}

/**
 * Runs tool calls. The local executor and a remote runner implement the same interface, so the agent
 * loop does not know where a tool runs.
 */
export interface ToolExecutor {
  specs(): ToolSpec[];
  /**
   * Where a call will run, decided when the model asks for it (before approval), so the `tool_call` event
   * can name the runner. Optional: executors that run everything on the server have nothing to say.
   */
  place?(call: { name: string; args: unknown }, settings?: Pick<ToolContext, 'network'>): RunnerRef | undefined;
  /** Never throws for tool failures: they become `is_error` results the model can read. */
  execute(call: ToolCallRequest, ctx: ToolContext): Promise<ToolResult>;
}
