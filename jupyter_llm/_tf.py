"""TensorFlow and Keras, imported once and without TensorFlow's C++ start-up notices.

Every module of jupyter_llm that needs TensorFlow imports this one first
(``from .. import _tf``), so a notebook's first model cell does not show
"oneDNN custom operations are on ..." and "All log messages before
absl::InitializeLog() ..." in red. ``TF_CPP_MIN_LOG_LEVEL`` cannot silence them:
TensorFlow's C++ core writes them before its logging is set up. So file
descriptor 2 points at a temporary file during the import
(:func:`native_notices_hidden`); lines other than those notices are written back
to stderr, and everything is if the import fails. TensorFlow's INFO logs are off
unless ``TF_CPP_MIN_LOG_LEVEL`` says otherwise; warnings and errors still show.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

__all__ = ["import_tensorflow", "native_notices_hidden", "versions"]

#: Lines TensorFlow's C++ core writes that tell a user nothing they can act on.
_NOTICE = re.compile(
    r"^(I\d{4} |WARNING: All log messages before absl::InitializeLog"
    r"|To enable the following instructions: .* rebuild TensorFlow"
    r"|E\d{4} .*oneDNN supports DT_BOOL only on platforms with AVX-512)"  # masked GRUs, on some CPUs
)


@contextlib.contextmanager
def native_notices_hidden() -> Iterator[None]:
    """Run the block with file descriptor 2 captured, then write back all but the known notices.

    Everything is written back if the block raises.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable descriptor 2: run as is
        yield
        return
    failed = True
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
            failed = False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if failed or not _NOTICE.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def import_tensorflow() -> None:
    """Import TensorFlow (and Keras) if not yet imported, hiding the start-up notices."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    if "tensorflow" in sys.modules:
        return
    with native_notices_hidden():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


def versions() -> dict[str, str]:
    """The versions a saved model records: jupyter_llm, Keras, TensorFlow and Python."""
    import platform

    import keras
    import tensorflow as tf

    from ._version import __version__

    return {"jupyter_llm": __version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "python": platform.python_version()}


import_tensorflow()
