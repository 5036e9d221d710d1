"""Rich displays: mime bundles and static HTML renderings (no TensorFlow)."""
