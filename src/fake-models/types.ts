/**
 * Types of the scripted fake model servers. A script decides, request by request, what the "model"
 * answers; the server renders that answer in the provider's real wire format (OpenAI Chat Completions
 * or Anthropic Messages), so the real AI SDK provider code runs end to end against it.
 */

export type FakeFormat = 'openai' | 'anthropic';

export interface ScriptToolCall {
  name: string;
  args: unknown;
  /** Defaults to a deterministic id (`call_r<request>_<n>` / `toolu_r<request>_<n>`). */
  id?: string;
  /** Sent verbatim instead of `JSON.stringify(args)`: for testing malformed arguments from a model. */
  raw_args?: string;
}

/**
 * Token counts reported by the fake. `input_tokens` counts the whole prompt, cached part included (the
 * OpenAI convention, and Tower's); the Anthropic renderer reports `input_tokens - cached_input_tokens`
 * plus `cache_read_input_tokens`, as Anthropic does.
 */
export interface ScriptUsage {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number;
}

/** An HTTP error answered instead of a completion, in the provider's real error JSON shape. */
export interface ScriptError {
  status: number;
  message: string;
  /** Provider error type; defaults by status (e.g. `rate_limit_error`, `invalid_request_error`). */
  type?: string;
  /** OpenAI `error.code` (e.g. `context_length_exceeded`); ignored by the Anthropic format. */
  code?: string;
  /** Sent as the `retry-after` header; defaults to 1 for status 429. */
  retryAfterSeconds?: number;
}

export interface ScriptResponse {
  /** A string is split into word-ish chunks; an array is used as the chunks themselves. */
  text?: string | string[];
  reasoning?: string | string[];
  tool_calls?: ScriptToolCall[];
  usage?: ScriptUsage;
  error?: ScriptError;
  /** An error event sent inside a stream after the content (the HTTP status stays 200). */
  stream_error?: { message: string; type?: string };
  /** Pacing: content chunks are written one by one, 1000/tokensPerSecond ms apart. */
  tokensPerSecond?: number;
  /** Writes the headers and any content, then never finishes: for abort tests. */
  hang?: boolean;
}

export interface NormalizedToolCall {
  id: string;
  name: string;
  args: unknown;
}

/** A request's conversation in one shape for both formats, so scripts can branch on it. */
export type NormalizedMessage =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; tool_calls: NormalizedToolCall[] }
  /** `is_error` is only known for the Anthropic format (OpenAI tool messages carry no flag). */
  | { role: 'tool'; tool_call_id: string; text: string; is_error?: boolean };

export interface OfferedTool {
  name: string;
  description: string;
  parameters: unknown;
}

export interface ParsedRequest {
  /** Position of this request among all POSTs the server received, from 0. */
  index: number;
  format: FakeFormat;
  model: string;
  stream: boolean;
  /** System (and OpenAI `developer`) instructions joined by blank lines. */
  system: string | undefined;
  messages: NormalizedMessage[];
  tools: OfferedTool[];
  /** The request body as received. */
  body: unknown;
}

/**
 * A function script may return `undefined` for a title request to get the automatic title; for any
 * other request `undefined` is answered with an HTTP 500 naming the problem.
 */
export type ScriptFunction = (
  request: ParsedRequest,
) => ScriptResponse | undefined | Promise<ScriptResponse | undefined>;

/**
 * A list is consumed in order, one entry per non-title request; once exhausted every further request
 * gets an HTTP 500 "fake model script exhausted" (failing loudly beats silently repeating in tests).
 */
export type Script = ScriptResponse[] | ScriptFunction;

export interface FakeServerOptions {
  format: FakeFormat;
  script: Script;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Pacing applied when a response sets none. */
  tokensPerSecond?: number;
  /**
   * How pacing waits between chunks (default: a timer of `ms`). Tests pass their own to check the pacing
   * without a clock. A client leaving cuts the wait short either way.
   */
  pause?: (ms: number) => Promise<void>;
  /** Called right after each content chunk is written; `hrtime` is `process.hrtime.bigint()`. */
  onChunkWritten?: (text: string, hrtime: bigint, requestIndex: number) => void;
  /** Model ids answered by `GET /v1/models`. */
  models?: string[];
  /**
   * Serve HTTPS (node:https) with this key and certificate (PEM) instead of plain HTTP; `url` is then
   * `https://`. Tests use `TEST_TLS` (`testing/tls.ts`: a self-signed certificate for 127.0.0.1 and
   * localhost) and make the client trust it.
   */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface FakeModelServer {
  format: FakeFormat;
  /** Base URL to give the provider, e.g. `http://127.0.0.1:PORT/v1` (`https://` with `tls`). */
  url: string;
  /** Every POST body received, parsed JSON, in order (title requests included). */
  requests: unknown[];
  /** The headers of each of those POSTs (names in lower case). */
  headers: Record<string, string | string[] | undefined>[];
  /** The same requests, normalized. */
  parsed: ParsedRequest[];
  /** Indexes of requests whose client went away before the response was complete. */
  aborted: number[];
  close(): Promise<void>;
}
