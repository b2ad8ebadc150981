import { useState, type FormEvent } from 'react';
import { useTower } from '../context.js';
import type { Item } from '../transcript/items.js';
import { fieldsOf, initialValues, toContent, type Field } from './schemaForm.js';

type Question = Extract<Item, { kind: 'question' }>;

/** A question from the agent, as a form built from its JSON schema; accept, decline or cancel. */
export function QuestionForm({ id, question }: { id: string; question: Question }) {
  const { api } = useTower();
  const fields = fieldsOf(question.schema);
  const [values, setValues] = useState<Record<string, string | boolean>>(() => initialValues(fields));
  const [error, setError] = useState<string>();
  const answer = async (action: 'accept' | 'decline' | 'cancel') => {
    const body: Record<string, unknown> = { action };
    if (action === 'accept') {
      const content = toContent(fields, values);
      if (typeof content === 'string') return setError(content);
      body['content'] = content;
    }
    try {
      await api.post(`/api/sessions/${encodeURIComponent(id)}/elicitations/${encodeURIComponent(question.elicitationId)}`, body);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void answer('accept');
  };
  return (
    <form className="card attention" onSubmit={onSubmit} aria-label="Question from the agent" data-testid="question">
      <h2>The agent asks</h2>
      <p>{question.message}</p>
      {fields.map((f) => <FieldInput key={f.name} field={f} value={values[f.name]} onChange={(v) => setValues({ ...values, [f.name]: v })} />)}
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="row">
        <button type="submit">Answer</button>
        <button type="button" className="ghost" onClick={() => void answer('decline')}>Decline</button>
        <button type="button" className="ghost" onClick={() => void answer('cancel')}>Cancel</button>
      </div>
    </form>
  );
}

function FieldInput({ field, value, onChange }: { field: Field; value: string | boolean | undefined; onChange(v: string | boolean): void }) {
  const label = `${field.title}${field.required ? ' *' : ''}`;
  if (field.type === 'boolean') {
    return (
      <label className="check">
        <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} /> {label}
      </label>
    );
  }
  if (field.options) {
    return (
      <label>
        {label}
        <select value={String(value ?? '')} onChange={(e) => onChange(e.target.value)} aria-required={field.required}>
          <option value="">—</option>
          {field.options.map((o) => <option key={o}>{o}</option>)}
        </select>
      </label>
    );
  }
  return (
    <label>
      {label}
      <input type={field.type === 'string' ? 'text' : 'number'} step={field.type === 'integer' ? 1 : 'any'} value={String(value ?? '')}
        onChange={(e) => onChange(e.target.value)} aria-required={field.required} />
      {field.description ? <span className="muted small">{field.description}</span> : null}
    </label>
  );
}
