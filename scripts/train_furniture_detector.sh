#!/usr/bin/env bash
# The furniture detector's whole recipe in one call: synthetic scenes, real-room data, fine-tuning from COCO.
#
#   scripts/train_furniture_detector.sh DATA_DIR                 # 2 CPU cores: about 1 h (the committed model)
#   DEVICE=0 HOURS=0.12 EPOCHS=30 BATCH=64 scripts/train_furniture_detector.sh DATA_DIR   # a lent GPU, <= 8 min
#
# Every step is resumable: existing scenes and room images are kept (delete DATA_DIR/scenes or
# DATA_DIR/detector to remake them), and training resumes its run's last.pt.
# COCO weights: $COCO_WEIGHTS, else ../shared/models/yolov8n-coco.pt (AGPL-3.0; never copied into the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: scripts/train_furniture_detector.sh DATA_DIR}
python=${PYTHON:-.venv/bin/python}
coco=${COCO_WEIGHTS:-../shared/models/yolov8n-coco.pt}
workers=${WORKERS:-$(nproc)}

if [[ ! -f "$data/scenes/data.yaml" ]]; then
  "$python" scripts/synthesize_scenes.py --out "$data/scenes" --n-train "${N_SCENES:-2000}" --n-val 200 \
    --imgsz 640 --seed 0 --workers "$workers"
fi
if [[ ! -f "$data/detector/data.yaml" ]]; then
  "$python" scripts/make_detector_data.py --rooms "${ROOMS:-../shared/data/ikea-rooms}" --scenes "$data/scenes" \
    --coco "$coco" --out "$data/detector" --variants "${VARIANTS:-8}"
fi
"$python" scripts/train_detector.py --data "$data/detector/data.yaml" --weights "$coco" \
  --epochs "${EPOCHS:-8}" --hours "${HOURS:-0.9}" --imgsz "${IMGSZ:-480}" --batch "${BATCH:-16}" --freeze "${FREEZE:-10}" \
  --workers "$workers" --device "${DEVICE:-cpu}" --project "$data/runs" --name furniture-v8n \
  --out "${OUT:-models/furniture-yolov8n.pt}" --plot "${PLOT:-docs/detector-training.png}"
