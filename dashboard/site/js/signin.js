// Sign-in: the key stays in this tab's sessionStorage only (never the URL, localStorage or a cookie).

import { session } from "./api.js";
import { h, replace } from "./dom.js";

export function renderSignIn(main, { onSignedIn, message }) {
  document.title = "Sign in · Request Logs";
  const input = h("input", {
    id: "api-key", name: "api-key", type: "password", autocomplete: "off", required: true,
    spellcheck: "false", "aria-describedby": message ? "sign-in-error" : "sign-in-hint",
  });
  const form = h(
    "form",
    {
      class: "sign-in",
      onSubmit: (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        session.signIn(key);
        onSignedIn();
      },
    },
    h("h1", {}, "Sign in"),
    h("div", { class: "field" }, h("label", { for: "api-key" }, "API key"), input),
    h("p", { id: "sign-in-hint", class: "hint" }, "Kept in this browser tab only; signing out or closing the tab forgets it."),
    message ? h("p", { id: "sign-in-error", class: "error", role: "alert" }, message) : null,
    h("button", { type: "submit" }, "Sign in"),
  );
  replace(main, form);
  input.focus();
}
