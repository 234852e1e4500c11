#!/usr/bin/env bash
# Compare embedding methods on the same queries: build one index per method and catalogue, run
# scripts/benchmark.py on each, and write the comparison table into docs/BENCHMARKS.md.
#   scripts/bench_embeddings.sh WEIGHTS WORKDIR [METHODS...]
# WORKDIR gets the indexes and JSON results; query sets come from scripts/make_queries.py.
set -euo pipefail
cd "$(dirname "$0")/.."
weights=$1 work=$2; shift 2
methods=${*:-yolo-roi yolo-roi-level yolo-native yolo-crop effnet-crop color-hist}
py=${PYTHON:-.venv/bin/python}
data=${LOOKALIKE_DATA:-../shared/data}
mkdir -p "$work/results"
[[ -f "$work/queries-catalog/queries.json" ]] || $py scripts/make_queries.py --images "$data/ikea-catalog" \
  --products "$data/ikea-catalog/products.csv" --out "$work/queries-catalog" --n 300 --seed 1234
for method in $methods; do
  $py scripts/build_catalog.py --images "$data/ikea-catalog" --products "$data/ikea-catalog/products.csv" \
    --out "$work/index-catalog-$method" --weights "$weights" --embedding "$method" --quiet
  $py scripts/benchmark.py --index "$work/index-catalog-$method" --queries "$work/queries-catalog" \
    --json "$work/results/queries-$method.json"
done
for method in ${ROOM_METHODS:-yolo-roi effnet-crop color-hist}; do
  $py scripts/build_catalog.py --images "$data/ikea-rooms" --products "$data/ikea-rooms/products.csv" \
    --out "$work/index-rooms-$method" --weights "$weights" --embedding "$method" --quiet
  $py scripts/benchmark.py --index "$work/index-rooms-$method" --rooms "$data/ikea-rooms" \
    --json "$work/results/rooms-$method.json"
done
$py scripts/benchmark.py --table "$work"/results/*.json --doc docs/BENCHMARKS.md --section retrieval
