"""The furniture detector: its training data and its training runs."""
