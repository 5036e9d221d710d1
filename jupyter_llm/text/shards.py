"""One worker's part of a corpus, for training on several workers (#17.3).

:func:`shard` gives worker ``index`` of ``workers`` its own part of a
:class:`~jupyter_llm.text.sources.TextSource`, so that the workers together read
every line of the corpus exactly once:

* **by file** when the corpus has at least as many documents (files, texts) as
  there are workers, the usual shape of a large corpus (a folder of ``.txt``
  shards): each document goes whole to one worker, the largest first to the
  worker with the fewest bytes so far (equal shards are dealt out in turn, so 8
  files give 2 workers 4 each); each worker reads its files in corpus order;
* **by byte range** otherwise (one large text or JSON Lines file): the corpus is cut into equal
  spans, each cut moved forward to the start of the next line, so that no line
  is split, read twice or lost. A file is read only around the cuts (a few
  bytes up to the next newline), never whole.

Nothing here imports TensorFlow; the parts stay on disk and are streamed as any
TextSource is.
"""

from __future__ import annotations

import dataclasses

from ..errors import invalid
from .sources import TextSource, _File, _Text, line_start


def shard(source: TextSource, workers: int, index: int) -> TextSource:
    """The part of ``source`` that worker ``index`` (0-based) of ``workers`` reads."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise invalid("workers", "a whole number of workers >= 1", workers)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < workers:
        raise invalid("index", f"a worker index from 0 to {workers - 1}", index)
    parts = source._parts
    if workers == 1:
        return source
    if len(parts) >= workers:
        mine = [parts[i] for i in sorted(by_file(parts, workers)[index])]
        how = "files" if any(isinstance(p, _File) for p in mine) else "documents"
        return TextSource(mine, f"{how} of worker {index + 1} of {workers} of {source.description}")
    cuts = line_cuts(parts, workers)
    return TextSource(_between(parts, cuts[index], cuts[index + 1]),
                      f"lines of worker {index + 1} of {workers} of {source.description}")


def by_file(parts: list, workers: int) -> list[list[int]]:
    """Which documents each worker reads: indices into ``parts``, the largest first to the least loaded."""
    loads = [0] * workers
    assigned: list[list[int]] = [[] for _ in range(workers)]
    for i in sorted(range(len(parts)), key=lambda i: -parts[i].nbytes):  # stable: equal sizes keep their order
        w = min(range(workers), key=lambda w: (loads[w], len(assigned[w]), w))
        assigned[w].append(i)
        loads[w] += parts[i].nbytes
    return assigned


Cut = tuple[int, int]  # (part, offset in it): bytes in a file, characters in a text


def line_cuts(parts: list, workers: int) -> list[Cut]:
    """``workers + 1`` cuts, from the start to the end, each inner one at the start of a line."""
    sizes = [p.nbytes for p in parts]
    total = sum(sizes)
    cuts: list[Cut] = [(0, 0)]
    for k in range(1, workers):
        target = total * k // workers
        part, seen = 0, 0
        while part < len(parts) - 1 and seen + sizes[part] <= target:  # the part the target falls in
            seen += sizes[part]
            part += 1
        cut = (part, line_start(parts[part], target - seen))
        cuts.append(max(cut, cuts[-1]))  # never before the previous cut (short lines crowd the cuts)
    cuts.append((len(parts) - 1, sizes[-1]) if parts else (0, 0))
    return cuts


def _between(parts: list, a: Cut, b: Cut) -> list:
    """The pieces of ``parts`` from cut ``a`` to cut ``b``."""
    out = []
    for i in range(a[0], b[0] + 1):
        part = parts[i]
        start = a[1] if i == a[0] else 0
        end = b[1] if i == b[0] else part.nbytes
        if end <= start:
            continue
        if isinstance(part, _Text):
            out.append(_Text(part.text[start:end]))
        else:  # a file's byte range (a JSON Lines file stays one)
            out.append(dataclasses.replace(part, start=part.start + start, end=part.start + end))
    return out


def parts_of(source: TextSource) -> list[str]:
    """What ``source`` reads, one entry a part: a file's path (with ``[start:end]`` for a byte range), or
    ``<text of N characters>``; for the log of what each worker reads."""
    names = []
    for part in source._parts:
        if isinstance(part, _File):
            whole = part.start == 0 and part.end is None
            names.append(str(part.path) if whole else f"{part.path}[{part.start}:{part.end if part.end is not None else ''}]")
        else:
            names.append(f"<text of {part.nbytes:,} characters>")
    return names


def documents_of(source: TextSource):
    """Each document of ``source`` whole (a text; a file read whole), in order: to send them elsewhere."""
    for part in source._parts:
        yield part.text if isinstance(part, _Text) else "".join(part.chunks(1 << 20))
