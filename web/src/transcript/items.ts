/** What the transcript shows: one item per line, keyed by the seq of the event that opened it. */

export interface ItemBase {
  key: string;
  seq: number;
  timestamp: string;
}

export type Item =
  | (ItemBase & { kind: 'user'; content: string; messageIndex: number; steered: boolean })
  | (ItemBase & { kind: 'text'; content: string })
  | (ItemBase & { kind: 'reasoning'; content: string })
  | (ItemBase & {
      kind: 'tool';
      toolCallId: string;
      tool: string;
      args: unknown;
      output: string;
      result?: string;
      isError?: boolean;
      /** 'pending' while a person must decide; then the decision. */
      confirmation?: string;
      reason?: string;
      runner?: string;
    })
  | (ItemBase & {
      kind: 'usage';
      model: string;
      input: number;
      output: number;
      cached: number;
      cost: number;
      totalCost: number;
      tokensPerSecond?: number;
    })
  | (ItemBase & { kind: 'question'; elicitationId: string; message: string; schema?: Record<string, unknown>; action?: string })
  | (ItemBase & { kind: 'error'; code: string; message: string })
  | (ItemBase & { kind: 'notice'; text: string });

export interface QueuedItem {
  itemId: string;
  content: string;
}

export interface UsagePoint {
  /** Unix seconds. */
  t: number;
  tokensPerSecond: number;
  totalCost: number;
  outputTokens: number;
}
