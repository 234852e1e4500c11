"""Fine-tuning the last stages of the crop network (EfficientNet-Lite0) together with the head, on cached maps."""
