// How numbers, money and times read on the page. Times are shown in the view's time zone.

export const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function formatTime(iso, tz) {
  const date = new Date(iso);
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz,
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(date);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}:${part("second")}`;
}

const integer = new Intl.NumberFormat("en-US");
export const formatInt = (value) => (value === null || value === undefined ? "—" : integer.format(value));

// Costs are decimals of dollars, often below a cent: enough digits to tell them apart, never rounded to 0.
export function formatCost(value) {
  if (value === null || value === undefined) return "unpriced";
  const number = Number(value);
  if (number === 0) return "$0";
  if (Math.abs(number) >= 1) return `$${number.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `$${Number(number.toPrecision(3)).toString()}`;
}

export const formatMs = (value) => (value === null || value === undefined ? "—" : `${integer.format(value)} ms`);
export const formatPercent = (value) => (value === null || value === undefined ? "—" : `${value}%`);
