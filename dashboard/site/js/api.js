// The API from the page: the key from sessionStorage as the Bearer header, the API's error shape as
// ApiError, and 429 answered by waiting its Retry-After (with a visible notice) before trying again.

const KEY_STORAGE = "request-logs.api-key";
const MAX_THROTTLE_RETRIES = 3;
const API_ROOT = "/api/account/request-logs";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The API answered ${status}.`);
    this.status = status;
    this.type = error.type || null;
    this.code = error.code || null;
    this.param = error.param || null;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY_STORAGE),
  signIn: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  // Everything the tab kept for this key goes with it (the account's model and provider lists).
  signOut: () => Object.keys(sessionStorage).filter((name) => name.startsWith("request-logs.")).forEach((name) => sessionStorage.removeItem(name)),
};

// Listeners told when a request waits for a rate limit (seconds) and when it goes again (null).
const throttleListeners = new Set();
export function onThrottle(listener) {
  throttleListeners.add(listener);
  return () => throttleListeners.delete(listener);
}

// Every request the page made, for the view's counters (and the tests that read them).
export const calls = { count: 0, byPath: {} };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function request(path, params) {
  const query = params ? `?${params.toString()}` : "";
  for (let attempt = 0; ; attempt += 1) {
    calls.count += 1;
    calls.byPath[path] = (calls.byPath[path] || 0) + 1;
    const response = await fetch(`${API_ROOT}${path}${query}`, {
      headers: { Authorization: `Bearer ${session.key() || ""}`, Accept: "application/json" },
    });
    const body = await response.json().catch(() => null);
    if (response.ok) return body;
    if (response.status === 429 && attempt < MAX_THROTTLE_RETRIES) {
      const seconds = Math.max(1, Number(response.headers.get("Retry-After")) || 1);
      throttleListeners.forEach((listener) => listener(seconds));
      await sleep(seconds * 1000);
      throttleListeners.forEach((listener) => listener(null));
      continue;
    }
    throw new ApiError(response.status, body);
  }
}

const encodeId = (id) => encodeURIComponent(id);

export const api = {
  enhanced: (params) => request("/enhanced", params),
  log: (id) => request(`/${encodeId(id)}`),
  details: (id) => request(`/${encodeId(id)}/details`),
  stats: (params) => request("/stats", params),
};
