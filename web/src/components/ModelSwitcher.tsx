import { useEffect, useState } from 'react';
import type { SessionModels } from '../../../src/protocol/api.js';
import { useTower } from '../context.js';

/** Switch the session's model (takes effect from the next model step). */
export function ModelSwitcher({ id, current }: { id: string; current: string | undefined }) {
  const { api } = useTower();
  const [models, setModels] = useState<SessionModels>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    void api.get<SessionModels>(`/api/sessions/${encodeURIComponent(id)}/models`).then(setModels, () => undefined);
  }, [api, id, current]);
  const change = async (model: string) => {
    try {
      await api.patch(`/api/sessions/${encodeURIComponent(id)}`, { model });
      setError(undefined);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <label className="model-switcher">
      Model{' '}
      <select value={current ?? models?.current ?? ''} onChange={(e) => void change(e.target.value)}>
        {(models?.models ?? (current ? [{ id: current }] : [])).map((m) => <option key={m.id} value={m.id}>{m.id}</option>)}
      </select>
      {error ? <span role="alert" className="error">{error}</span> : null}
    </label>
  );
}
