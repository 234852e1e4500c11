"""Search a catalogue index with a video: every object seen in it, once, with its lookalike products.

python scripts/search_video.py --index DIR --video FILE [--fps 1] [--k 5] [--json]

With --json, one JSON list: one entry per object track, {time_s, box, product_id, score, name, image}, where
time_s is the time of the track's best frame, box its xyxy box in that frame (frames are shrunk to at most
1024 pixels a side) and the product is the best match. Without it, a table lists each track's top k products.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

import engine
from engine.settings import default_index_dir
from engine.video.decode import VideoError
from engine.video.search import search_video


def main(argv: list[str] | None = None) -> int:
    """Print the tracks and their matches as a table, or as JSON with --json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=default_index_dir(), help="index folder")
    parser.add_argument("--video", type=Path, required=True, help="MP4, WebM or MOV, at most 100 MB and 5 min")
    parser.add_argument("--fps", type=float, default=1.0, help="frames sampled per second of video")
    parser.add_argument("--k", type=int, default=5, help="products listed per object (the table)")
    parser.add_argument("--weights", default=None, help="detector weights (default: the index's)")
    parser.add_argument("--json", action="store_true", help="print JSON to stdout")
    args = parser.parse_args(argv)
    if not args.fps > 0 or args.k < 1:
        parser.error("--fps must be positive and --k at least 1")
    try:
        service = engine.load(args.index, weights=args.weights)
        with tqdm(
            total=0, desc="Video", unit="s", file=sys.stderr, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s"
        ) as bar:
            result = search_video(service, args.video, args.fps, args.k, progress=_updater(bar))
    except (engine.IndexNotFoundError, engine.IndexMismatchError, VideoError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([track.to_json() for track in result.tracks], indent=2, ensure_ascii=False))
        return 0
    print(f"{len(result.tracks)} objects in {result.seconds:.1f} s of video ({result.sampled} frames sampled):")
    for track in result.tracks:
        box = tuple(round(v) for v in track.box)
        print(f"{_clock(track.time_s)}  {track.label} {track.confidence:.2f} {box}, seen in {track.n_frames} frames")
        for m in track.matches:
            print(f"    {m.rank:>2}  {m.score:.3f}  {m.product_id:<20} {m.category:<18} {m.name}")
    return 0


def _updater(bar: tqdm):
    """A progress callback moving `bar` to the seconds done (the total comes from the video's header)."""

    def update(done_s: float, total_s: float) -> None:
        bar.total = max(total_s, done_s)
        bar.update(done_s - bar.n)

    return update


def _clock(seconds: float) -> str:
    """72.5 -> '1:12.5'."""
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


if __name__ == "__main__":
    sys.exit(main())
