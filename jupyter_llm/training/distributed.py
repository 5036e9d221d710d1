"""Training under a ``tf.distribute`` strategy, across processes and machines.

``jl.train(..., strategy=...)`` takes a strategy object, ``"mirrored"`` (the
devices of this process), ``"multi-worker"`` (``MultiWorkerMirroredStrategy``
with the cluster of ``TF_CONFIG``, or of Slurm when ``TF_CONFIG`` is not set) or
a ``tf.distribute.cluster_resolver.ClusterResolver`` (Kubernetes, GCE, Slurm, as
TensorFlow provides them). :func:`resolve` turns it into a :class:`Cluster`: the
strategy and this process's place in it.

What multi-worker training changes, and where:

* **Writes.** Only the chief (the ``chief`` task, else worker 0) saves the
  model, its checkpoints, TensorBoard logs, the backup and the run history; the
  other workers write their checkpoints and logs to temporary folders that they
  remove (:meth:`Cluster.private_dir`).
* **Data.** Each worker trains on its own shard of the text
  (:meth:`~jupyter_llm.text.sources.TextSource.shard`) with its share of the
  global batch; every worker makes the same number of steps (:meth:`Cluster.agree_min`).
* **Decisions.** Every worker must stop at the same step, or the others wait for
  it forever: the loss and the validation loss are the same on every worker (the
  weights are), and a stop on a worker's own clock or event is agreed on
  (:meth:`Cluster.any`).
* **Keras.** Keras 3.15's ``fit`` under ``MultiWorkerMirroredStrategy`` fails
  twice (reducing the first data batch, a tuple of per-replica values, and each
  step's scalar logs along axis 0); :func:`adapt_model` works around both, for
  this strategy only.

The batch size is global: ``batch_size=64`` on two workers trains on 32
windows per worker per step, so a run's steps, learning rate and loss mean the
same on one process or many, and the learning rate is never scaled.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _tf  # noqa: F401  (first: TensorFlow without its start-up notices)
import tensorflow as tf

from ..errors import InvalidArgumentError, invalid

#: What ``strategy=`` accepts besides a strategy or a cluster resolver.
STRATEGY_NAMES = ("mirrored", "multi-worker")

_EXPECTED = ("None, 'mirrored', 'multi-worker', a tf.distribute.Strategy or a "
             "tf.distribute.cluster_resolver.ClusterResolver")

#: One MultiWorkerMirroredStrategy per process: TensorFlow configures its collectives once.
_MULTI_WORKER: dict[str, Any] = {}


@dataclass
class Cluster:
    """A strategy and this process's place in it (one worker of one, for a single process)."""

    strategy: Any
    workers: int = 1
    index: int = 0
    is_chief: bool = True
    replicas: int = 1  # in sync, over every worker
    _temp: list[str] = field(default_factory=list)
    _all_reduce: Any = None

    @property
    def multi_worker(self) -> bool:
        return self.workers > 1

    @property
    def local_replicas(self) -> int:
        return max(1, self.replicas // self.workers)

    def describe(self) -> dict[str, Any]:
        """For the model's metadata: how it was trained."""
        return {"strategy": type(self.strategy).__name__ if self.strategy is not None else None,
                "workers": self.workers, "replicas": self.replicas}

    # === Agreement between workers (no-ops in one process) ===

    def agree_min(self, value: int) -> int:
        """The least of every worker's ``value`` (each worker gets the same answer)."""
        if not self.multi_worker:
            return int(value)
        return int(min(self._gather(int(value))))

    def any(self, flag: bool) -> bool:
        """Whether any worker's ``flag`` is set."""
        if not self.multi_worker:
            return bool(flag)
        return max(self._gather(int(bool(flag)))) > 0

    def _gather(self, value: int) -> list[int]:
        """Every worker's ``value``, by one all-reduce of one-hot rows (a collective every worker must join)."""
        row = [0.0] * self.workers
        row[self.index] = float(value) / self.local_replicas  # each local replica adds its share
        if self._all_reduce is None:
            strategy = self.strategy

            @tf.function
            def all_reduce(mine):
                return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(tf.identity, args=(mine,)),
                                       axis=None)

            self._all_reduce = all_reduce
        summed = self._all_reduce(tf.constant(row, tf.float64))
        return [int(round(v)) for v in summed.numpy().tolist()]

    # === Where a worker writes ===

    def private_dir(self, path: str | os.PathLike | None, what: str) -> Path | None:
        """``path`` for the chief; a temporary folder for any other worker (removed by :meth:`cleanup`)."""
        if path is None or self.is_chief:
            return Path(path) if path is not None else None
        folder = tempfile.mkdtemp(prefix=f"jupyter-llm-worker{self.index}-{what}-")
        self._temp.append(folder)
        return Path(folder)

    def cleanup(self) -> None:
        for folder in self._temp:
            shutil.rmtree(folder, ignore_errors=True)
        self._temp.clear()


def resolve(strategy: Any) -> Cluster | None:
    """The :class:`Cluster` of ``strategy`` (None: no strategy); one sentence for anything else."""
    if strategy is None:
        return None
    if isinstance(strategy, str):
        key = strategy.strip().lower().replace("_", "-")
        if key == "mirrored":
            strategy = tf.distribute.MirroredStrategy()
        elif key in ("multi-worker", "multiworker"):
            strategy = _multi_worker(None)
        else:
            raise invalid("strategy", _EXPECTED, strategy)
    elif isinstance(strategy, tf.distribute.cluster_resolver.ClusterResolver):
        strategy = _multi_worker(strategy)
    elif not isinstance(strategy, tf.distribute.Strategy):
        raise invalid("strategy", _EXPECTED, type(strategy).__name__)
    return _cluster_of(strategy)


def _cluster_of(strategy: Any) -> Cluster:
    replicas = int(strategy.num_replicas_in_sync)
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return Cluster(strategy, replicas=replicas)
    spec = resolver.cluster_spec().as_dict()
    workers = sum(len(spec.get(kind, [])) for kind in ("chief", "worker"))
    task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
    is_chief = task_type == "chief" or (task_type == "worker" and task_id == 0 and "chief" not in spec)
    index = task_id + (len(spec.get("chief", [])) if task_type == "worker" else 0)
    return Cluster(strategy, workers=max(1, workers), index=index, is_chief=is_chief or workers <= 1,
                   replicas=replicas)


def _multi_worker(resolver: Any) -> Any:
    """This process's MultiWorkerMirroredStrategy (made once: TensorFlow sets up its collectives once)."""
    if resolver is None:
        resolver = _default_resolver()
    key = json.dumps(resolver.cluster_spec().as_dict(), sort_keys=True) + f"{resolver.task_type}:{resolver.task_id}"
    if key in _MULTI_WORKER:
        return _MULTI_WORKER[key]
    if _MULTI_WORKER:
        raise InvalidArgumentError(
            "This process already trains in another multi-worker cluster. Expected the same cluster for every "
            "multi-worker run of a process (TensorFlow sets up its collectives once); start a new process.")
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    except (RuntimeError, ValueError) as e:
        raise InvalidArgumentError(
            "Multi-worker training must be set up before TensorFlow runs anything in this process, and this "
            f"one has already used it ({e}). Expected a fresh process: start the run with `jupyter-llm train "
            "--workers N`, `%llm train --workers N` or jl.train(..., workers=N), which start fresh worker "
            "processes, or call jl.train(strategy='multi-worker') first thing in each worker's script.") from None
    _MULTI_WORKER[key] = strategy
    return strategy


def _default_resolver() -> Any:
    """The cluster of ``TF_CONFIG``; without it, Slurm's (inside a Slurm job); else one sentence."""
    resolvers = tf.distribute.cluster_resolver
    if os.environ.get("TF_CONFIG"):
        try:
            config = json.loads(os.environ["TF_CONFIG"])
        except ValueError:
            raise invalid("TF_CONFIG", "a JSON object with 'cluster' and 'task'", os.environ["TF_CONFIG"][:80]) from None
        if not isinstance(config, dict) or "cluster" not in config or "task" not in config:
            raise invalid("TF_CONFIG", "a JSON object with 'cluster' and 'task'", os.environ["TF_CONFIG"][:80])
        return resolvers.TFConfigClusterResolver()
    if os.environ.get("SLURM_JOB_ID") and os.environ.get("SLURM_PROCID") is not None:
        try:
            return resolvers.SlurmClusterResolver()
        except (OSError, ValueError, RuntimeError) as e:  # e.g. no nvidia-smi on a CPU node
            raise invalid("strategy", "a cluster resolver made for these nodes, as Slurm's default one failed "
                          f"here ({e}): for CPU nodes pass strategy=tf.distribute.cluster_resolver."
                          "SlurmClusterResolver(gpus_per_node=1, gpus_per_task=1, auto_set_gpu=False), or set "
                          "TF_CONFIG", "'multi-worker' in a Slurm job") from None
    raise invalid("strategy", "'multi-worker' with a cluster to train in: TF_CONFIG set in every worker's "
                  "environment, a Slurm job, or a cluster resolver as strategy= (or workers=N to start N "
                  "local workers)", "'multi-worker' with no TF_CONFIG")


def adapt_model(model: Any, cluster: Cluster, seq_len: int) -> None:
    """Let Keras 3.15's ``fit`` run under MultiWorkerMirroredStrategy (two workarounds; nothing else changes).

    1. ``fit`` builds the model, its loss and metrics from its first data batch by averaging it across
       the workers (``strategy.reduce("MEAN", (x, y))``), which fails on a tuple: the model is built here
       from the batch's shape instead, and ``fit``'s own build is skipped.
    2. ``fit`` averages each step's logs with ``strategy.reduce("MEAN", value, axis=0)``, which fails on a
       scalar: the train step returns each log as a one-element vector, averaged to the same scalar.
    """
    if not cluster.multi_worker:
        return
    spec = tf.zeros([2, seq_len], tf.int32)
    with cluster.strategy.scope():
        model._symbolic_build(data_batch=(spec, spec))
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    model._maybe_symbolic_build = lambda *args, **kwargs: None
    step = model.train_step
    model.train_step = lambda data: {k: tf.reshape(v, [1]) for k, v in step(data).items()}
