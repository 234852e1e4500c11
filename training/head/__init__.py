"""The embedding head: training views, losses, training runs."""
