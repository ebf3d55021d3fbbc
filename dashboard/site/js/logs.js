// /logs: the enhanced list with every list and enhanced parameter as a control. The URL holds the view
// with the API's own parameter names, so a view is a link; the API is asked with exactly those.

import { ApiError, api } from "./api.js";
import { field, h, replace, select } from "./dom.js";
import { browserZone, formatCost, formatInt, formatMs, formatTime } from "./format.js";
import { accountValues } from "./options.js";

// The controls, in the API's names; metadata.<key> pairs are one text field ("feature=chat, env=prod").
const TEXT_FILTERS = [
  ["start_date", "From", "date or ISO 8601 time"],
  ["end_date", "To", "a bare date includes its whole day"],
  ["min_latency", "Min latency (ms)"],
  ["max_latency", "Max latency (ms)"],
  ["min_cost", "Min cost ($)"],
  ["max_cost", "Max cost ($)"],
  ["api_key_id", "API key id"],
  ["user", "User"],
];
const METADATA_PREFIX = "metadata.";
const SORTS = [["created_at", "Time"], ["cost", "Cost"], ["latency", "Latency"], ["tokens", "Tokens"]];

export async function renderLogs(main, context) {
  const { params } = context;
  const tz = params.get("tz") || browserZone();
  const form = filterForm(params, tz, context);
  const results = h("section", { "aria-labelledby": "results-heading", class: "results" }, h("p", { class: "loading" }, "Loading…"));
  replace(main, h("h1", {}, "Request Logs"), form, results);
  fillValueMenus(form, params, context);

  const query = new URLSearchParams(params);
  if (!query.has("tz")) query.set("tz", tz);
  let body;
  try {
    body = await api.enhanced(query);
  } catch (error) {
    if (context.stale()) return;
    showError(results, error, context, form);
    return;
  }
  if (context.stale()) return;
  // A log opens in the zone the list was read in, when the view chose one.
  const zone = params.has("tz") ? `?${new URLSearchParams({ tz })}` : "";
  replace(results, summary(body), table(body.logs, tz, zone), pager(params, body.pagination));
}

function filterForm(params, tz, context) {
  const controls = [];
  controls.push(field("Status", select("status", [["", "Any"], ["success", "Success"], ["error", "Error"]], params.get("status") || "")));
  controls.push(field("Model", select("model", [["", "Any"], ...valueOption(params.get("model"))], params.get("model") || "")));
  controls.push(field("Provider", select("provider", [["", "Any"], ...valueOption(params.get("provider"))], params.get("provider") || "")));
  for (const [name, label, hint] of TEXT_FILTERS) {
    controls.push(field(label, h("input", { name, value: params.get(name) || "", inputmode: name.includes("date") ? null : "decimal" }), hint));
  }
  const metadata = [...params.entries()].filter(([name]) => name.startsWith(METADATA_PREFIX)).map(([name, value]) => `${name.slice(METADATA_PREFIX.length)}=${value}`);
  controls.push(field("Metadata", h("input", { name: "metadata", value: metadata.join(", "), placeholder: "feature=chat, environment=prod" }), "indexed keys only"));
  controls.push(field("Time zone", h("input", { name: "tz", value: tz, list: "zones" })));
  controls.push(field("Sort by", select("sort", SORTS, params.get("sort") || "created_at")));
  controls.push(field("Order", select("order", [["desc", "Descending"], ["asc", "Ascending"]], params.get("order") || "desc")));
  controls.push(field("Per page", select("limit", [["25", "25"], ["50", "50"], ["100", "100"]], params.get("limit") || "50")));
  const zones = h("datalist", { id: "zones" }, (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : []).map((zone) => h("option", { value: zone })));
  return h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter request logs", onSubmit: (event) => submit(event, tz, context) },
    h("div", { class: "controls" }, controls),
    zones,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply"), h("a", { href: "/logs", class: "button secondary" }, "Reset")),
  );
}

const valueOption = (value) => (value ? [[value, value]] : []);

// The model and provider menus list the account's own values (one stats call per tab, cached).
async function fillValueMenus(form, params, context) {
  let values;
  try {
    values = await accountValues();
  } catch {
    return; // the menus keep "Any" and the URL's value; the list itself reports any API error
  }
  if (context.stale()) return;
  for (const [name, list] of [["model", values.models], ["provider", values.providers]]) {
    const menu = form.elements[name];
    const chosen = params.get(name) || "";
    const all = [...new Set([...list, ...(chosen ? [chosen] : [])])].sort();
    replace(menu, h("option", { value: "" }, "Any"), all.map((value) => h("option", { value, selected: value === chosen }, value)));
  }
}

function submit(event, browserDefaultZone, context) {
  event.preventDefault();
  const data = new FormData(event.target);
  const next = new URLSearchParams();
  for (const [name, raw] of data.entries()) {
    const value = String(raw).trim();
    if (!value || name === "metadata") continue;
    if (name === "sort" && value === "created_at") continue; // the API's defaults stay out of the URL
    if (name === "order" && value === "desc") continue;
    if (name === "limit" && value === "50") continue;
    if (name === "tz" && value === browserZone() && !context.params.has("tz")) continue;
    next.set(name, value);
  }
  for (const pair of String(data.get("metadata") || "").split(",")) {
    const [key, ...rest] = pair.split("=");
    if (key.trim() && rest.length) next.set(`${METADATA_PREFIX}${key.trim()}`, rest.join("=").trim());
  }
  context.navigate(`/logs${next.toString() ? `?${next}` : ""}`);
}

function summary(body) {
  const { summary: totals, pagination } = body;
  const cost = totals.total_cost === null ? "unpriced" : formatCost(totals.total_cost);
  return h(
    "div",
    { class: "summary", "aria-live": "polite" },
    h("h2", { id: "results-heading" }, `${formatInt(pagination.total)} logs`),
    h("p", {}, `Total cost ${cost} · ${formatInt(totals.total_tokens)} tokens · average ${formatCost(totals.avg_cost_per_request)} per request`,
      totals.unpriced_requests ? ` · ${formatInt(totals.unpriced_requests)} unpriced` : ""),
  );
}

function table(logs, tz, zone) {
  if (!logs.length) return h("p", { class: "empty" }, "No logs match these filters.");
  const headers = ["Time", "Model", "Provider", "Status", "Latency", "Tokens", "Cost", "Key"];
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Request logs" },
    h(
      "table",
      { class: "logs" },
      h("caption", { class: "visually-hidden" }, `Request logs, times in ${tz}`),
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, logs.map((log) => row(log, tz, zone))),
    ),
  );
}

function row(log, tz, zone) {
  return h(
    "tr",
    { dataset: { id: log.id } },
    h("td", {}, h("a", { href: `/logs/${encodeURIComponent(log.id)}${zone}` }, h("time", { datetime: log.created_at }, formatTime(log.created_at, tz)))),
    h("td", {}, log.model),
    h("td", {}, log.provider),
    h("td", {}, h("span", { class: `status ${log.status}` }, log.status), ` ${log.status_code}`),
    h("td", { class: "number" }, formatMs(log.latency_ms)),
    h("td", { class: "number" }, formatInt(log.total_tokens)),
    h("td", { class: "number" }, formatCost(log.cost ? log.cost.total : null)),
    h("td", {}, h("code", {}, log.api_key_prefix)),
  );
}

function pager(params, pagination) {
  const first = new URLSearchParams(params);
  first.delete("cursor");
  first.delete("offset");
  const onFirst = !params.has("cursor") && !params.has("offset");
  const next = new URLSearchParams(first);
  if (pagination.nextCursor) next.set("cursor", pagination.nextCursor);
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    onFirst ? null : h("a", { href: `/logs?${first}`, class: "button secondary" }, "First page"),
    pagination.hasMore && pagination.nextCursor ? h("a", { href: `/logs?${next}`, class: "button", rel: "next" }, "Next page") : null,
  );
}

export function showError(container, error, context, form) {
  if (error instanceof ApiError && error.status === 401) {
    context.onUnauthorized(error);
    return;
  }
  const message = error instanceof ApiError ? error.message : `The API could not be reached: ${error.message}`;
  replace(container, h("p", { class: "error", role: "alert" }, message));
  const control = form && error instanceof ApiError && error.param ? form.elements[error.param.startsWith(METADATA_PREFIX) ? "metadata" : error.param] : null;
  if (control) {
    control.setAttribute("aria-invalid", "true");
    control.focus();
  }
}
