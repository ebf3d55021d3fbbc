// The account's own models and providers, for the filter menus: one stats call over the retention
// window per signed-in tab, kept in sessionStorage beside the key (cleared with it on sign-out).

import { api, session } from "./api.js";

const RETENTION_DAYS = 90;

export async function accountValues() {
  const cacheKey = `request-logs.values.${session.key()}`;
  const cached = sessionStorage.getItem(cacheKey);
  if (cached) return JSON.parse(cached);
  const start = new Date(Date.now() - (RETENTION_DAYS - 1) * 86400000).toISOString().slice(0, 10);
  const body = await api.stats(new URLSearchParams({ group_by: "model,provider", start_date: start }));
  const values = {
    models: body.by_model.map((entry) => entry.model).sort(),
    providers: (body.by_provider || []).map((entry) => entry.provider).sort(),
  };
  for (const name of Object.keys(sessionStorage)) if (name.startsWith("request-logs.values.")) sessionStorage.removeItem(name);
  sessionStorage.setItem(cacheKey, JSON.stringify(values));
  return values;
}
