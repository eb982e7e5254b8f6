// Scroll helper for the log viewer: tells .NET only when "at the end" changes (not on every scroll event),
// so following pauses when the person scrolls up and resumes when they scroll back down.
const slack = 24;

export function attach(el, dotnet) {
  if (!el) return;
  el.__dpAtEnd = true;
  el.__dpHandler = () => {
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight <= slack;
    // The scroll event of our own jump to the end. Scroll events are coalesced per frame, so if the reader
    // scrolled up right after it, this one event carries both: the position tells which came last.
    if (el.__dpAuto) {
      el.__dpAuto = false;
      if (atEnd) { el.__dpAtEnd = true; return; }
    }
    if (atEnd !== el.__dpAtEnd) {
      el.__dpAtEnd = atEnd;
      dotnet.invokeMethodAsync("OnScrolled", atEnd);
    }
  };
  el.addEventListener("scroll", el.__dpHandler, { passive: true });
}

export function detach(el) {
  if (el && el.__dpHandler) el.removeEventListener("scroll", el.__dpHandler);
}

// Unless forced (jump to latest), a reader who has just scrolled up wins over an auto-scroll already on its way.
export function scrollToEnd(el, force) {
  if (!el || (!force && el.__dpAtEnd === false)) return;
  if (el.scrollHeight - el.scrollTop - el.clientHeight > 1) {
    el.__dpAuto = true;
    el.scrollTop = el.scrollHeight;
  }
  el.__dpAtEnd = true;
}

export async function copy(text) {
  await navigator.clipboard.writeText(text);
}

export async function download(name, streamRef) {
  const blob = new Blob([await streamRef.arrayBuffer()], { type: "text/plain" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}
