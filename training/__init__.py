"""Training and evaluation, apart from serving: synthetic data, the detector, the embedding head, the benchmark."""
