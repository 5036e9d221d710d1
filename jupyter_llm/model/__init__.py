"""Keras layers and the :class:`LanguageModel` (imports TensorFlow)."""
