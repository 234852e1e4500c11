"""Ultralytics YOLO wrapper: one forward pass gives the detections and the feature maps feeding the Detect head."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.detection.backbones import register_yolo_modules
from engine.detection.labels import display_labels
from engine.detection.replicas import ReplicaPool
from engine.files import file_sha256
from engine.geometry import PAD_VALUE, Letterbox, apply_letterbox, plan_letterbox
from engine.pretrained import InputContract

YOLO_INPUT = {"channels": "RGB", "letterbox_pad": PAD_VALUE}  # Ultralytics' own preprocessing, beside the contract
RANDOM_INIT_SEED = 0  # a .yaml builds random weights; seeding makes them the same in every process


@dataclass(frozen=True)
class DetectorConfig:
    """Inference settings; recorded in the index manifest."""

    imgsz: int = 640
    conf: float = 0.25
    iou: float = 0.7
    max_det: int = 50


@dataclass
class Detection:
    """One detected object, in original-image pixels."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    class_name: str
    confidence: float


@dataclass
class Analysis:
    """Everything one forward pass yields for one image."""

    detections: list[Detection]
    feature_maps: list[torch.Tensor]  # per level: (C_l, H_l, W_l)
    strides: list[float]  # per level, input pixels per cell
    letterbox: Letterbox
    image: Image.Image | None = None  # the source photo, for crop-based embedders


def weights_fingerprint(weights: str | Path) -> str:
    """sha256 of a checkpoint file; for a model yaml, of its name, parsed content and init seed."""
    if not is_model_yaml(weights):
        return file_sha256(weights)
    from ultralytics.nn.tasks import yaml_model_load

    spec = json.dumps(yaml_model_load(str(weights)), sort_keys=True, default=str)
    return hashlib.sha256(f"{Path(weights).name}|seed={RANDOM_INIT_SEED}|{spec}".encode()).hexdigest()


def is_model_yaml(weights: str | Path) -> bool:
    """True for an architecture file (random weights) rather than a checkpoint."""
    return str(weights).endswith((".yaml", ".yml"))


@contextlib.contextmanager
def _safe_unpickling():
    """Ultralytics' restricted loading while a checkpoint loads: `torch.load(weights_only=True)` against its
    allow-list of model classes, so a checkpoint's pickle cannot run code (the flag is restored afterwards)."""
    from ultralytics.nn import tasks

    with _SAFE_LOAD_LOCK:
        before, tasks.SAFE_LOAD = tasks.SAFE_LOAD, True
        try:
            yield
        finally:
            tasks.SAFE_LOAD = before


_SAFE_LOAD_LOCK = threading.Lock()
PROJECT_LAYER_MODULES = ("engine.detection.backbones", "timm.")  # the EfficientNet-Lite backbone and its timm parts


def _allow_project_layers(weights: str | Path) -> None:
    """Add the layer classes of the project's own backbone (and the timm modules inside it) that a checkpoint names
    to the restricted loader's allow-list: `nn.Module` subclasses only, so no function or other global gets in."""
    if not Path(weights).is_file():
        return
    try:
        needed = torch.serialization.get_unsafe_globals_in_checkpoint(str(weights))
    except (ValueError, RuntimeError):
        return  # not a torch.save zip: the load itself reports it
    allowed = []
    for name in needed:
        module, _, attr = name.rpartition(".")
        if module.startswith(PROJECT_LAYER_MODULES):
            layer = getattr(importlib.import_module(module), attr, None)
            if isinstance(layer, type) and issubclass(layer, torch.nn.Module):
                allowed.append(layer)
    if allowed:
        torch.serialization.add_safe_globals(allowed)


def _open_checkpoint(weights: str | Path):
    """YOLO(weights) loaded safely (`_safe_unpickling`), with a clear message when the file is missing, cannot be
    downloaded, or holds anything but known model classes."""
    from ultralytics import YOLO

    try:
        with _safe_unpickling():
            _allow_project_layers(weights)
            return YOLO(str(weights))  # official names such as yolo11n.pt download when online
    except TypeError as err:  # Ultralytics: a damaged file, or types outside its allow-list
        raise ValueError(f"Detector weights '{weights}' were refused: {err}") from err
    except (FileNotFoundError, ConnectionError, OSError) as err:
        raise FileNotFoundError(
            f"Detector weights '{weights}' could not be loaded ({err}). Offline, use the project's detector in "
            f"models/ or a model yaml such as 'yolo11n.yaml' (random weights); online, 'yolo11n.pt' downloads."
        ) from err


class Detector:
    """A YOLO detection model in eval mode on the CPU (or `device`), with a hook on the Detect head inputs.

    `replicas` copies of the model serve concurrent forwards, each with its own lock and captured maps
    (`engine.detection.replicas`); the served engine keeps `engine.settings.detector_replicas()` of them.
    """

    def __init__(
        self, weights: str | Path = "yolo11n.yaml", config: DetectorConfig | None = None, device="cpu", replicas=1
    ):
        from ultralytics import YOLO

        register_yolo_modules()  # a yaml or checkpoint may use the EfficientNet-Lite0 backbone
        self.config = config or DetectorConfig()
        self.device = torch.device(device)
        self.weights_name = str(weights)
        if is_model_yaml(weights):
            with torch.random.fork_rng():
                torch.manual_seed(RANDOM_INIT_SEED)
                model = YOLO(str(weights)).model
            self.weights_path = Path(weights)
        else:
            yolo = _open_checkpoint(weights)
            model, self.weights_path = yolo.model, Path(yolo.ckpt_path or weights).resolve()
        if not hasattr(model.model[-1], "stride"):
            raise ValueError(f"'{weights}' is not a detection model.")
        self.weights_sha256 = weights_fingerprint(weights if is_model_yaml(weights) else self.weights_path)
        self.model = model.fuse(verbose=False).eval().to(self.device)
        self.names: dict[int, str] = dict(self.model.names)
        self.labels = display_labels(self.names)  # class id -> shown label; a COCO model keeps its furniture only
        self.head = self.model.model[-1]
        self.strides = [float(s) for s in self.model.stride]
        self.channels = tuple(int(branch[0].conv.in_channels) for branch in self.head.cv2)  # C_l per level
        self._pool = ReplicaPool(self.model, replicas)  # shared by every app session; `replicas` model copies

    @torch.inference_mode()
    def analyse(self, images: list[Image.Image], square: bool = False, imgsz: int | None = None) -> list[Analysis]:
        """Detect objects in RGB images and return their detections plus feature maps, one forward pass.

        Images in one call are letterboxed to a common input size (square when `square` or when sizes differ);
        `imgsz` overrides the configured input size (the catalogue builder uses a smaller one).
        """
        imgsz, stride = imgsz or self.config.imgsz, int(max(self.strides))
        same = len({im.size for im in images}) == 1
        plans = [plan_letterbox(im.size, imgsz, stride, square=square or not same) for im in images]
        batch = np.stack([apply_letterbox(im, plan) for im, plan in zip(images, plans)])  # (B, H, W, 3)
        tensor = torch.from_numpy(batch).to(self.device).permute(0, 3, 1, 2).float().div_(255.0)  # (B, 3, H, W)
        raw, maps = self.forward(self.contract.normalise(tensor))
        kept = self._nms(raw)
        results = []
        for i, plan in enumerate(plans):
            detections = self._to_detections(kept[i], plan)
            results.append(Analysis(detections, [level[i] for level in maps], self.strides, plan, images[i]))
        return results

    @property
    def contract(self) -> InputContract:
        """Ultralytics YOLO's input: RGB letterboxed with grey, scaled to [0, 1], no mean/std (bilinear resize)."""
        return InputContract((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), self.config.imgsz, "bilinear")

    def describe_input(self) -> dict:
        """What an index records about the detector's input contract."""
        return self.contract.to_dict() | YOLO_INPUT

    @torch.inference_mode()
    def forward(self, tensor: torch.Tensor) -> tuple:
        """(B, 3, H, W) in [0, 1] -> (raw head output, per-level (B, C_l, H/s, W/s) Detect-head inputs)."""
        return self._pool.forward(tensor)

    def _nms(self, raw) -> list[torch.Tensor]:
        """Non-maximum suppression (or top-k for end-to-end heads) -> per image (N, 6) xyxy, conf, cls."""
        from ultralytics.utils.nms import non_max_suppression

        cfg = self.config
        end2end = bool(getattr(self.head, "end2end", False))
        kept = sorted(self.labels) if len(self.labels) < len(self.names) else None  # filtered before NMS
        return non_max_suppression(
            raw, cfg.conf, cfg.iou, classes=kept, max_det=cfg.max_det, nc=len(self.names), end2end=end2end
        )

    def _to_detections(self, rows: torch.Tensor, plan: Letterbox) -> list[Detection]:
        """Map network-input boxes back to source pixels, dropping degenerate ones."""
        rows = rows.cpu().numpy()
        boxes = plan.to_source(rows[:, :4])
        out = []
        for box, conf, cls in zip(boxes, rows[:, 4], rows[:, 5]):
            if box[2] - box[0] >= 2 and box[3] - box[1] >= 2:
                out.append(Detection(tuple(float(v) for v in box), self.labels[int(cls)], float(conf)))
        return out
