import { memo } from 'react';
import { formatCost, pretty } from '../format.js';
import type { Item } from '../transcript/items.js';

/** One line of the transcript; memoized, since a streamed token changes only the line it grows. */
export const TranscriptItem = memo(function TranscriptItem({ item, onFork }: { item: Item; onFork(messageIndex: number): void }) {
  const common = { 'data-key': item.key, 'data-kind': item.kind, className: `item item-${item.kind}` };
  switch (item.kind) {
    case 'user':
      return (
        <div {...common}>
          <div className="who">You{item.steered ? ' (steer)' : ''}</div>
          <div className="content">{item.content}</div>
          <button type="button" className="ghost small" onClick={() => onFork(item.messageIndex)} aria-label={`Fork at message ${item.messageIndex}`}>
            Fork here
          </button>
        </div>
      );
    case 'text':
      return (
        <div {...common}>
          <div className="who">Agent</div>
          <div className="content" data-testid="agent-text">{item.content}</div>
        </div>
      );
    case 'reasoning':
      return (
        <details {...common}>
          <summary>Reasoning</summary>
          <div className="content">{item.content}</div>
        </details>
      );
    case 'tool':
      return (
        <div {...common} data-tool-call-id={item.toolCallId}>
          <div className="who">
            Tool <code>{item.tool}</code>
            {item.runner ? <span className="badge">on {item.runner}</span> : null}
            {item.confirmation ? <span className={`badge confirm-${item.confirmation}`}>{item.confirmation === 'pending' ? 'awaiting approval' : item.confirmation.replace('_', ' ')}</span> : null}
            {item.result === undefined ? (item.confirmation === 'pending' ? null : <span className="badge">running</span>) : item.isError ? <span className="badge error">error</span> : <span className="badge ok">done</span>}
          </div>
          <details open={item.result === undefined}>
            <summary>Arguments</summary>
            <pre>{pretty(item.args)}</pre>
          </details>
          {item.output ? <pre className="output" aria-label="Live output">{item.output}</pre> : null}
          {item.result !== undefined ? (
            <details>
              <summary>Result</summary>
              <pre className={item.isError ? 'error' : undefined}>{item.result}</pre>
            </details>
          ) : null}
          {item.reason ? <p className="muted">Reason: {item.reason}</p> : null}
        </div>
      );
    case 'usage':
      return (
        <div {...common}>
          <span className="muted small">
            {item.model}: {item.input} in{item.cached ? ` (${item.cached} cached)` : ''}, {item.output} out, {formatCost(item.cost)}
            {item.tokensPerSecond ? `, ${item.tokensPerSecond.toFixed(1)} tok/s` : ''} · total {formatCost(item.totalCost)}
          </span>
        </div>
      );
    case 'question':
      return (
        <div {...common}>
          <div className="who">Question</div>
          <div className="content">{item.message}</div>
          <span className="muted small">{item.action ? `answered: ${item.action}` : 'waiting for an answer'}</span>
        </div>
      );
    case 'error':
      return (
        <div {...common} role="alert">
          <strong>{item.code}</strong>: {item.message}
        </div>
      );
    case 'notice':
      return <div {...common}><span className="muted small">{item.text}</span></div>;
  }
});
