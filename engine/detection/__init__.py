"""Detection: one YOLO forward pass gives the boxes and the feature maps that feed the Detect head.

detector = Detector(DetectorConfig(weights="models/furniture-yolov8n.pt"))
analysis = detector.analyse(image)        # analysis.detections, analysis.feature_maps, analysis.letterbox
"""

from engine.detection.detector import Analysis, Detection, Detector, DetectorConfig, is_model_yaml, weights_fingerprint
from engine.detection.distinct import distinct_detections
from engine.detection.labels import display_labels

__all__ = [
    "Analysis",
    "Detection",
    "Detector",
    "DetectorConfig",
    "display_labels",
    "distinct_detections",
    "is_model_yaml",
    "weights_fingerprint",
]
