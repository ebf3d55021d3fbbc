// /logs/<id>: every field of the single log, and its prompt and completion as a conversation (with the
// raw bodies), or the API's 410 when the content is past its retention.

import { ApiError, api } from "./api.js";
import { h, replace } from "./dom.js";
import { browserZone, formatCost, formatInt, formatMs, formatTime } from "./format.js";
import { showError } from "./logs.js";

const COMPONENTS = [
  ["input", "Input"], ["cached_input", "Cached input (cache reads)"], ["cache_creation_input", "Cache writes"],
  ["output", "Output"], ["reasoning", "Reasoning (in output)"],
];

export async function renderDetail(main, id, context) {
  const tz = context.params.get("tz") || browserZone();
  const back = h("p", {}, h("a", { href: context.params.has("tz") ? `/logs?${new URLSearchParams({ tz })}` : "/logs" }, "← Request Logs"));
  const status = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  replace(main, back, h("h1", {}, "Request log ", h("code", {}, id)), status);
  const [log, content] = await Promise.allSettled([api.log(id), api.details(id)]);
  if (context.stale()) return;
  if (log.status === "rejected") {
    showError(status, log.reason, context);
    return;
  }
  replace(status, fields(log.value, tz), costBreakdown(log.value), conversationSection(content));
}

function fields(log, tz) {
  const rows = [
    ["Request id", log.request_id], ["Created", `${formatTime(log.created_at, tz)} (${tz})`],
    ["Completed", `${formatTime(log.completed_at, tz)} (${tz})`], ["Model", log.model], ["Provider", log.provider],
    ["Endpoint", `${log.method} ${log.endpoint}`], ["Status", `${log.status} ${log.status_code}`],
    ["Latency", formatMs(log.latency_ms)], ["Time to first token", formatMs(log.time_to_first_token_ms)],
    ["Streaming", log.streaming ? "yes" : "no"], ["API key", `${log.api_key_prefix} (${log.api_key_id})`],
    ["User agent", log.user_agent || "—"], ["IP address", log.ip_address || "—"], ["User", log.user || "—"],
    ["Metadata", Object.keys(log.metadata || {}).length ? Object.entries(log.metadata).map(([k, v]) => `${k}=${v}`).join(", ") : "—"],
    ["Resolution", log.resolution ? `gateway type ${log.resolution.gateway_type}, gateway ${log.resolution.gateway_id}, connection ${log.resolution.connection_id}` : "—"],
    ["Tokens", `${formatInt(log.input_tokens)} in · ${formatInt(log.output_tokens)} out · ${formatInt(log.total_tokens)} total`],
    ["Cost", `${formatCost(log.cost)} (${log.cost_source}${log.catalog_version ? `, catalog ${log.catalog_version}` : ""})`],
  ];
  return h(
    "section",
    { "aria-labelledby": "fields-heading" },
    h("h2", { id: "fields-heading" }, "Request"),
    log.error ? h("div", { class: "error-block", role: "note" }, h("strong", {}, `${log.error.type} · ${log.error.code}`), h("p", {}, log.error.message)) : null,
    h("dl", { class: "fields" }, rows.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
  );
}

function costBreakdown(log) {
  const breakdown = log.cost_breakdown;
  const pricing = log.pricing;
  return h(
    "section",
    { "aria-labelledby": "cost-heading" },
    h("h2", { id: "cost-heading" }, "Cost breakdown"),
    breakdown === null
      ? h("p", {}, "This request was not priced.")
      : h("div", { class: "table-scroll" }, h(
          "table",
          { class: "breakdown" },
          h("thead", {}, h("tr", {}, ["Component", "Tokens", "Price per million", "Cost"].map((name) => h("th", { scope: "col" }, name)))),
          h(
            "tbody",
            {},
            COMPONENTS.map(([name, label]) =>
              h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "number" }, formatInt(log.tokens[name])),
                h("td", { class: "number" }, pricing && pricing[`${name}_per_million`] !== null && pricing[`${name}_per_million`] !== undefined ? formatCost(pricing[`${name}_per_million`]) : "—"),
                h("td", { class: "number" }, formatCost(breakdown[name]))),
            ),
            h("tr", { class: "total" }, h("th", { scope: "row" }, "Total"), h("td", { class: "number" }, formatInt(log.tokens.total)), h("td", {}), h("td", { class: "number" }, formatCost(breakdown.total))),
          ),
        )),
    pricing && pricing.above_input_tokens ? h("p", { class: "hint" }, `Priced at the tier above ${formatInt(pricing.above_input_tokens)} input tokens.`) : null,
  );
}

function conversationSection(content) {
  const heading = h("h2", { id: "conversation-heading" }, "Conversation");
  if (content.status === "rejected") {
    const error = content.reason;
    const expired = error instanceof ApiError && error.status === 410;
    return h("section", { "aria-labelledby": "conversation-heading" }, heading,
      h("p", { class: expired ? "expired" : "error", role: "status" }, expired ? `Content expired: ${error.message}` : error.message));
  }
  const { request, response } = content.value;
  const turns = [...(request.messages || []).map((message) => turn(message))];
  for (const choice of (response && response.choices) || []) if (choice.message) turns.push(turn(choice.message, choice.finish_reason));
  return h(
    "section",
    { "aria-labelledby": "conversation-heading" },
    heading,
    h("ol", { class: "conversation" }, turns),
    h("details", {}, h("summary", {}, "Raw request JSON"), h("pre", { class: "raw" }, JSON.stringify(request, null, 2))),
    h("details", {}, h("summary", {}, "Raw response JSON"), h("pre", { class: "raw" }, response === null ? "null (no response body)" : JSON.stringify(response, null, 2))),
  );
}

function turn(message, finishReason) {
  return h(
    "li",
    { class: `turn ${message.role}` },
    h("div", { class: "role" }, message.role, finishReason ? h("small", {}, ` · ${finishReason}`) : null),
    contentOf(message.content),
    (message.tool_calls || []).map((call) =>
      h("div", { class: "tool-call" }, h("div", { class: "role" }, `tool call ${call.function ? call.function.name : ""}`),
        h("pre", {}, h("code", {}, call.function ? prettyArguments(call.function.arguments) : JSON.stringify(call, null, 2))))),
    message.tool_call_id ? h("small", {}, `result of ${message.tool_call_id}`) : null,
  );
}

// OpenAI's content is a string or a list of parts (text, images...): text parts are shown, others named.
function contentOf(content) {
  if (content === null || content === undefined) return null;
  if (typeof content === "string") return h("div", { class: "text" }, content);
  if (Array.isArray(content)) {
    return content.map((part) => (part.type === "text" ? h("div", { class: "text" }, part.text) : h("pre", {}, JSON.stringify(part, null, 2))));
  }
  return h("pre", {}, JSON.stringify(content, null, 2));
}

function prettyArguments(value) {
  try {
    return JSON.stringify(typeof value === "string" ? JSON.parse(value) : value, null, 2);
  } catch {
    return String(value);
  }
}
