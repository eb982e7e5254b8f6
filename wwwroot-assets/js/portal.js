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
