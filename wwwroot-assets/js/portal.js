// Small browser helpers for DeployPortal, loaded as an ES module through IJSRuntime.
export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// While the page's circuit is away Blazor marks #components-reconnect-modal (App.razor) with a class: write the time the
// page stopped being updated when it appears, and forget it when the circuit is back.
const reconnect = document.getElementById("components-reconnect-modal");
if (reconnect) {
  new MutationObserver(() => {
    const at = reconnect.querySelector(".portal-reconnect-at");
    if (reconnect.classList.contains("components-reconnect-hide")) {
      at.textContent = "";
    } else if (!at.textContent) {
      at.textContent = new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    }
  }).observe(reconnect, { attributes: true, attributeFilter: ["class"] });
}

// The account menu is a <details>: close it on Escape or a click outside it, as a menu would.
document.addEventListener("click", e => {
  for (const menu of document.querySelectorAll("details.portal-account-menu[open]")) {
    if (!menu.contains(e.target)) menu.open = false;
  }
});
document.addEventListener("keydown", e => {
  if (e.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.portal-account-menu[open]")) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});

// Light or dark: the reader's choice is a cookie that the server renders on <html data-theme> with every page
// (Components/Layout/ThemeChoice.cs); "System" removes it and the page follows prefers-color-scheme.
function showThemeChoice() {
  const current = document.documentElement.dataset.theme || "system";
  for (const button of document.querySelectorAll("[data-portal-theme]")) {
    button.setAttribute("aria-pressed", String(button.dataset.portalTheme === current));
  }
}
document.addEventListener("click", e => {
  const choice = e.target.closest?.("[data-portal-theme]")?.dataset.portalTheme;
  if (!choice) return;
  if (choice === "system") {
    delete document.documentElement.dataset.theme;
    document.cookie = "portal-theme=; path=/; max-age=0; samesite=lax";
  } else {
    document.documentElement.dataset.theme = choice;
    document.cookie = `portal-theme=${choice}; path=/; max-age=31536000; samesite=lax`;
  }
  showThemeChoice();
});
showThemeChoice();


// "/" focuses the page's quick search (the board's), as on GitHub, unless the reader is typing somewhere already.
document.addEventListener("keydown", (e) => {
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
  const typing = e.target.closest?.("input, textarea, select, [contenteditable=''], [contenteditable=true]");
  const search = document.querySelector("[data-portal-search]");
  if (typing || !search) return;
  e.preventDefault();
  search.focus();
});

// The board's one-time "try this" card: dismissed for good with a cookie the server renders as <html data-tried>.
document.addEventListener("click", (e) => {
  if (!e.target.closest?.("[data-portal-dismiss-first-run]")) return;
  document.cookie = "portal-tried=1; path=/; max-age=31536000; samesite=lax";
  document.documentElement.setAttribute("data-tried", "");
});

// The board's compact view: a toggle remembered with a cookie the server renders as <html data-compact> (theme.css
// shows the toggle pressed from that); aria-pressed follows on a click and whenever the toggle gets focus.
const showCompact = (button) => button.setAttribute("aria-pressed", String(document.documentElement.hasAttribute("data-compact")));
document.addEventListener("click", (e) => {
  const button = e.target.closest?.("[data-portal-compact]");
  if (!button) return;
  const on = !document.documentElement.hasAttribute("data-compact");
  document.documentElement.toggleAttribute("data-compact", on);
  document.cookie = on ? "portal-compact=1; path=/; max-age=31536000; samesite=lax" : "portal-compact=; path=/; max-age=0; samesite=lax";
  showCompact(button);
});
document.addEventListener("focusin", (e) => {
  const button = e.target.closest?.("[data-portal-compact]");
  if (button) showCompact(button);
});

// The one-line demo note: hidden for good with a cookie the server renders as <html data-demo-seen>.
document.addEventListener("click", (e) => {
  if (!e.target.closest?.("[data-portal-dismiss-demo]")) return;
  document.cookie = "portal-demo-seen=1; path=/; max-age=31536000; samesite=lax";
  document.documentElement.setAttribute("data-demo-seen", "");
});
