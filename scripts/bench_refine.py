"""Refine-by-colour quality: precision@10 of colour-refined matches against the catalogue's `color` column.

python scripts/bench_refine.py --index INDEX_DIR --products CSV --colors-cache FILE.parquet [--queries 40]
    [--doc docs/BENCHMARKS.md]

Each query is a catalogue product's own whole-photo vector ("this, but in green"); the query product and the
products without a `color` value are excluded from the results. A result is relevant when its `color` column
contains the colour word. Product colours come from the index metadata, or, for an index built before they
were stored, are computed from every product photo once and cached in --colors-cache.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

import engine
from engine.search.colors import dominant_colors, format_colors, parse_colors
from engine.search.products import SearchFilters, search_products
from engine.search.refine import POOL, parse_refinement, refine_matches, stores_colors
from training.report import write_section

WORDS = ("white", "black", "grey", "beige", "brown", "green", "blue", "yellow", "pink", "red", "turquoise", "orange")
K = 10


def main(argv: list[str] | None = None) -> int:
    """Compute (or load) the colours, run the queries per colour word, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--products", type=Path, required=True, help="the CSV with a `color` column")
    parser.add_argument("--colors-cache", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=40, help="query products per colour word")
    parser.add_argument("--doc", type=Path, default=None)
    args = parser.parse_args(argv)
    service = engine.load(args.index)
    colours = product_colours(service, args.colors_cache)
    table = pd.read_csv(args.products, dtype=str, keep_default_na=False)
    coloured = table[table["color"].str.strip() != ""]
    uncoloured = tuple(table.loc[table["color"].str.strip() == "", "product_id"])
    truth = dict(zip(coloured["product_id"], coloured["color"].str.lower()))
    rng = np.random.default_rng(1234)
    rows = []
    for word in tqdm(WORDS, desc="Colour words", file=sys.stderr):
        queries = rng.choice(coloured["product_id"].to_numpy(), size=min(args.queries, len(coloured)), replace=False)
        rows.append((word, share(truth, word), *precisions(service, queries, word, truth, colours, uncoloured)))
    text = report(rows, args, len(coloured), stores_colors(service.index))
    print(text)
    if args.doc:
        write_section(args.doc, "refine-colours", text)
    return 0


def product_colours(service, cache: Path) -> dict[str, np.ndarray]:
    """Catalogue image -> dominant colours: stored in the index, else computed once from the photos and cached."""
    if stores_colors(service.index):
        rows = service.index.meta[["image", "colors"]].drop_duplicates("image")
        return {image: parse_colors(text) for image, text in zip(rows["image"], rows["colors"])}
    if not cache.is_file():
        images = service.index.meta["image"].unique()
        started = time.perf_counter()
        texts = [format_colors(dominant_colors(engine.load_image(service.images_root / i))) for i in tqdm(images)]
        print(f"colours of {len(images)} photos in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        cache.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"image": images, "colors": texts}).to_parquet(cache, index=False)
    rows = pd.read_parquet(cache)
    return {image: parse_colors(text) for image, text in zip(rows["image"], rows["colors"])}


def precisions(service, queries, word, truth, colours, uncoloured) -> tuple[float, float, float]:
    """Mean precision@10 with no refinement, refined by photo colours only, and by photo colours + text."""
    refinement = parse_refinement(word)
    scores = {"none": [], "photo": [], "text": []}
    for product in queries:
        filters = SearchFilters(exclude_products=(str(product), *uncoloured))
        pool = search_products(service.index, service.product_vector(str(product)), POOL, filters)
        lookup = lambda m: colours.get(m.image)  # noqa: E731
        ranked = {
            "none": pool[:K],
            "photo": refine_matches(pool, refinement, lookup, use_text=False)[:K],
            "text": refine_matches(pool, refinement, lookup, use_text=True)[:K],
        }
        for name, matches in ranked.items():
            scores[name].append(sum(names(truth.get(m.product_id, ""), word) for m in matches) / K)
    return tuple(float(np.mean(scores[name])) for name in ("none", "photo", "text"))


def names(colour: str, word: str) -> bool:
    """Whether a `color` value names the word ('dark grey', 'grey-green' and 'white,grey' all name grey)."""
    return re.search(rf"\b{word}\b", colour) is not None


def share(truth: dict[str, str], word: str) -> float:
    """The share of the coloured products whose colour names the word (precision by chance)."""
    return float(np.mean([names(colour, word) for colour in truth.values()]))


def report(rows, args, n_coloured: int, stored: bool) -> str:
    """The Markdown section."""
    source = (
        "stored in the index"
        if stored
        else "computed from the product photos by this script (index built before colours were stored)"
    )
    lines = [
        "## Refine by colour: precision@10 against the catalogue's `color` column",
        "",
        f"`scripts/bench_refine.py` on `{args.index.name}`: {args.queries} query products per colour word, each "
        f"searched with its own photo vector among the {n_coloured} products that have a `color` value (the query "
        f"itself excluded); the {POOL} nearest products are refined and the first {K} graded: relevant when their "
        f"`color` names the word. Product colours {source}. *Photo colours* uses only the colours of the product "
        "photo; *+ text* also accepts products whose catalogue text names the colour, and the graded `color` "
        "column is part of that text, so that column is an upper bound rather than a fair measure.",
        "",
        "| colour word | share of products | P@10 no refinement | **P@10 photo colours** | P@10 photo colours + text |",
        "|---|---|---|---|---|",
    ]
    for word, base, none, photo, text in rows:
        lines.append(f"| {word} | {base:.3f} | {none:.3f} | **{photo:.3f}** | {text:.3f} |")
    mean = np.mean([r[2:] for r in rows], axis=0)
    lines.append(
        f"| **mean** | {np.mean([r[1] for r in rows]):.3f} | {mean[0]:.3f} | **{mean[1]:.3f}** | {mean[2]:.3f} |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
