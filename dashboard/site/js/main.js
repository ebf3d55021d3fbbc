// The single-page app: the URL is the state. Links and forms push a new URL; back and forward re-render.

import { api, onThrottle, session } from "./api.js";
import { h, replace } from "./dom.js";
import { renderSignIn } from "./signin.js";
import { renderLogs } from "./logs.js";
import { renderDetail } from "./detail.js";
import { renderAnalytics } from "./analytics.js";

const main = document.getElementById("main");
const notice = document.getElementById("notice");
const nav = document.getElementById("nav");

export async function navigate(url, { replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  await render();
  // As a page load would: a keyboard or screen-reader user continues from the new view's start.
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
}

function route(pathname) {
  if (pathname === "/" || pathname === "/logs" || pathname === "/logs/") return { view: "logs", title: "Request Logs" };
  const detail = pathname.match(/^\/logs\/([^/]+)$/);
  if (detail) return { view: "detail", id: decodeURIComponent(detail[1]), title: "Request Log" };
  if (pathname === "/analytics" || pathname === "/analytics/") return { view: "analytics", title: "Analytics" };
  return { view: "missing", title: "Not found" };
}

let renderCount = 0;

export async function render() {
  const current = (renderCount += 1);
  const stale = () => current !== renderCount; // a newer navigation started: drop this one's results
  const { pathname, search } = window.location;
  const target = route(pathname);
  document.title = `${target.title} · Request Logs`;
  nav.hidden = !session.key();
  for (const link of nav.querySelectorAll("a[data-view]")) {
    if (link.dataset.view === (target.view === "detail" ? "logs" : target.view)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!session.key()) {
    renderSignIn(main, { onSignedIn: () => render() });
    return;
  }
  main.setAttribute("aria-busy", "true");
  const context = { params: new URLSearchParams(search), navigate, stale, onUnauthorized };
  try {
    if (target.view === "logs") await renderLogs(main, context);
    else if (target.view === "detail") await renderDetail(main, target.id, context);
    else if (target.view === "analytics") await renderAnalytics(main, context);
    else replace(main, h("h1", {}, "Not found"), h("p", {}, "No page here. ", h("a", { href: "/logs" }, "Request Logs")));
  } finally {
    if (!stale()) main.removeAttribute("aria-busy");
  }
}

// A 401 anywhere: the key is wrong or revoked. Forget it and ask again, with the API's own message.
function onUnauthorized(error) {
  session.signOut();
  renderSignIn(main, { onSignedIn: () => render(), message: error.message });
  nav.hidden = true;
}

document.getElementById("sign-out").addEventListener("click", () => {
  session.signOut();
  render();
});

// Same-origin links open in the app without a reload (modified clicks keep the browser's behaviour).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(link.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith("/api/") || link.target) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener("popstate", () => render());

onThrottle((seconds) => {
  if (seconds === null) {
    notice.hidden = true;
    replace(notice);
    return;
  }
  notice.hidden = false;
  replace(notice, `The API's rate limit was reached: retrying in ${seconds} s…`);
});

window.requestLogs = { api };
render();
