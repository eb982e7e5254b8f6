// Small browser helpers for DeployPortal, loaded as an ES module through IJSRuntime.
export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
