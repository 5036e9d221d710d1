"""The exit waits for background threads inside TensorFlow (jupyter_llm._background)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from jupyter_llm import _background


def test_the_exit_waits_for_kept_threads_and_for_those_they_start():
    done = []

    def second():
        time.sleep(0.3)
        done.append("second")

    def first():
        time.sleep(0.2)
        _background.keep(threading.Thread(target=second, daemon=True)).start()  # started while waited for
        done.append("first")

    _background.keep(threading.Thread(target=first, daemon=True)).start()
    _background.wait_all()
    assert done == ["first", "second"]


def test_the_wait_runs_before_the_interpreter_tears_daemon_threads_down():
    """A daemon thread still working when the script ends finishes its work (it would be cut off)."""
    script = (
        "import threading, time\n"
        "from jupyter_llm import _background\n"
        "def work():\n"
        "    time.sleep(0.5)\n"
        "    print('finished', flush=True)\n"
        "_background.keep(threading.Thread(target=work, daemon=True)).start()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "finished", done
