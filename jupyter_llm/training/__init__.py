"""Training: data pipelines, progress events, the ``train`` function."""
