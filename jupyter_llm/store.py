"""Saving and loading models: a folder of plain files, written atomically.

A saved model is a folder::

    manifest.json       format id, and the size and sha256 of every other file
    config.json         the ModelConfig
    tokenizer.json      the tokenizer
    metadata.json       corpus fingerprint, sizes, metrics, creation time, versions
    model.weights.h5    the Keras weights (arrays only: no code)

Loading rebuilds the model from ``config.json`` with this package's own code and
then reads the weights: nothing in the folder is ever executed or unpickled.
The manifest's checksums catch truncated or edited files.

A *name* (no path separator, no suffix) lives in the model store,
``$JUPYTER_LLM_HOME/models/NAME``, by default under the user data folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CorruptModelError, ModelExistsError, ModelNotFoundError, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .model.language_model import LanguageModel

FORMAT = "jupyter_llm.model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
WEIGHTS = "model.weights.h5"
_NAME = re.compile(r"^[A-Za-z0-9_\-\u0080-\uffff][A-Za-z0-9_.\-\u0080-\uffff]{0,127}$")


def home() -> Path:
    """The folder of jupyter_llm's data: ``$JUPYTER_LLM_HOME`` or the user data dir."""
    env = os.environ.get("JUPYTER_LLM_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("jupyter_llm", appauthor=False))


def models_dir() -> Path:
    return home() / "models"


def is_name(path_or_name: str | os.PathLike) -> bool:
    """A bare name (``"poems"``) rather than a path (``"./poems"``, ``"out/poems"``)."""
    if isinstance(path_or_name, os.PathLike):
        return False
    return "/" not in path_or_name and os.sep not in path_or_name and bool(_NAME.match(path_or_name)) \
        and path_or_name not in (".", "..")


def bundled_dir() -> Path:
    """The read-only models shipped inside the package."""
    return Path(__file__).resolve().parent / "models"


#: Which of two models of the same name a name means: the bundled one unless the user asks.
PREFER = ("bundled", "user")


def locate(path_or_name: str | os.PathLike, prefer: str = "bundled") -> Path:
    """The folder to read a model from: a path, a bundled model, or a name in the user's store.

    A name that is both a bundled model and one of the user's means the bundled
    one: the defaults stay what the documentation says they are. ``prefer="user"``
    asks for the user's model instead. Either way, a name only one of them has
    means that one.
    """
    if prefer not in PREFER:
        raise invalid("prefer", "'bundled' or 'user'", prefer)
    folder = resolve(path_or_name)
    if isinstance(path_or_name, str) and is_name(path_or_name):
        bundled = bundled_dir() / path_or_name
        if (bundled / MANIFEST).is_file() and (prefer == "bundled" or not folder.exists()):
            return bundled
    return folder


def is_bundled_name(name: Any) -> bool:
    """Whether a model of this name is shipped with jupyter_llm."""
    return isinstance(name, str) and is_name(name) and (bundled_dir() / name / MANIFEST).is_file()


def is_bundled(path_or_name: str | os.PathLike, prefer: str = "bundled") -> bool:
    """Whether ``path_or_name`` (looked up as :func:`locate` does) is a bundled model."""
    return locate(path_or_name, prefer).parent == bundled_dir()


def resolve(path_or_name: str | os.PathLike) -> Path:
    """The folder a path or name refers to for writing (it may not exist yet)."""
    if isinstance(path_or_name, os.PathLike):
        return Path(path_or_name).expanduser()
    if not isinstance(path_or_name, str) or not path_or_name.strip():
        raise invalid("path_or_name", "a model name such as 'poems' or a folder path", path_or_name)
    if is_name(path_or_name):
        return models_dir() / path_or_name
    return Path(path_or_name).expanduser()


def exists(path_or_name: str | os.PathLike) -> bool:
    """Whether the user's store (or the path) holds a model; bundled models do not count."""
    return (resolve(path_or_name) / MANIFEST).is_file()


# === Writing ===

def write_bundle(target: Path, files: dict[str, bytes], overwrite: bool = False) -> Path:
    """Write ``files`` into the folder ``target`` atomically, with a manifest.

    The files go to a temporary sibling folder first, which then takes the
    place of ``target`` by renames, so a crash at any moment leaves either the
    previous version or the new one whole, never a mixture.
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise ModelExistsError(
            f"A model is already saved at '{target}'. Expected a new name or path, or pass overwrite=True to replace it."
        )
    if target.exists() and not (target / MANIFEST).is_file() and any(target.iterdir()):
        raise ModelExistsError(
            f"'{target}' exists and is not a jupyter_llm model. Expected an empty or new folder; refusing to replace it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in files.items()},
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a model folder is as readable as any other
    try:
        for name, data in {**files, MANIFEST: json.dumps(manifest, indent=2).encode()}.items():
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    try:
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        if old is not None and not target.exists():
            os.rename(old, target)  # put the previous version back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _recover(target: Path) -> None:
    """Finish an interrupted replace: if ``target`` is missing but its previous
    version was moved aside (a crash between the two renames), move it back."""
    if target.exists():
        return
    for old in sorted(target.parent.glob(f".{target.name}.old-*")):
        if (old / MANIFEST).is_file():
            os.rename(old, target)
            return


# === Reading ===

def read_bundle(path_or_name: str | os.PathLike, prefer: str = "bundled") -> dict[str, bytes]:
    """Read and verify every file of a saved model (found as :func:`locate` finds it)."""
    folder = locate(path_or_name, prefer)
    if not folder.exists() and folder.parent.is_dir():
        _recover(folder)
    if not folder.exists():
        raise ModelNotFoundError(_not_found_message(path_or_name))
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise CorruptModelError(
            f"'{folder}' is not a jupyter_llm model: it has no {MANIFEST}. Expected a folder written by LanguageModel.save."
        )
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        listed = manifest["files"]
        ok = manifest.get("format") == FORMAT and isinstance(listed, dict)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise CorruptModelError(f"'{folder}' has an unreadable {MANIFEST}. Expected a model written by jupyter_llm.")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise CorruptModelError(
            f"'{folder}' was saved by a newer jupyter_llm (format {manifest['format_version']}). "
            f"Expected format {FORMAT_VERSION} or older; upgrade jupyter_llm to load it."
        )
    files = {}
    for name, info in listed.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise CorruptModelError(f"'{folder}' lists an unexpected file '{name}'. Expected plain file names.")
        p = folder / name
        if not p.is_file():
            raise CorruptModelError(f"'{folder}' is incomplete: '{name}' is missing. Expected every file of its manifest.")
        data = p.read_bytes()
        if len(data) != info.get("size") or hashlib.sha256(data).hexdigest() != info.get("sha256"):
            raise CorruptModelError(
                f"'{folder}/{name}' is truncated or was modified after saving (its checksum does not match). "
                "Expected the file exactly as saved; save the model again."
            )
        files[name] = data
    return files


def json_bytes(value: Any) -> bytes:
    """``value`` as the indented JSON of a model file; numpy scalars and arrays become numbers and lists."""
    return json.dumps(value, indent=2, default=_json_default).encode("utf-8")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays, without importing numpy here
        return value.tolist()
    return str(value)


def read_json(files: dict[str, bytes], name: str, folder: Any) -> dict[str, Any]:
    try:
        value = json.loads(files[name].decode("utf-8"))
    except KeyError:
        raise CorruptModelError(f"'{folder}' has no {name}. Expected a model written by jupyter_llm.") from None
    except (ValueError, UnicodeDecodeError):
        raise CorruptModelError(f"'{folder}/{name}' is not valid JSON. Expected a model written by jupyter_llm.") from None
    if not isinstance(value, dict):
        raise CorruptModelError(f"'{folder}/{name}' does not hold a JSON object. Expected a model written by jupyter_llm.")
    return value


def _not_found_message(path_or_name: Any) -> str:
    if isinstance(path_or_name, str) and is_name(path_or_name):
        names = [m.name for m in list_models()]
        available = ", ".join(repr(n) for n in names) if names else "none yet"
        return (f"No model named '{path_or_name}' in the model store ({models_dir()}). "
                f"Expected one of the saved models: {available}.")
    return f"No model at '{path_or_name}'. Expected a folder saved by LanguageModel.save."


# === Keras weights as bytes ===

def weights_to_bytes(model: Any) -> bytes:
    """A Keras model's weights as the bytes of a ``.weights.h5`` file (arrays only, no code)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, WEIGHTS)
        model.save_weights(path)
        return Path(path).read_bytes()


def load_weights_from(model: Any, files: dict[str, bytes], folder: Any, writer: str) -> None:
    """Read ``files[WEIGHTS]`` into ``model``; a missing or unreadable file is a CorruptModelError."""
    if WEIGHTS not in files:
        raise CorruptModelError(f"'{folder}' has no {WEIGHTS}. Expected a model written by {writer}.")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, WEIGHTS)
        Path(path).write_bytes(files[WEIGHTS])
        try:
            model.load_weights(path)
        except Exception as e:  # h5py/keras raise many types for a bad file
            raise CorruptModelError(
                f"'{folder}/{WEIGHTS}' could not be read as the weights of this model ({type(e).__name__}). "
                "Expected the weights saved with its config."
            ) from None


# === Public API ===

@dataclass(frozen=True)
class ModelInfo:
    """One entry of :func:`list_models`."""

    name: str
    path: Path
    created: str | None
    tokenizer: str | None
    parameters: int | None
    val_loss: float | None
    size_bytes: int
    bundled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path)}


def list_models() -> list[ModelInfo]:
    """The models saved in the user's store, then the bundled ones.

    A user's model may share its name with a bundled one; both are listed (see
    :func:`locate` for which one a name means).
    """
    return _list_folder(models_dir(), bundled=False) + _list_folder(bundled_dir(), bundled=True)


def _list_folder(root: Path, bundled: bool) -> list[ModelInfo]:
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            continue
        try:
            meta = json.loads((folder / "metadata.json").read_text("utf-8"))
        except (OSError, ValueError):
            meta = {}
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        metrics = meta.get("metrics") or {}
        out.append(ModelInfo(folder.name, folder, meta.get("created"), meta.get("tokenizer"),
                             meta.get("parameters"), metrics.get("val_loss"), size, bundled))
    return out


def delete_model(path_or_name: str | os.PathLike) -> None:
    """Delete a saved model (a name in the user's store or a model folder); bundled models are read-only."""
    folder = resolve(path_or_name)
    if not (folder / MANIFEST).is_file():
        if is_bundled_name(path_or_name):
            raise invalid("name", "a model of your own; bundled models are read-only", path_or_name)
        raise ModelNotFoundError(_not_found_message(path_or_name))
    trash = folder.parent / f".{folder.name}.deleted-{uuid.uuid4().hex[:8]}"
    os.replace(folder, trash)  # atomic: the name disappears at once
    shutil.rmtree(trash, ignore_errors=True)


def load(path_or_name: str | os.PathLike, prefer: str = "bundled") -> "LanguageModel":
    """Load a model saved by :meth:`LanguageModel.save`: by name (bundled or saved) or folder path.

    ``prefer="user"`` loads your own model when it has the name of a bundled one
    (by default the bundled one is loaded).
    """
    from .model.language_model import LanguageModel

    return LanguageModel.load(path_or_name, prefer=prefer)
