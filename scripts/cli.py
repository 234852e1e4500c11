"""`lookalike`: one command for every script, e.g. `lookalike search --index DIR --image room.jpg`.

`lookalike COMMAND --help` shows that script's own options; `python scripts/NAME.py` runs the same script.
Only the chosen script is imported, so `lookalike --help` is instant.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

PROG = "lookalike"
CHECKOUT = Path(__file__).resolve().parent.parent  # the source folder: app.py, scripts/serve.sh
SERVE_ABOUT = "serve the app (Streamlit), preparing the demo catalogue in the background"


def serve(argv: list[str], prog: str) -> int:
    """`scripts/serve.sh ARGS` with this interpreter: the demo build in the background, then `streamlit run app.py`."""
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: {prog} [STREAMLIT OPTIONS]\n\n{SERVE_ABOUT}; options go to `streamlit run`,")
        print("e.g. --server.port 8600. LOOKALIKE_MODE=shop serves without the curator tools.")
        return 0
    script = CHECKOUT / "scripts" / "serve.sh"
    if not (CHECKOUT / "app.py").is_file():
        print(
            f"{prog}: needs the project's source folder (no app.py in {CHECKOUT}): pip install -e it", file=sys.stderr
        )
        return 2
    os.execve(script, [str(script), *argv], os.environ | {"PYTHON": sys.executable})


# command: (a module in scripts/, a function, or a table of sub-commands; what it does)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "retrieval": ("benchmark", "retrieval quality: product queries, or shop-the-look on real room photos"),
    "app": ("bench_app", "the app's latency and the catalogue build's throughput"),
    "index": ("bench_index", "index scaling: build time, memory, latency and recall of each index type"),
    "load": ("bench_load", "concurrent shoppers in headless Chromium against a running app"),
    "on-topic": ("bench_on_topic", "grids on topic: category precision with and without the class prior"),
    "refine": ("bench_refine", "refine-by-colour precision against the catalogue's colours"),
    "self-retrieval": ("bench_self_retrieval", "does each catalogue photo find its own product first"),
    "video": ("bench_video", "video search speed on a video made from real room photos"),
    "first-start": ("bench_first_start", "first start: a fresh build of a demo catalogue"),
    "detector-pool": ("bench_detector_pool", "one shared detector against a small pool, shoppers uploading at once"),
    "restart": ("bench_restart", "restart: seconds from ./run.sh to a usable page on a built demo index"),
    "query-tricks": ("bench_query_tricks", "query-side crop context, flip and two scales on the held-out rooms"),
    "heads": ("bench_heads", "embedding heads side by side: one index per head, the same rooms or queries"),
    "rerank": ("bench_rerank", "query expansion, DBA and k-reciprocal re-ranking on the held-out rooms"),
    "search": ("bench_search", "search latency of indexes side by side on the same replayed queries"),
    "click": ("bench_click", "one shopper's real wait in headless Chromium, this checkout against another"),
    "protocol": ("bench_protocol", "N shoppers with no browser (Streamlit's websocket protocol): the server alone"),
    "crop-network": ("bench_crop_network", "crop networks, input contracts and pooling on rooms and synthetic queries"),
    "goes-with": ("bench_goes_with", "'goes well with' recall on held-out room photos against popularity"),
}
SCREENSHOTS: dict[str, tuple[str, str]] = {
    "demo": ("screenshot_demo", "the shop page: a sample room, a click, the grid (a running app)"),
    "room": ("screenshot_room", "Shop the whole room and the curator review pages (a running app)"),
    "curator": ("screenshot_curator", "the box editor and the Manage catalogue page"),
}
COMMANDS: dict[str, tuple[str | dict | Callable, str]] = {
    "serve": (serve, SERVE_ABOUT),
    "build": ("build_catalog", "build or update a catalogue index (--demo: a demo catalogue)"),
    "search": ("search", "search an index with a photo, or a box in it"),
    "goes-with": ("goes_with", "products of other kinds that go with given products (learned from room photos)"),
    "search-video": ("search_video", "search an index with a video: each object once, with its lookalikes"),
    "set-box": ("set_box", "set a product's own box and re-embed it, or go back to detection"),
    "compact": ("compact_index", "compact an index: drop removed vectors, change its type or parameters"),
    "reembed": ("reembed_index", "re-embed an index's stored vectors with an embedding head"),
    "make-queries": ("make_queries", "a retrieval query set: products pasted into held-out scenes"),
    "synthesize-scenes": ("synthesize_scenes", "a detector dataset: catalogue cut-outs pasted on backgrounds"),
    "make-detector-data": ("make_detector_data", "the detector's training set from real rooms and synthetic scenes"),
    "train-detector": ("train_detector", "train the furniture detector (Ultralytics YOLO)"),
    "mine-room-pairs": ("mine_room_pairs", "real room crop -> product pairs from the training room photos"),
    "train-head": ("train_head", "train the embedding head, then re-embed indexes with it"),
    "blend-head": ("blend_head", "blend a trained head with its base vector, each side centred on its own mean"),
    "train-backbone": ("train_backbone", "fine-tune the crop network's last stages with the head; re-embed"),
    "eval-heads": ("eval_heads", "compare embedding heads on a query set, from cached vectors"),
    "bench": (BENCHMARKS, "measure speed and quality; writes docs/BENCHMARKS.md"),
    "screenshot": (SCREENSHOTS, "the README's screenshots"),
}


def usage(table: dict, prog: str) -> str:
    """The list of commands under `prog`, one a line."""
    width = max(map(len, table)) + 2
    lines = [f"usage: {prog} COMMAND [OPTIONS]    ({prog} COMMAND --help: that command's options)", "", "commands:"]
    for name, (target, about) in table.items():
        more = f"  ({prog} {name} --help)" if isinstance(target, dict) else ""
        lines.append(f"  {name:<{width}}{about}{more}")
    return "\n".join(lines)


def run_script(module: str, argv: list[str], prog: str) -> int:
    """Import scripts/MODULE.py and run its `main(argv)`; its help and errors name it `prog`."""
    sys.argv = [prog, *argv]  # argparse names the program after argv[0]: "lookalike search"
    result = importlib.import_module(f"scripts.{module}").main(argv)
    return 0 if result is None else result


def route(table: dict, argv: list[str], prog: str) -> int:
    """Run the command that argv names in `table` (a table of sub-commands routes again)."""
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(table, prog), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in table:
        print(f"{prog}: unknown command '{name}'\n\n{usage(table, prog)}", file=sys.stderr)
        return 2
    target, _ = table[name]
    if isinstance(target, dict):
        return route(target, rest, f"{prog} {name}")
    if callable(target):
        return target(rest, f"{prog} {name}")
    return run_script(target, rest, f"{prog} {name}")


def main(argv: list[str] | None = None) -> int:
    """The `lookalike` command."""
    return route(COMMANDS, sys.argv[1:] if argv is None else list(argv), PROG)


if __name__ == "__main__":
    sys.exit(main())
