/** The text columns every backend's `sessions` row has, as the drivers return them. */
export interface SessionTextColumns {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  working_dir: string;
  model: string;
  permissions: string;
}
