import { useState } from 'react';
import type { ConfirmationDecision } from '../api/types.js';
import { useTower } from '../context.js';
import { pretty } from '../format.js';
import type { Item } from '../transcript/items.js';

type ToolItem = Extract<Item, { kind: 'tool' }>;

/** Tool calls waiting for a person: approve once, for this tool, for the session, or reject with a reason. */
export function Approvals({ id, pending }: { id: string; pending: ToolItem[] }) {
  if (pending.length === 0) return null;
  return (
    <section className="card attention" aria-label="Pending approvals">
      <h2>Waiting for approval</h2>
      {pending.map((p) => <Approval key={p.toolCallId} id={id} item={p} />)}
    </section>
  );
}

function Approval({ id, item }: { id: string; item: ToolItem }) {
  const { api } = useTower();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const decide = async (decision: ConfirmationDecision) => {
    try {
      await api.post(`/api/sessions/${encodeURIComponent(id)}/confirmations/${encodeURIComponent(item.toolCallId)}`, {
        decision,
        ...(decision === 'reject' && reason.trim() ? { reason: reason.trim() } : {}),
      });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="approval" data-testid="approval" data-tool-call-id={item.toolCallId}>
      <p>
        <code>{item.tool}</code> wants to run:
      </p>
      <pre>{pretty(item.args)}</pre>
      <div className="row wrap">
        <button type="button" onClick={() => void decide('approve')}>Approve</button>
        <button type="button" onClick={() => void decide('approve_tool')}>Approve {item.tool} always</button>
        <button type="button" onClick={() => void decide('approve_session')}>Approve all this session</button>
        <input aria-label="Reason for rejecting" placeholder="Reason (optional)" value={reason} onChange={(e) => setReason(e.target.value)} />
        <button type="button" className="danger" onClick={() => void decide('reject')}>Reject</button>
      </div>
      {error ? <p role="alert" className="error">{error}</p> : null}
    </div>
  );
}
