/** Form fields from an elicitation's JSON schema: flat objects of strings, numbers, booleans and enums. */
export interface Field {
  name: string;
  title: string;
  description?: string;
  type: 'string' | 'number' | 'integer' | 'boolean';
  options?: string[];
  required: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function fieldsOf(schema: Record<string, unknown> | undefined): Field[] {
  const props = schema && isRecord(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema?.['required']) ? (schema['required'] as unknown[]).filter((r) => typeof r === 'string') : [];
  return Object.entries(props).flatMap(([name, raw]): Field[] => {
    if (!isRecord(raw)) return [];
    const t = raw['type'];
    const type = t === 'number' || t === 'integer' || t === 'boolean' ? t : 'string';
    const options = Array.isArray(raw['enum']) ? raw['enum'].map(String) : undefined;
    return [{
      name,
      title: typeof raw['title'] === 'string' ? raw['title'] : name,
      ...(typeof raw['description'] === 'string' ? { description: raw['description'] } : {}),
      type,
      ...(options ? { options } : {}),
      required: required.includes(name),
    }];
  });
}

export function initialValues(fields: Field[]): Record<string, string | boolean> {
  return Object.fromEntries(fields.map((f) => [f.name, f.type === 'boolean' ? false : '']));
}

/** The answer's content, or a message saying what is missing or wrong. */
export function toContent(fields: Field[], values: Record<string, string | boolean>): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.type === 'boolean') {
      out[f.name] = v === true;
      continue;
    }
    const s = typeof v === 'string' ? v.trim() : '';
    if (s === '') {
      if (f.required) return `${f.title} is required`;
      continue;
    }
    if (f.type === 'number' || f.type === 'integer') {
      const n = Number(s);
      if (!Number.isFinite(n) || (f.type === 'integer' && !Number.isInteger(n))) return `${f.title} must be a${f.type === 'integer' ? 'n integer' : ' number'}`;
      out[f.name] = n;
    } else out[f.name] = s;
  }
  return out;
}
