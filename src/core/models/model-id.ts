/**
 * Splits a `provider/model` id at the FIRST slash: provider names never contain one, model names may
 * (`ollama/library/llama3` → provider `ollama`, model `library/llama3`). Undefined when malformed.
 */
export function splitModelId(id: string): { provider: string; model: string } | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1) return undefined;
  return { provider: id.slice(0, slash), model: id.slice(slash + 1) };
}
