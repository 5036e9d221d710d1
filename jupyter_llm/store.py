"""The model store: bundles of plain files, written atomically; names, listing, locks.

This is persistence only: it never imports the model class. Turning a bundle
into a model is :meth:`LanguageModel.load` (``jl.load``); writing one is
:meth:`LanguageModel.save`, which hands this module the files.

A saved model is a folder::

    manifest.json       format id, and the size and sha256 of every other file
    config.json         the ModelConfig
    tokenizer.json      the tokenizer
    metadata.json       corpus fingerprint, sizes, metrics, creation time, versions
    model.weights.h5    the Keras weights (arrays only: no code)
    copied.json, .npy   the copied-text index of the training text, if kept (jupyter_llm.model.copied)
    copied.json, .npy   the copied-text index of the training text, if kept (jupyter_llm.model.copied)

Loading rebuilds the model from ``config.json`` with this package's own code and
then reads the weights: nothing in the folder is ever executed or unpickled.
The manifest's checksums catch truncated or edited files.

A *name* (no path separator, no suffix) lives in the model store,
``$JUPYTER_LLM_HOME/models/NAME``, by default under the user data folder. A
string without a path separator is always taken as a name, and must follow the
rule of :func:`name_problem` (one folder name that every common file system
accepts); anything else is refused, never written elsewhere.

Writers of one model folder are serialised by a per-folder lock file under
``$JUPYTER_LLM_HOME/locks`` (:func:`name_lock`, a ``filelock.FileLock``: an OS
lock that a killed process releases at once).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .errors import CorruptModelError, ModelExistsError, ModelNotFoundError, invalid

FORMAT = "jupyter_llm.model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
WEIGHTS = "model.weights.h5"

# === Names ===

#: The longest name, in UTF-8 bytes. File systems allow 255 bytes (ext4, ZFS) or 255 UTF-16 units
#: (NTFS, APFS) per folder name; 128 leaves room for the store's ``.NAME.deleted-xxxxxxxx`` siblings.
MAX_NAME_BYTES = 128
#: Characters Windows refuses in a file name ('/' is refused everywhere).
_FORBIDDEN = frozenset('<>:"/\\|?*')
#: Device names Windows reserves, with or without an extension (``nul.txt`` too).
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))})
#: The rule, as the error messages state it.
NAME_RULE = (f"a model name of 1 to {MAX_NAME_BYTES} UTF-8 bytes made of letters, digits, '_', '-' and '.', "
             "neither starting nor ending with '.', and not a Windows device name such as 'CON' or 'NUL'")


def name_problem(name: Any) -> str | None:
    """Why ``name`` cannot name a model in the store, or None if it can (the one rule for names).

    >>> name_problem("poems") is None, name_problem("con")
    (True, "'CON' is a device name on Windows")
    """
    if not isinstance(name, str) or not name:
        return "it is not a non-empty string"
    for ch in name:
        if ch in _FORBIDDEN or ch in " \t" or unicodedata.category(ch)[0] in "CZ":
            return f"it contains {ch!r}"  # controls, surrogates, unassigned, spaces, Windows' reserved characters
        if ch.isascii() and not (ch.isalnum() or ch in "_-."):
            return f"it contains {ch!r}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"it is {len(name.encode('utf-8'))} bytes long"
    if name.startswith(".") or name.endswith("."):
        return "it starts or ends with '.'"
    if name.split(".")[0].upper() in _RESERVED:
        return f"'{name.split('.')[0].upper()}' is a device name on Windows"
    return None


def _looks_like_name(value: str) -> bool:
    """Whether a string is meant as a name (it has no path separator and is not '.', '..' or '~...')."""
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return not any(sep in value for sep in seps) and value not in (".", "..") and not value.startswith("~")


def _check_path(path: Path, value: Any) -> Path:
    """``path`` if the operating system can use it: no NUL, every part at most 255 bytes."""
    try:
        parts = [os.fsencode(part) for part in path.parts]
    except UnicodeEncodeError:
        parts = None
    if parts is None or any(b"\0" in part or len(part) > 255 for part in parts):
        raise invalid("path_or_name", "a folder path without NUL characters or unencodable characters, "
                      "each part at most 255 bytes", value)
    return path


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
    """A valid bare name (``"poems"``) rather than a path (``"./poems"``, ``"out/poems"``)."""
    return isinstance(path_or_name, str) and name_problem(path_or_name) is None


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
    means that one. A key of the listing names one of them exactly:
    ``"saved:NAME"`` or ``"bundled:NAME"``.
    """
    if prefer not in PREFER:
        raise invalid("prefer", "'bundled' or 'user'", prefer)
    if isinstance(path_or_name, str):
        origin, sep, name = path_or_name.partition(":")
        if sep and origin in ("saved", "bundled") and is_name(name):
            return (bundled_dir() if origin == "bundled" else models_dir()) / name
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
        return _check_path(Path(path_or_name).expanduser(), path_or_name)
    if not isinstance(path_or_name, str) or not path_or_name.strip():
        raise invalid("path_or_name", "a model name such as 'poems' or a folder path", path_or_name)
    if is_name(path_or_name):
        return models_dir() / path_or_name
    if _looks_like_name(path_or_name):  # meant as a name: refused, never written next to the current folder
        raise invalid("name", f"{NAME_RULE} (here {name_problem(path_or_name)}), or a path such as "
                      f"'./folder'", path_or_name)
    return _check_path(Path(path_or_name).expanduser(), path_or_name)


def exists(path_or_name: str | os.PathLike) -> bool:
    """Whether the user's store (or the path) holds a model; bundled models do not count."""
    folder = resolve(path_or_name)
    if not (folder / MANIFEST).is_file():
        _try_recover(folder)  # an overwrite killed between its renames had moved it aside
    return (folder / MANIFEST).is_file()


# === Writing ===

def name_lock(folder: Path) -> FileLock:
    """The lock that serialises every writer of the model folder ``folder`` (in any process).

    A ``filelock.FileLock`` (``flock`` on POSIX, ``LockFileEx`` on Windows) on
    ``$JUPYTER_LLM_HOME/locks/<sha256 of the folder's real path>.lock``: the
    operating system releases it when its holder exits or is killed, so no lock
    is ever left stale. The parent's symbolic links are resolved, so two kernels
    that reach one store by different paths take one lock. The empty lock files
    stay, one per name ever written (removing one while another process waits on
    it would break the lock).
    """
    folder = Path(os.path.abspath(folder))
    real = Path(os.path.realpath(folder.parent)) / folder.name  # not the folder itself: it may be a link being replaced
    key = hashlib.sha256(os.fsencode(str(real))).hexdigest()[:32]
    locks = home() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    return FileLock(locks / f"{key}.lock")


def write_bundle(target: Path, files: dict[str, bytes], overwrite: bool = False) -> Path:
    """Write ``files`` into the folder ``target`` atomically, with a manifest.

    The files go to a temporary sibling folder first, which then takes the
    place of ``target`` by renames, so a crash at any moment leaves either the
    previous version or the new one whole, never a mixture.
    """
    target = Path(target)
    with name_lock(target):
        return _write_bundle_locked(target, files, overwrite)


def _write_bundle_locked(target: Path, files: dict[str, bytes], overwrite: bool) -> Path:
    _recover(target)
    if target.exists() and not (target / MANIFEST).is_file() and (not target.is_dir() or any(target.iterdir())):
        raise ModelExistsError(
            f"'{target}' exists and is not a jupyter_llm model. Expected an empty or new folder; refusing to replace it."
        )
    if target.exists() and not overwrite:
        raise ModelExistsError(
            f"A model is already saved at '{target}'. Expected a new name or path, or pass overwrite=True to replace it."
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
            _crash_point("save-writing")
        _crash_point("save-written")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    try:
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
            _crash_point("save-moved-aside")
        os.replace(tmp, target)
        _crash_point("save-replaced")
    except BaseException:
        if old is not None and not target.exists():
            os.rename(old, target)  # put the previous version back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        _crash_point("save-removing-old", old)
        shutil.rmtree(old, ignore_errors=True)
    return target


# === Recovering from a killed writer ===

#: The hidden siblings ``.NAME.KIND-xxxxxxxx`` a writer of ``NAME`` makes: a new version being
#: written, the previous version moved aside by an overwrite, a deleted version being removed.
DEBRIS_KINDS = ("tmp", "old", "deleted")

#: The steps of a save, an overwrite and a delete where the crash test kills the writer.
CRASH_POINTS = ("save-writing", "save-written", "save-moved-aside", "save-replaced", "save-removing-old",
                "delete-moved", "delete-removing")
CRASH_ENV = "JUPYTER_LLM_STORE_CRASH_AT"


def _crash_point(step: str, removing: Path | None = None) -> None:
    """For the crash tests: ``os._exit`` at ``step`` when ``$JUPYTER_LLM_STORE_CRASH_AT`` names it.

    At a ``*-removing*`` step one file of the folder being removed goes first, as
    a kill in the middle of ``shutil.rmtree`` would leave it.
    """
    if os.environ.get(CRASH_ENV) != step:
        return
    if removing is not None:
        next(p for p in sorted(removing.iterdir()) if p.name != MANIFEST).unlink()
    os._exit(86)


def _debris(target: Path) -> list[tuple[str, Path]]:
    """The leftovers of writers of ``target``: ``(kind, path)`` for each ``.NAME.KIND-xxxxxxxx`` sibling."""
    try:
        entries = sorted(target.parent.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        for kind in DEBRIS_KINDS:
            prefix = f".{target.name}.{kind}-"
            if entry.name.startswith(prefix) and "." not in entry.name[len(prefix):]:
                found.append((kind, entry))
    return found


def _recover(target: Path) -> None:
    """Finish what killed writers of ``target`` left half-done; the caller holds ``name_lock(target)``.

    An overwrite killed between its two renames leaves ``target`` missing and
    the previous version whole in ``.NAME.old-*``: it is moved back (the save
    never returned, so the new version was never promised). Then every other
    leftover goes: unfinished temporary folders, replaced versions, deleted
    ones. Holding the lock, no live writer of ``target`` owns any of them.
    """
    debris = _debris(target)
    if not debris:
        return
    if not target.exists():
        for kind, entry in debris:
            if kind == "old" and (entry / MANIFEST).is_file():
                os.rename(entry, target)
                break
    for _, entry in _debris(target):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _try_recover(target: Path) -> None:
    """:func:`_recover` if no writer of ``target`` is at work now (then its leftovers are live: left alone)."""
    if not _debris(target):
        return
    try:
        with name_lock(target).acquire(timeout=0):
            _recover(target)
    except (Timeout, OSError):  # a writer is at work, or the store is read-only: list what is there
        pass


def _recover_store(root: Path) -> None:
    """Recover every name of the store ``root`` that killed writers left debris for (see :func:`_recover`)."""
    try:
        hidden = [entry.name for entry in root.iterdir() if entry.name.startswith(".")]
    except OSError:
        return
    names = set()
    for entry in hidden:
        name, _, last = entry[1:].rpartition(".")
        if name and any(last.startswith(f"{kind}-") for kind in DEBRIS_KINDS):
            names.add(name)
    for name in sorted(names):
        _try_recover(root / name)


# === Reading ===

def read_bundle(path_or_name: str | os.PathLike, prefer: str = "bundled") -> dict[str, bytes]:
    """Read and verify every file of a saved model (found as :func:`locate` finds it)."""
    folder = locate(path_or_name, prefer)
    if not folder.exists() and folder.parent.is_dir():
        try:
            with name_lock(folder):  # never while a writer is between its two renames
                _recover(folder)
        except OSError:  # no lock can be taken (a read-only home): read what is there
            pass
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
    version = manifest.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise CorruptModelError(
            f"'{folder}/{MANIFEST}' has an invalid format_version. "
            f"Expected an integer such as {FORMAT_VERSION}. Received: format_version={_short(version)}"
        )
    if version > FORMAT_VERSION:
        raise CorruptModelError(
            f"'{folder}' was saved by a newer jupyter_llm (format {manifest['format_version']}). "
            f"Expected format {FORMAT_VERSION} or older; upgrade jupyter_llm to load it."
        )
    files = {}
    for name, info in listed.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise CorruptModelError(f"'{folder}' lists an unexpected file '{name}'. Expected plain file names.")
        size, digest = (info.get("size"), info.get("sha256")) if isinstance(info, dict) else (None, None)
        if isinstance(size, bool) or not isinstance(size, int) or not isinstance(digest, str):
            raise CorruptModelError(
                f"'{folder}/{MANIFEST}' has an invalid entry files.{name}. Expected an object with an "
                f"integer size and a sha256 string. Received: files.{name}={_short(info)}"
            )
        p = folder / name
        if not p.is_file():
            raise CorruptModelError(f"'{folder}' is incomplete: '{name}' is missing. Expected every file of its manifest.")
        data = p.read_bytes()
        if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            raise CorruptModelError(
                f"'{folder}/{name}' is truncated or was modified after saving (its checksum does not match). "
                "Expected the file exactly as saved; save the model again."
            )
        files[name] = data
    return files


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    damaged: str | None = None  # why its details cannot be shown (one sentence); None when intact

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path)}


def list_models() -> list[ModelInfo]:
    """The models saved in the user's store, then the bundled ones.

    A user's model may share its name with a bundled one; both are listed (see
    :func:`locate` for which one a name means).
    """
    _recover_store(models_dir())
    return _list_folder(models_dir(), bundled=False) + _list_folder(bundled_dir(), bundled=True)


def _list_folder(root: Path, bundled: bool) -> list[ModelInfo]:
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            continue
        meta, damaged = _listed_metadata(folder)
        try:
            size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        except OSError:  # deleted while listing
            continue
        out.append(ModelInfo(folder.name, folder, meta.get("created"), meta.get("tokenizer"),
                             meta.get("parameters"), meta.get("val_loss"), size, bundled, damaged))
    return out


#: The metadata fields the listing shows, and the JSON types they must have.
_LISTED = {"created": (str,), "tokenizer": (str,), "parameters": (int,), "val_loss": (int, float)}


def _listed_metadata(folder: Path) -> tuple[dict[str, Any], str | None]:
    """The fields of ``folder/metadata.json`` that :func:`list_models` shows, and why they cannot be (or None).

    The listing never raises for one model's files: a damaged one is listed with
    a sentence saying what is wrong, and the others are listed as usual.
    """
    where = f"'{folder.name}/metadata.json'"
    try:
        meta = json.loads((folder / "metadata.json").read_text("utf-8"))
    except FileNotFoundError:
        return {}, f"{where} is missing, so its details are unknown."
    except (OSError, ValueError):
        return {}, f"{where} is not valid UTF-8 JSON, so its details are unknown."
    if not isinstance(meta, dict):
        return {}, f"{where} holds a JSON {_json_kind(meta)} where an object was expected."
    metrics = meta.get("metrics")
    if metrics is not None and not isinstance(metrics, dict):
        return {}, f"{where} has metrics of type {_json_kind(metrics)} where an object was expected."
    fields = {key: meta.get(key) for key in ("created", "tokenizer", "parameters")}
    fields["val_loss"] = (metrics or {}).get("val_loss")
    for key, kinds in _LISTED.items():
        value = fields[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            return {}, (f"{where} has a {key} of type {_json_kind(value)} where "
                        f"{'a number' if key == 'val_loss' else 'an integer' if key == 'parameters' else 'a string'}"
                        " was expected.")
    return fields, None


def _json_kind(value: Any) -> str:
    """The JSON name of ``value``'s type: object, array, string, number, boolean or null."""
    for kind, name in ((bool, "boolean"), (dict, "object"), (list, "array"), (str, "string"), ((int, float), "number")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__


def delete_model(path_or_name: str | os.PathLike) -> None:
    """Delete a saved model (a name in the user's store or a model folder); bundled models are read-only.

    ``jl.delete_model`` is :func:`jupyter_llm.run_history.delete_model`: this, and the model's runs if asked.
    """
    folder = resolve(path_or_name)
    if not (folder / MANIFEST).is_file():
        _try_recover(folder)
    if not (folder / MANIFEST).is_file():
        if is_bundled_name(path_or_name):
            raise invalid("name", "a model of your own; bundled models are read-only", path_or_name)
        raise ModelNotFoundError(_not_found_message(path_or_name))
    with name_lock(folder):
        _recover(folder)
        if not (folder / MANIFEST).is_file():  # deleted by another process meanwhile
            raise ModelNotFoundError(_not_found_message(path_or_name))
        trash = folder.parent / f".{folder.name}.deleted-{uuid.uuid4().hex[:8]}"
        os.replace(folder, trash)  # atomic: the name disappears at once
        _crash_point("delete-moved")
        _crash_point("delete-removing", trash)
        shutil.rmtree(trash, ignore_errors=True)
