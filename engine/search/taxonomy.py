"""Coarse detector classes for catalogue product categories.

Why a handful of coarse classes rather than one class-agnostic "product" class,
or the ~400 fine-grained catalogue types?

* The detector is trained only on synthetic copy-paste scenes, so it must learn
  "what a piece of furniture looks like" from cut-outs.  Sharing one "product"
  class across sofas, rugs and mugs forces a single head to cover wildly
  different shapes and scales, and gives the app no label to show or filter on.
* Fine-grained types ("Chest of 4 drawers" vs "Chest of 5 drawers") are not
  visually separable and most have one or two photos; that is the retrieval
  model's job, not the detector's.
* About a dozen visually coherent groups (sofa, chair, table, bed, storage,
  lamp, rug, textile, decor, kitchenware, fixture, toy) are learnable from a few
  thousand photos, give useful labels in the UI, and let retrieval be restricted
  to the detected group.  The retrieval index can still ignore the class and
  search everything, so a wrong class is not fatal.

``other`` collects the small remainder (hardware such as handles, hooks and
rails, outdoor structures, cables) and uncategorised rows.

Rules are checked in order and the first match wins, so specific phrases
("table lamp", "mirror cabinet", "bed storage box") come before the generic
words they contain.  Keywords are regular expressions matched on word
boundaries with an optional plural "s"/"es".  ``python -m engine.search.taxonomy``
prints how every category of the catalogues maps.
"""

from __future__ import annotations

import re
from functools import lru_cache

CLASSES: list[str] = [
    "sofa",
    "chair",
    "table",
    "bed",
    "storage",
    "lamp",
    "rug",
    "textile",
    "decor",
    "kitchenware",
    "fixture",
    "toy",
    "other",
]

_TOYS = (
    r"toy|game|play\w*|train set|building blocks|puppet|rattle|costume|crane"
    r"|dice|juggling set|shape sorter|bead roller coaster|toddle truck|cone"
    r"|baby gym|balancing bench|swing|easel|coloured pencil|felt-tip pen"
    r"|stamp pen|watercolour box|fluorescent,glitter paint|paint,draw storage"
    r"|drawing paper roll|doll\W*s \w+|mini-kitchen|children's tent|bed tent"
    r"|vegetables set|fruit basket set|cupcakes set|cookware set|soft toy"
)

# (class, keyword regex alternatives); order matters, first match wins.
_RULES: list[tuple[str, str]] = [
    ("decor", r"mirror with hooks and suction cup|mirror with integrated lighting"),
    ("decor", r"frame with led lighting|table mirror\b.*|flower box"),
    ("storage", r"mirror cab\w*|trunk for toys|toy storage|stor baskets"),
    ("storage", r"tv bench\b.*|storage combination with bench|dresser"),
    ("storage", r"desk organiser|wall upright\S*|post,foot,mesh basket"),
    ("chair", r"desk chair|armchair with cushion"),
    ("kitchenware", r"bathroom set"),
    ("other", r"curtain rod|curtain ring|finials|cord set|power supply cord"),
    ("other", r"towel (?:hanger|rail|rack|holder)\S*|towel rack chair|door tag"),
    ("other", r"hanger\S*|hook|s-hook|rack with \d+ hooks|knob rack|knob hanger"),
    ("other", r"leg frame|supporting leg|hanging dryer|tablet stand"),
    ("other", r"pad for wireless charging|cable trunking|peg basket|drying rack"),
    ("other", r"ironing ?board|ironingboard|post,foot\S*"),
    ("toy", _TOYS),
    ("lamp", r"lamp|lamp shade|light|lighting|spotlight|chandelier|downlighter"),
    ("lamp", r"ceiling track|led \w+"),
    ("sofa", r"sofa|sofa-bed|chaise longue|seat module|conversation set"),
    ("textile", r"cushion|cushion cover|cushion pad|chair pad|bench pad|throw"),
    ("textile", r"curtain|blind|quilt|duvet|pillow|pillowcase|bedspread|sheet"),
    ("textile", r"bedlinen|bed canopy|canopy|cot skirt|bed runner|bed pocket"),
    ("textile", r"towel|bath sheet|washcloth|fabric|apron|sleeping bag|muslin"),
    ("textile", r"blanket|cover two-seat sofa|bench cover|stool cover|tea towel"),
    ("rug", r"rug|bath mat|door mat|babycare mat|gym mat|cow hide|sheepskin"),
    ("storage", r"bedside table|bed storage box|underbed"),
    ("storage", r"changing table\S*|storage table|storage bench|wash-?stand"),
    ("storage", r"wsh-stnd|wash-?basin cabinet|high cabinet|glass-door cabinet"),
    ("storage", r"bench with shoe storage"),
    ("table", r"table|desk|workstation|work bench|trestle|kitchen island"),
    ("table", r"desk top|potting bench|standing laptop station"),
    ("chair", r"chair|armchair|stool|bench|footstool|pouffe|highchair"),
    ("chair", r"rocking-chair|chair with long cover"),
    ("bed", r"bed|bed frame|bunk bed|loft bed|day-bed|cot|mattress|headboard"),
    ("bed", r"bed frm|ext bed frame|divan bed|reversible bed"),
    ("decor", r"frame with led lighting|table mirror|standing mirror|mirror"),
    ("decor", r"over-the-door mirror|glass dome with base|vase|vase,\w+"),
    ("fixture", r"oven|hob|fridge|fridge,freezer|microwave|extractor hood"),
    ("fixture", r"sink|sink bowl|wash-basin|single wash-basin|mixer tap|tap"),
    ("fixture", r"barbecue|toilet seat|worktop|coffee,tea maker"),
    ("storage", r"wardrobe|chest|cabinet|shelf|shelving|shelves|bookcase"),
    ("storage", r"sideboard|tv bench|drawer|drawer front|drawer unit|bureau"),
    ("storage", r"storage|sections?|unit|open storage|door|glass door"),
    ("storage", r"insert with door|box|basket|bin|crate|trolley|magazine file"),
    ("storage", r"clothes rack|clothes stand|clothes bar|hat rack|valet stand"),
    ("storage", r"hat and coat stand|newspaper rack|picture ledge|wall pockets"),
    ("storage", r"hanging shoe organiser|storage bag|case|desk organiser"),
    ("storage", r"container set with rail|book display|pull-out tray"),
    ("decor", r"frame|picture|poster|art card|clock|alarm clock|plant"),
    ("decor", r"potted plant|plant pot|planter|flower box|candle|candle holder"),
    ("decor", r"candlestick|tealight holder|lantern|decoration|mobile"),
    ("decor", r"noticeboard|writing,magnetic board|clipboard|watering can"),
    ("kitchenware", r"bowl|plate|deep plate|side plate|glass|mug|cup|cutlery"),
    ("kitchenware", r"knife|fork|spoon|whisk|pot|saucepan|casserole|stockpot"),
    ("kitchenware", r"jug|carafe|teapot|jar|tray|chopping board|coaster"),
    ("kitchenware", r"place mat|serving \w+|spice mill|pestle and mortar"),
    ("kitchenware", r"shaker|oil,vinegar set|coffee,tea set|utensil set"),
    ("kitchenware", r"dish drainer|container|holder for containers|bottle"),
    ("kitchenware", r"holder with containers|knife rack|training beaker"),
    ("kitchenware", r"espresso maker|paper napkin|detergent dispenser"),
    ("kitchenware", r"soap dish|soap dispenser|toothbrush holder|toilet brush"),
    ("other", r"handle|knob|hook|s-hook|rail|bracket|leg|hanger|leg frame"),
    ("other", r"gazebo|greenhouse|parasol|floor decking|trellis|stepladder"),
    ("other", r"toilet roll holder|toilet roll stand|baby bath|shoehorn"),
    ("other", r"window catch|wood stain|cleaning set|paper|cover|wall panel"),
]

_COMPILED = [(cls, re.compile(r"(?<!\w)(?:" + pattern + r")(?:s|es)?(?!\w)")) for cls, pattern in _RULES]


def match_rule(category: str) -> str | None:
    """Return the class of the first rule matching ``category``, or None."""
    text = category.strip().lower()
    for cls, pattern in _COMPILED:
        if pattern.search(text):
            return cls
    return None


@lru_cache(maxsize=4096)
def coarse_class(category: str) -> str:
    """Map a catalogue category (any catalogue) to one of ``CLASSES``."""
    return match_rule(category) or "other"


def class_id(category: str) -> int:
    """Index in ``CLASSES`` of the coarse class of ``category``."""
    return CLASSES.index(coarse_class(category))


def _print_mapping(csv_paths: list[str]) -> None:
    """Print each class's categories (with counts) and any unmatched categories."""
    import csv
    from collections import Counter

    counts: Counter[str] = Counter()
    for path in csv_paths:
        with open(path, newline="", encoding="utf-8") as f:
            counts.update(row["category"] for row in csv.DictReader(f) if row.get("category"))
    groups: dict[str | None, list[str]] = {}
    for category in sorted(counts):
        groups.setdefault(match_rule(category), []).append(f"{category} ({counts[category]})")
    for cls in [*CLASSES, None]:
        items = groups.get(cls, [])
        total = sum(counts[i.rsplit(" (", 1)[0]] for i in items)
        print(f"{cls or 'UNMATCHED'}: {total} products, {len(items)} categories")
        print("    " + "; ".join(items))


if __name__ == "__main__":
    import sys
    from pathlib import Path

    _shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    _print_mapping(sys.argv[1:] or [str(_shared / c / "products.csv") for c in ("ikea-catalog", "ikea-rooms")])
