// Scroll helper for the log viewer: tells .NET only when "at the end" changes (not on every scroll event),
// so following pauses when the person scrolls up and resumes when they scroll back down.
const slack = 24;

// Only a reader pauses following: a scroll away from the end counts when the wheel, a touch, a key or the pointer
// (the scroll bar) moved the view in the last second. The view also moves by itself (the browser clamps it when a
// new choice of pod or range empties the log), and that used to pause following at random.
const readerWindowMs = 1000;
const readerInput = ["wheel", "touchstart", "touchmove", "keydown", "pointerdown"];

export function attach(el, dotnet) {
  if (!el) return;
  el.__dpAtEnd = true;
  el.__dpTop = el.scrollTop; // where the view was last seen (by a scroll event) or put (by a jump to the end)
  el.__dpReaderAt = -Infinity;
  el.__dpInput = () => { el.__dpReaderAt = performance.now(); };
  readerInput.forEach(type => el.addEventListener(type, el.__dpInput, { passive: true }));
  el.__dpHandler = () => {
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight <= slack;
    // The scroll event of our own jump to the end, unless the view is now above where the jump put it: scroll
    // events are coalesced per frame, so a reader's scroll right after the jump arrives in the same event. Lines
    // added meanwhile grow the content below without moving the view, so they do not count as scrolling up.
    if (el.__dpAuto) {
      el.__dpAuto = false;
      if (el.scrollTop >= el.__dpTop - slack) { el.__dpTop = el.scrollTop; el.__dpAtEnd = true; return; }
    }
    el.__dpTop = el.scrollTop;
    if (!atEnd && performance.now() - el.__dpReaderAt > readerWindowMs) return; // not the reader: the next jump fixes it
    if (atEnd !== el.__dpAtEnd) {
      el.__dpAtEnd = atEnd;
      dotnet.invokeMethodAsync("OnScrolled", atEnd);
    }
  };
  el.addEventListener("scroll", el.__dpHandler, { passive: true });
}

// Phones (under 600 px) start with wrapped lines: a log line is unreadable scrolled sideways on a narrow screen.
export function narrow() {
  return window.matchMedia("(max-width: 599.98px)").matches;
}

export function detach(el) {
  if (el && el.__dpHandler) el.removeEventListener("scroll", el.__dpHandler);
  if (el && el.__dpInput) readerInput.forEach(type => el.removeEventListener(type, el.__dpInput));
}

// Unless forced (jump to latest), a reader who has just scrolled up wins over an auto-scroll already on its way,
// including one whose scroll event has not been dispatched yet (the view is above where it was last seen).
export function scrollToEnd(el, force) {
  if (!el) return;
  if (!force && (el.__dpAtEnd === false || el.scrollTop < el.__dpTop - slack)) return;
  if (el.scrollHeight - el.scrollTop - el.clientHeight > 1) {
    el.__dpAuto = true;
    el.scrollTop = el.scrollHeight;
  }
  el.__dpTop = el.scrollTop;
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
