import { useEffect, useState, type FormEvent } from 'react';
import type { ModelList, Session } from '../api/types.js';
import { useTower } from '../context.js';
import { navigate } from '../router.js';

/** New session: model, working dir, permissions policy and runner labels (sent only when given). */
export function NewSession() {
  const { api } = useTower();
  const [open, setOpen] = useState(false);
  const [models, setModels] = useState<ModelList>();
  const [model, setModel] = useState('');
  const [workingDir, setWorkingDir] = useState('');
  const [policy, setPolicy] = useState('balanced');
  const [labels, setLabels] = useState('');
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (open && !models) void api.get<ModelList>('/api/models').then((m) => { setModels(m); setModel(m.default); }, () => undefined);
  }, [open, models, api]);
  if (!open) return <button type="button" onClick={() => setOpen(true)}>New session</button>;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const runnerLabels = labels.split(',').map((l) => l.trim()).filter(Boolean);
    const body = {
      ...(model ? { model } : {}),
      ...(workingDir.trim() ? { working_dir: workingDir.trim() } : {}),
      permissions: { policy },
      ...(runnerLabels.length ? { runner: { labels: runnerLabels } } : {}),
    };
    try {
      const s = await api.post<Session>('/api/sessions', body);
      navigate(`/sessions/${s.id}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form className="card new-session" onSubmit={(e) => void submit(e)} aria-label="New session">
      <label>
        Model
        <select value={model} onChange={(e) => setModel(e.target.value)}>
          {(models?.models ?? []).map((m) => <option key={m.id} value={m.id}>{m.id}</option>)}
        </select>
      </label>
      <label>
        Working directory
        <input value={workingDir} onChange={(e) => setWorkingDir(e.target.value)} placeholder="server default" />
      </label>
      <label>
        Permissions
        <select value={policy} onChange={(e) => setPolicy(e.target.value)}>
          <option value="strict">strict: ask before writes and execution</option>
          <option value="balanced">balanced: ask before execution</option>
          <option value="autonomous">autonomous: ask for nothing</option>
        </select>
      </label>
      <label>
        Runner labels
        <input value={labels} onChange={(e) => setLabels(e.target.value)} placeholder="e.g. linux, gpu (empty: run here)" />
      </label>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="row">
        <button type="submit">Create</button>
        <button type="button" className="ghost" onClick={() => setOpen(false)}>Cancel</button>
      </div>
    </form>
  );
}
