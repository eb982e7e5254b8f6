// Small browser helpers for DeployPortal, loaded as an ES module through IJSRuntime.
export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
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
