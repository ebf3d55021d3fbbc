// /analytics: one stats call (time bucket + model, provider and user in one group_by) draws the tiles,
// the time series, the latency percentiles and the breakdowns. Range, bucket and zone live in the URL.

import { api } from "./api.js";
import { field, h, replace, select } from "./dom.js";
import { browserZone, formatCost, formatInt, formatMs, formatPercent } from "./format.js";
import { showError } from "./logs.js";

const BUCKETS = { hour: "by_hour", day: "by_day", week: "by_week" };

export async function renderAnalytics(main, context) {
  const { params } = context;
  const tz = params.get("tz") || browserZone();
  const bucket = BUCKETS[params.get("group_by")] ? params.get("group_by") : "day";
  const form = controls(params, tz, bucket, context);
  const results = h("div", { class: "analytics" }, h("p", { class: "loading" }, "Loading…"));
  replace(main, h("h1", {}, "Analytics"), form, results);

  const query = new URLSearchParams({ group_by: `${bucket},model,provider,user`, tz });
  for (const name of ["start_date", "end_date"]) if (params.get(name)) query.set(name, params.get(name));
  let body;
  try {
    body = await api.stats(query);
  } catch (error) {
    if (!context.stale()) showError(results, error, context, form);
    return;
  }
  if (context.stale()) return;
  const series = body[BUCKETS[bucket]] || [];
  const linkRange = { start_date: body.range.start, end_date: body.range.end, tz };
  replace(
    results,
    h("p", { class: "range" }, `${body.range.start} to ${body.range.end} (${body.range.tz})`, body.range.note ? ` · ${body.range.note}` : ""),
    tiles(body.stats),
    body.stats.total_requests === 0
      ? h("p", { class: "empty" }, "No requests in this range.")
      : [
          charts(series, bucket, tz, context),
          breakdown("By model", "model", body.by_model, linkRange),
          breakdown("By provider", "provider", body.by_provider || [], linkRange),
          breakdown("By user", "user", body.by_user || [], linkRange),
        ],
  );
}

function controls(params, tz, bucket, context) {
  return h(
    "form",
    {
      class: "filters",
      "aria-label": "Analytics range",
      onSubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        const next = new URLSearchParams();
        for (const [name, raw] of data.entries()) {
          const value = String(raw).trim();
          if (value && !(name === "group_by" && value === "day") && !(name === "tz" && value === browserZone() && !params.has("tz"))) next.set(name, value);
        }
        context.navigate(`/analytics${next.toString() ? `?${next}` : ""}`);
      },
    },
    h(
      "div",
      { class: "controls" },
      field("From", h("input", { name: "start_date", value: params.get("start_date") || "" }), "default: the last 30 days"),
      field("To", h("input", { name: "end_date", value: params.get("end_date") || "" })),
      field("Group by", select("group_by", [["hour", "Hour"], ["day", "Day"], ["week", "Week"]], bucket)),
      field("Time zone", h("input", { name: "tz", value: tz, list: "analytics-zones" })),
    ),
    h("datalist", { id: "analytics-zones" }, (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : []).map((zone) => h("option", { value: zone }))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply")),
  );
}

function tiles(stats) {
  const items = [
    ["requests", "Requests", formatInt(stats.total_requests)],
    ["success_rate", "Success rate", formatPercent(stats.success_rate)],
    ["total_tokens", "Tokens", formatInt(stats.total_tokens)],
    ["total_cost", "Cost", formatCost(stats.total_cost)],
    ["avg_latency_ms", "Average latency", formatMs(stats.avg_latency_ms)],
    ["p50_latency_ms", "p50 latency", formatMs(stats.p50_latency_ms)],
    ["p95_latency_ms", "p95 latency", formatMs(stats.p95_latency_ms)],
    ["p99_latency_ms", "p99 latency", formatMs(stats.p99_latency_ms)],
  ];
  return h(
    "dl",
    { class: "tiles" },
    items.map(([name, label, value]) => h("div", { class: "tile", dataset: { tile: name } }, h("dt", {}, label), h("dd", {}, value))),
  );
}

const label = (entry, bucket) => (bucket === "hour" ? entry.hour : bucket === "week" ? entry.week : entry.date);

// The logs of one bucket, in the same zone: a day or week as bare local dates (end inclusive), an hour as
// its first and last instant.
function bucketLink(entry, bucket, tz) {
  const query = new URLSearchParams({ tz });
  if (bucket === "day") {
    query.set("start_date", entry.date);
    query.set("end_date", entry.date);
  } else if (bucket === "week") {
    const end = new Date(`${entry.start_date}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 6);
    query.set("start_date", entry.start_date);
    query.set("end_date", end.toISOString().slice(0, 10));
  } else {
    query.set("start_date", entry.hour);
    query.set("end_date", new Date(Date.parse(entry.hour) + 3599999).toISOString());
  }
  return `/logs?${query}`;
}

function charts(series, bucket, tz, context) {
  const labels = series.map((entry) => label(entry, bucket));
  const x = series.map((_, index) => index);
  const openBucket = (index) => context.navigate(bucketLink(series[index], bucket, tz));
  const specs = [
    ["requests", "Requests", [["Requests", series.map((e) => e.requests), "#2563eb"]]],
    ["cost", "Cost ($)", [["Cost", series.map((e) => (e.cost === null ? null : Number(e.cost))), "#15803d"]]],
    ["tokens", "Tokens", [["Tokens", series.map((e) => e.tokens), "#7c3aed"]]],
    ["latency", "Latency percentiles (ms)", [
      ["p50", series.map((e) => e.p50_latency_ms), "#0f766e"],
      ["p95", series.map((e) => e.p95_latency_ms), "#b45309"],
      ["p99", series.map((e) => e.p99_latency_ms), "#b91c1c"],
    ]],
  ];
  return h(
    "section",
    { class: "charts", "aria-labelledby": "series-heading" },
    h("h2", { id: "series-heading" }, `Over time, by ${bucket}`),
    specs.map(([name, title, lines]) => chart(name, title, x, labels, lines, openBucket)),
    h("details", {}, h("summary", {}, "Data table"), dataTable(series, labels, bucket, tz)),
  );
}

function chart(name, title, x, labels, lines, openBucket) {
  const target = h("div", { class: "plot" });
  const figure = h("figure", { class: "chart", dataset: { chart: name, points: String(x.length) }, "aria-label": `${title}, one point per bucket` }, h("figcaption", {}, title), target);
  // uPlot measures its container: draw once the figure is in the document.
  requestAnimationFrame(() => {
    if (!figure.isConnected) return;
    const width = Math.max(280, target.clientWidth || 600);
    const plot = new window.uPlot(
      {
        width,
        height: 200,
        padding: [8, 36, 0, 0], // room for the last bucket's label at the right edge
        scales: { x: { time: false } },
        legend: { show: lines.length > 1 },
        cursor: { drag: { x: false, y: false } },
        axes: [
          { values: (_, ticks) => ticks.map((tick) => labels[tick] || ""), size: 40 },
          { size: 72 },
        ],
        series: [{ label: "bucket", value: (_, index) => (index === null ? "" : labels[index]) },
          ...lines.map(([lineLabel, , color]) => ({ label: lineLabel, stroke: color, width: 2, points: { show: x.length < 60 } }))],
      },
      [x, ...lines.map(([, values]) => values)],
      target,
    );
    plot.over.addEventListener("click", () => {
      if (plot.cursor.idx !== null && plot.cursor.idx !== undefined) openBucket(plot.cursor.idx);
    });
  });
  return figure;
}

function dataTable(series, labels, bucket, tz) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, [bucket, "Requests", "Cost", "Tokens", "p50", "p95", "p99"].map((name) => h("th", { scope: "col" }, name)))),
      h(
        "tbody",
        {},
        series.map((entry, index) =>
          h("tr", {}, h("th", { scope: "row" }, h("a", { href: bucketLink(entry, bucket, tz) }, labels[index])),
            h("td", { class: "number" }, formatInt(entry.requests)), h("td", { class: "number" }, formatCost(entry.cost)),
            h("td", { class: "number" }, formatInt(entry.tokens)), h("td", { class: "number" }, formatMs(entry.p50_latency_ms)),
            h("td", { class: "number" }, formatMs(entry.p95_latency_ms)), h("td", { class: "number" }, formatMs(entry.p99_latency_ms))),
        ),
      ),
    ),
  );
}

// A table with a bar per entry (share of requests); each name opens /logs filtered to it over the range.
function breakdown(title, dimension, entries, linkRange) {
  const most = Math.max(1, ...entries.map((entry) => entry.requests));
  const id = `by-${dimension}-heading`;
  const name = (entry) => {
    if (entry.other) return `other (${formatInt(entry.other_groups)} more)`;
    if (entry[dimension] === null) return "(none)";
    const query = new URLSearchParams({ ...linkRange, [dimension]: entry[dimension] });
    return h("a", { href: `/logs?${query}` }, entry[dimension]);
  };
  return h(
    "section",
    { class: "breakdown", "aria-labelledby": id, dataset: { breakdown: dimension } },
    h("h2", { id }, title),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, [dimension, "Requests", "Share", "Cost", "Tokens", "p50", "p95"].map((column) => h("th", { scope: "col" }, column)))),
        h(
          "tbody",
          {},
          entries.map((entry) =>
            h("tr", {}, h("th", { scope: "row" }, name(entry)), h("td", { class: "number" }, formatInt(entry.requests)),
              h("td", {}, h("span", { class: "bar", style: `width: ${Math.round((100 * entry.requests) / most)}%` })),
              h("td", { class: "number" }, formatCost(entry.cost)), h("td", { class: "number" }, formatInt(entry.tokens)),
              h("td", { class: "number" }, formatMs(entry.p50_latency_ms)), h("td", { class: "number" }, formatMs(entry.p95_latency_ms))),
          ),
        ),
      ),
    ),
  );
}
