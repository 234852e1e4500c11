"""What one shopper waits for, measured inside headless Chromium: click -> grid painted, upload -> boxes painted,
and the websocket traffic of each (bytes, script runs, the server's time from the browser's message to the run's
end). Used by scripts/bench_click.py; the page clock (performance.now) times the browser, the websocket frames
the server.
"""

from __future__ import annotations

import time
from collections import Counter

LIVE = '.stElementContainer[data-stale="false"]'  # elements of the current script run, not fading leftovers
PROBE_JS = """() => {
  if (window.__ll) return;
  const live = '.stElementContainer[data-stale="false"]';
  const ll = window.__ll = {up: null, painted: null, want: null};
  document.addEventListener('pointerup', e => { if (ll.up === null) ll.up = e.timeStamp; }, true);
  const deep = (root, selector) => {  // querySelectorAll that also looks inside shadow roots (components v2)
    const found = [...root.querySelectorAll(selector)];
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) found.push(...deep(el.shadowRoot, selector));
    return found;
  };
  const loaded = root => [...root.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0);
  ll.gridReady = label => {
    const heading = [...document.querySelectorAll(live + ' h3')].find(h => h.innerText.trim() === label);
    const grid = [...document.querySelectorAll(live + ' #results')].find(g => {
      const target = g.querySelector('[data-tag="T"]');  // the query crop's tile names the selection
      return target && target.innerText.includes(label.replace(/^Products like /, ''));
    });
    if (!heading || !grid || !grid.querySelector('[data-tag="M1"]')) return false;
    if (ll.dom === null) ll.dom = performance.now();  // the grid's HTML is on the page, its images maybe not
    return loaded(grid);
  };
  const canvasKey = el => (el.className.match(/st-key-canvas-[^ ]+/) || [''])[0];
  const drawn = el => {  // the photo is on screen: a loaded <img>, or a canvas with a pixel drawn in its middle
    if (el.tagName === 'IMG') return el.complete && el.naturalWidth > 0;
    try {
      return el.getContext('2d').getImageData(el.width >> 1, el.height >> 1, 1, 1).data[3] > 0;
    } catch (err) { return false; }
  };
  ll.boxesReady = caption => {  // a photo element new since `arm` (its key names the photo), and its caption
    const host = [...document.querySelectorAll(live + '[class*="st-key-canvas-"]')]
      .find(el => !ll.oldKeys.has(canvasKey(el)));
    const hint = [...document.querySelectorAll(live + ' [data-testid="stCaptionContainer"]')]
      .some(c => c.innerText.startsWith(caption));
    return Boolean(host && hint && deep(host, 'canvas, img.ll-photo').some(drawn));
  };
  ll.arm = want => {
    ll.up = null; ll.painted = null; ll.dom = null; ll.want = want;
    ll.oldKeys = new Set([...document.querySelectorAll('[class*="st-key-canvas-"]')].map(canvasKey));
    ll.start = performance.now();
    const check = () => {
      const ready = want.kind === 'grid' ? ll.gridReady(want.text) : ll.boxesReady(want.text);
      if (ready) requestAnimationFrame(() => { ll.painted = performance.now(); });  // the next frame: painted
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  };
}"""


class SocketLog:
    """Every websocket frame of one page, timestamped: bytes, script runs and their ends, per element type."""

    def __init__(self, page) -> None:
        self.frames: list[tuple[float, str, int, str | None, str | None]] = []
        page.on("websocket", self._attach)

    def _attach(self, socket) -> None:
        if socket.url.endswith("/_stcore/stream"):
            socket.on("framereceived", lambda payload: self._record("in", payload))
            socket.on("framesent", lambda payload: self._record("out", payload))

    def _record(self, direction: str, payload) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode()
        kind, element = _forward_kind(data) if direction == "in" else (None, None)
        self.frames.append((time.perf_counter(), direction, len(data), kind, element))

    def mark(self) -> int:
        """A position in the log: traffic is counted from here."""
        return len(self.frames)

    def since(self, start: int) -> dict:
        """Bytes in and out, script runs finished, bytes per element type and the server's time since `start`."""
        frames = self.frames[start:]
        sent = [f for f in frames if f[1] == "out"]
        finished = [f for f in frames if f[3] == "script_finished"]
        by_element = Counter()
        for _, direction, size, _, element in frames:
            if direction == "in" and element:
                by_element[element] += size
        server_ms = (finished[-1][0] - sent[0][0]) * 1000 if sent and finished else None
        return {
            "bytes_in": sum(f[2] for f in frames if f[1] == "in"),
            "bytes_out": sum(f[2] for f in sent),
            "messages_in": sum(f[1] == "in" for f in frames),
            "runs": len(finished),
            "server_ms": None if server_ms is None else round(server_ms, 1),
            "bytes_by_element": dict(by_element.most_common()),
        }


def _forward_kind(data: bytes) -> tuple[str | None, str | None]:
    """(the ForwardMsg's type, the element type of a new element) of one frame, or Nones when unreadable."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    try:
        message = ForwardMsg.FromString(data)
    except Exception:  # not a ForwardMsg (another protocol version): counted as bytes only
        return None, None
    kind = message.WhichOneof("type")
    element = None
    if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
        element = message.delta.new_element.WhichOneof("type")
    elif kind == "delta":
        element = message.delta.WhichOneof("type")
    return kind, element


async def install(page) -> None:
    """Put the probe in the page (again after a navigation)."""
    await page.evaluate(PROBE_JS)


async def arm(page, kind: str, text: str) -> None:
    """Start a measurement: wait for a new grid headed `text`, or for boxes with a caption starting with `text`."""
    await page.evaluate("want => window.__ll.arm(want)", {"kind": kind, "text": text})


async def painted_ms(page, timeout_ms: float, since_up: bool = True) -> tuple[float, float | None]:
    """ms from the pointer's release (or from `arm`) to the frame after the awaited content was complete, and to
    when the grid's HTML was there (its images perhaps still loading; None for boxes)."""
    await page.wait_for_function("() => window.__ll.painted !== null", timeout=timeout_ms, polling=50)
    start = "window.__ll.up" if since_up else "window.__ll.start"
    painted, dom = await page.evaluate(f"() => [window.__ll.painted - {start}, window.__ll.dom - {start}]")
    return round(painted, 1), (round(dom, 1) if since_up else None)
