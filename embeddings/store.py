"""The index folder: build or update it safely, open it, search it.

Layout of `var/index/`:

    CURRENT                  names the live generation, swapped with os.replace
    gen-000002/              one immutable generation
        cables.sqlite        cables, paragraphs, chunks, FTS5 keyword index
        vectors.faiss        chunk vectors keyed by chunk row id
        keyword-*.npy        over 200,000 paragraphs: BM25 postings (embeddings/postings.py)
        manifest.json        format, model, dimension, counts, corpus hash, index type
    .build/                  the build in progress, kept if it is killed:
        checkpoints/         the vectors of each finished batch, named by what made them
        next/                the generation being written (started over by a resume)

A build writes a whole new generation beside the live one and publishes it by replacing
`CURRENT`, so a crash or Ctrl-C at any moment leaves the previous index as it was, and a
reader sees either the old generation or the new one, never a half-written one. Cables
stream through parse → chunk → embed → write in batches of about `BATCH_CHUNKS` chunks,
so memory stays flat whatever the corpus size; each embedded batch is checkpointed, and
the next build after a kill re-reads the input but embeds only what was not finished.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import threading
import zlib
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from time import perf_counter
from typing import Callable, Iterable, Iterator

import numpy as np
from tqdm import tqdm

from embeddings import postings, tables, vectors
from cables.reader import ParseReport, read_cables
from embeddings.chunks import Chunk, chunk_cable
from embeddings.encoder import AUTO, TORCH, Embedder, Encoder, LocalEmbedder, model_name
from embeddings.settings import IndexSettings
from cables.files import atomic_file, fsync, write_atomic
from cables.errors import (IndexMismatchError, IndexNotFoundError, InvalidInputError,
                               NotFoundError)
from cables.records import Cable, Filters, Paragraph
from cables.references import Reference

FORMAT_VERSION = 4  # bump when the schema, the FAISS layout, the chunking or the manifest changes
CHUNK_OVERLAP = 32  # tokens shared by consecutive parts of a long paragraph
CURRENT, LOCK = "CURRENT", ".lock"
DB, VECTORS, MANIFEST = "cables.sqlite", "vectors.faiss", "manifest.json"
_BUILD_PREFIX, _GEN_PREFIX = ".build-", "gen-"  # .build-<random>: an older Pilcrow's leftover
BUILD, CHECKPOINTS, NEXT = ".build", "checkpoints", "next"
# Chunks embedded and checkpointed together: a kill loses at most one batch of work
# (about a minute at 20 chunks/s), and a batch's texts and vectors take a few MB.
BATCH_CHUNKS = 1024


Progress = Callable[[int, "int | None", int], None]  # (cables read, cables in all, chunks embedded)


def _quiet(read: int, total: int | None, embedded: int) -> None:
    """The progress callback of a build nobody watches."""


def default_index_dir() -> str:
    """$PILCROW_INDEX, else var/index."""
    return IndexSettings.load().index_dir


def _rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with: python -m embeddings build data/cables --index {index_dir}"


@dataclass(frozen=True)
class Match:
    """One paragraph found by a search; several chunks of a paragraph count once, at best."""

    cable_id: str
    paragraph: int
    score: float  # cosine similarity (dense) or -BM25 (keyword): higher is better


@dataclass(frozen=True)
class BuildReport:
    index_dir: str
    generation: str  # the live generation after the build
    added: int  # cables new to the index
    replaced: int  # cables whose content changed
    unchanged: int  # cables already there with the same content hash (not re-embedded)
    removed: int  # cables dropped by prune=True
    chunks_embedded: int  # chunks of the added and replaced cables
    chunks_resumed: int  # of those, vectors taken from a killed build's checkpoints
    cables: int  # totals in the index after the build
    paragraphs: int
    chunks: int
    index_type: str  # "flat" or "hnsw"
    model: str
    backend: str
    rebuilt: str  # why the previous index could not be updated in place; "" otherwise
    seconds: dict[str, float] = field(default_factory=dict)  # parse, chunk, embed, write
    parse: ParseReport | None = None

    def summary(self) -> str:
        lines = [self.parse.summary()] if self.parse else []
        if self.rebuilt:
            lines.append(f"rebuilt from scratch: {self.rebuilt}")
        lines.append(f"{self.added} added, {self.replaced} replaced, {self.unchanged} unchanged, "
                     f"{self.removed} removed; {self.chunks_embedded} chunks embedded"
                     + (f" ({self.chunks_resumed} resumed from the checkpoints of a killed "
                        f"build)" if self.chunks_resumed else ""))
        lines.append(f"index {self.index_dir} ({self.generation}): {self.cables} cables, "
                     f"{self.paragraphs} paragraphs, {self.chunks} chunks, {self.index_type}, "
                     f"model {self.model} ({self.backend})")
        lines.append("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items()))
        return "\n".join(lines)


# ---------------------------------------------------------------- folder and generations

def _live_generation(root: Path) -> Path | None:
    try:
        # A garbled CURRENT names a folder that does not exist: a damaged index, not a crash.
        name = (root / CURRENT).read_text(errors="replace").strip()
    except FileNotFoundError:
        return None
    return root / name


@contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    """One build per index folder at a time: a second one waits for the first."""
    with open(root / LOCK, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _remove_all_but(root: Path, live: Path | None) -> None:
    """Under the build lock every build folder is a leftover, every other generation old."""
    for path in root.iterdir():
        if path.is_dir() and path != live and path.name.startswith((_BUILD_PREFIX, _GEN_PREFIX)):
            shutil.rmtree(path, ignore_errors=True)


def _next_generation(root: Path) -> str:
    numbers = [int(p.name[len(_GEN_PREFIX):]) for p in root.glob(_GEN_PREFIX + "*")
               if p.name[len(_GEN_PREFIX):].isdigit()]
    return f"{_GEN_PREFIX}{max(numbers, default=0) + 1:06d}"


def _read_manifest(gen: Path, index_dir: Path) -> dict:
    for name in (DB, VECTORS, MANIFEST):
        if not (gen / name).is_file():
            raise IndexMismatchError(f"index {index_dir} is damaged ({gen.name}/{name} is "
                                     f"missing); {_rebuild_hint(index_dir)}")
    try:
        manifest = json.loads((gen / MANIFEST).read_text())
        version, model, dim = manifest["format_version"], manifest["model"], manifest["dim"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise IndexMismatchError(f"index {index_dir} has an unreadable manifest ({e}); "
                                 f"{_rebuild_hint(index_dir)}") from e
    if version != FORMAT_VERSION:
        raise IndexMismatchError(f"index {index_dir} has format {version}, this Pilcrow reads "
                                 f"format {FORMAT_VERSION}; {_rebuild_hint(index_dir)}")
    return manifest


def _file_record(path: Path) -> dict[str, int]:
    """Size and CRC-32 of a generation file, recorded in the manifest when it is written."""
    size, crc = 0, 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            size, crc = size + len(block), zlib.crc32(block, crc)
    return {"bytes": size, "crc32": crc}


def _verify_files(gen: Path, manifest: dict, index_dir: Path) -> None:
    """Check the data files against the sizes and checksums in the manifest before reading
    them: faiss may crash or allocate wildly on a damaged file, and SQLite, opened as
    immutable, would trust one."""
    for name in _data_files(manifest.get("keyword", tables.FTS5)):
        try:
            expected = manifest["files"][name]
            size, crc = expected["bytes"], expected["crc32"]
        except (KeyError, TypeError) as e:
            raise IndexMismatchError(f"index {index_dir} has an unreadable manifest (no size "
                                     f"and checksum for {name}); {_rebuild_hint(index_dir)}") from e
        try:
            found = (gen / name).stat().st_size
            damaged = found != size or _file_record(gen / name)["crc32"] != crc
        except OSError as e:  # also a build that removed this old generation meanwhile
            raise IndexMismatchError(f"index {index_dir} is damaged ({gen.name}/{name}: {e}); "
                                     f"{_rebuild_hint(index_dir)}") from e
        if damaged:
            what = f"has {found} bytes, not {size}" if found != size else "fails its checksum"
            raise IndexMismatchError(f"index {index_dir} is damaged ({gen.name}/{name} {what}); "
                                     f"{_rebuild_hint(index_dir)}")


def _check_model(manifest: dict, model: str | None, index_dir: Path) -> None:
    if model is not None and model != manifest["model"]:
        raise IndexMismatchError(
            f"index {index_dir} was built with model {manifest['model']!r}, not {model!r}; "
            f"{_rebuild_hint(index_dir)} --model {model}")


def _check_backend(manifest: dict, backend: str | None, index_dir: Path) -> None:
    built = manifest.get("backend", TORCH)
    if backend is not None and backend != built:
        raise IndexMismatchError(
            f"index {index_dir} was embedded with backend {built!r}, not {backend!r}; "
            f"{_rebuild_hint(index_dir)} --backend {backend}")


# ---------------------------------------------------------------- build

def build_index(paths: Iterable[str | os.PathLike], index_dir: str | os.PathLike, *,
                model: str | None = None, backend: str | None = None,
                hnsw_threshold: int = 200_000, prune: bool = False, progress: bool = True,
                batch_chunks: int = BATCH_CHUNKS,
                embedder: Callable[[Encoder], Embedder] = LocalEmbedder,
                on_progress: Progress | None = None,
                report: ParseReport | None = None,
                postings_from: int = postings.POSTINGS_FROM) -> BuildReport:
    """Create or update the index at `index_dir` from cable files and folders.

    Cables already indexed with the same content hash are not re-embedded; changed ones
    are replaced; new ones added; with `prune`, indexed cables not read this time are
    removed. The model is `model`, else $PILCROW_EMBED_MODEL, else the index's own, else
    the default; likewise the backend; another model or backend than the index's
    rebuilds it from scratch. A build that was killed resumes from its checkpoints.

    `on_progress(cables_read, cables_total, chunks_embedded)` is called after each batch,
    for a caller watching the build (the UI's collection jobs); `report` receives the parse
    report as it fills (each skipped record and why). Above `hnsw_threshold` chunks the
    vectors are searched by HNSW, above `postings_from` paragraphs keywords by postings.
    """
    total = None
    if progress or on_progress is not None:
        # A parse-only pass (about 1% of a build's time) so the progress bar has an ETA.
        total = sum(1 for _ in tqdm(read_cables(*paths), desc="count", unit="cable",
                                    dynamic_ncols=True, disable=not progress))
    report = report if report is not None else ParseReport()
    return index_cables(read_cables(*paths, report=report), index_dir, model=model,
                        backend=backend, hnsw_threshold=hnsw_threshold, prune=prune,
                        progress=progress, parse_report=report, total=total,
                        batch_chunks=batch_chunks, embedder=embedder, on_progress=on_progress,
                        postings_from=postings_from)


def _previous(root: Path, model: str | None, backend: str | None) -> tuple[Path | None, dict, str]:
    """The live generation to update, its manifest, and why not when it cannot be."""
    gen = _live_generation(root)
    if gen is None:
        return None, {}, ""
    try:
        manifest = _read_manifest(gen, root)
        _check_model(manifest, model, root)
        _check_backend(manifest, backend, root)
        _verify_files(gen, manifest, root)
    except IndexMismatchError as e:
        return None, {}, str(e).split(";")[0]
    return gen, manifest, ""


def index_cables(cables: Iterable[Cable], index_dir: str | os.PathLike, *,
                 model: str | None = None, backend: str | None = None,
                 hnsw_threshold: int = 200_000, prune: bool = False, progress: bool = False,
                 parse_report: ParseReport | None = None, total: int | None = None,
                 batch_chunks: int = BATCH_CHUNKS,
                 embedder: Callable[[Encoder], Embedder] = LocalEmbedder,
                 on_progress: Progress | None = None,
                 postings_from: int = postings.POSTINGS_FROM) -> BuildReport:
    """`build_index` for cables already read (a generator is consumed as it comes).

    `total`, when known, gives the progress bar its ETA; `embedder` makes what embeds the
    batches from the chosen encoder: this process by default, a Ray cluster with
    `functools.partial(embeddings.distributed.RayEmbedder, address=...)`.
    """
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        # `auto` asks for no backend in particular: an existing index keeps its own.
        settings = IndexSettings.load()
        asked = backend or settings.embed_backend or None
        asked = None if asked == AUTO else asked
        previous, manifest, rebuilt = _previous(root, model or settings.embed_model or None,
                                                asked)
        # Keep the live generation even when it cannot be updated: until the new one is
        # published it is still what readers open (or fail on, with a clear error).
        _remove_all_but(root, _live_generation(root))
        encoder = Encoder(model_name(model or manifest.get("model")),
                          asked or manifest.get("backend"))
        work = root / BUILD
        # What a killed build left is kept for its checkpoints; the rest starts over.
        _clear_all_but_checkpoints(work)
        (work / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        (work / NEXT).mkdir()
        runner = embedder(encoder)
        try:
            report = _build(cables, previous, work, encoder, runner, hnsw_threshold, prune,
                            progress, parse_report, rebuilt, root, total, batch_chunks,
                            on_progress or _quiet, postings_from)
        except BaseException:
            _clear_all_but_checkpoints(work)  # Ctrl-C or an error: keep only what resumes
            raise
        finally:
            runner.close()
        if report.generation != (previous.name if previous else ""):
            (work / NEXT).rename(root / report.generation)
            fsync(root)
            write_atomic(root / CURRENT, report.generation + "\n")
        shutil.rmtree(work)
        _remove_all_but(root, root / report.generation)
    return report


def _clear_all_but_checkpoints(work: Path) -> None:
    for path in work.iterdir() if work.is_dir() else ():
        if path.name != CHECKPOINTS:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


@dataclass(frozen=True)
class _Batch:
    """Changed cables and their chunks, embedded and checkpointed together."""

    cables: tuple[tuple[Cable, tuple[Chunk, ...]], ...]
    read: int  # cables read from the input when the batch closed

    @property
    def texts(self) -> list[str]:
        return [c.embed_text for _, chunks in self.cables for c in chunks]


def _batches(cables: Iterable[Cable], known: dict[str, str], seen: set[str], encoder: Encoder,
             size: int, seconds: dict[str, float]) -> Iterator[_Batch]:
    """The changed cables, chunked, in batches of about `size` chunks (a cable is never
    split); adds every cable read to `seen` and the time spent to `seconds`."""
    pending: list[tuple[Cable, tuple[Chunk, ...]]] = []
    n_chunks = read = 0
    start = perf_counter()
    for cable in cables:
        read += 1
        seen.add(cable.id)
        seconds["parse"] += perf_counter() - start
        start = perf_counter()
        if known.get(cable.id) != cable.content_hash():
            chunks = tuple(chunk_cable(cable, encoder.tokenizer, encoder.max_tokens, CHUNK_OVERLAP))
            pending.append((cable, chunks))
            n_chunks += len(chunks)
        seconds["chunk"] += perf_counter() - start
        if n_chunks >= size:
            yield _Batch(tuple(pending), read)
            pending, n_chunks = [], 0
        start = perf_counter()
    seconds["parse"] += perf_counter() - start
    if pending:
        yield _Batch(tuple(pending), read)


def _checkpoint_key(identity: str, texts: list[str]) -> str:
    """Names a batch's vectors by what made them: the encoder and the exact texts, so a
    checkpoint is reused only for the very batch it was computed from."""
    digest = hashlib.sha256(identity.encode())
    for text in texts:
        digest.update(b"\0" + text.encode())
    return digest.hexdigest()[:32]


def _load_checkpoint(path: Path, rows: int, dim: int) -> np.ndarray | None:
    try:
        found = np.load(path)
    except (OSError, ValueError):
        return None
    return found if found.shape == (rows, dim) and found.dtype == np.float32 else None


def _save_checkpoint(path: Path, vectors: np.ndarray) -> None:
    # Renamed into place: a kill while writing leaves a stray .tmp, never a short .npy.
    with atomic_file(path, "wb") as f:
        np.save(f, vectors)


def _embedded(batches: Iterator[_Batch], embedder: Embedder, checkpoints: Path,
              encoder: Encoder) -> Iterator[tuple[_Batch, np.ndarray, bool]]:
    """(batch, vectors, resumed) in batch order: vectors from a checkpoint when one
    exists, else from the embedder (which may hold `embedder.depth` batches in flight),
    checkpointed as they arrive."""
    window: deque = deque()

    def finish(batch: _Batch, path: Path, done: np.ndarray | None,
               handle) -> tuple[_Batch, np.ndarray, bool]:
        if done is not None:
            return batch, done, True
        vectors = embedder.result(handle)
        _save_checkpoint(path, vectors)
        return batch, vectors, False

    for batch in batches:
        texts = batch.texts
        path = checkpoints / f"{_checkpoint_key(encoder.identity, texts)}.npy"
        done = _load_checkpoint(path, len(texts), encoder.dim)
        window.append((batch, path, done, None if done is not None else embedder.submit(texts)))
        while len(window) > embedder.depth:
            yield finish(*window.popleft())
    while window:
        yield finish(*window.popleft())


def _build(cables: Iterable[Cable], previous: Path | None, work: Path, encoder: Encoder,
           embedder: Embedder, hnsw_threshold: int, prune: bool, progress: bool,
           parse_report: ParseReport | None, rebuilt: str, root: Path, total: int | None,
           batch_chunks: int, on_progress: Progress, postings_from: int) -> BuildReport:
    seconds = dict.fromkeys(("parse", "chunk", "embed", "write"), 0.0)
    tmp = work / NEXT
    if previous:
        shutil.copyfile(previous / DB, tmp / DB)
    conn = sqlite3.connect(tmp / DB)
    new_ids, new_vectors = work / "new-ids.i64", work / "new-vectors.f32"
    try:
        # No journal and no syncs while writing: a killed build starts this file over
        # (only its checkpoints are kept), and the finished file is fsynced once before it
        # is published.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        if not previous:
            tables.create(conn)
        known = tables.content_hashes(conn)
        seen: set[str] = set()
        gone: list[int] = []
        added = replaced = embedded = resumed = 0
        started = perf_counter()
        with tqdm(total=total, desc="embed", unit="cable", disable=not progress,
                  dynamic_ncols=True) as bar, open(new_ids, "wb") as ids_out, \
                open(new_vectors, "wb") as vectors_out:
            batches = _batches(cables, known, seen, encoder, batch_chunks, seconds)
            stream = _embedded(batches, embedder, work / CHECKPOINTS, encoder)
            while True:
                start = perf_counter()
                item = next(stream, None)
                # Time spent in the stream is reading, chunking and embedding; the first
                # two are counted inside it, so embed is the rest.
                seconds["embed"] += perf_counter() - start
                if item is None:
                    break
                batch, batch_vectors, was_resumed = item
                start = perf_counter()
                for cable, chunks in batch.cables:
                    if cable.id in known:
                        gone += tables.delete_cables(conn, [cable.id])
                        replaced += 1
                    else:
                        added += 1
                    ids = tables.insert_cable(conn, cable, list(chunks))
                    ids_out.write(np.asarray(ids, dtype=np.int64).tobytes())
                vectors_out.write(np.ascontiguousarray(batch_vectors, dtype=np.float32).tobytes())
                conn.commit()
                embedded += len(batch_vectors)
                resumed += len(batch_vectors) if was_resumed else 0
                seconds["write"] += perf_counter() - start
                rate = (embedded - resumed) / max(perf_counter() - started, 1e-9)
                bar.set_postfix_str(f"{embedded:,} chunks, {rate:.1f} chunks/s", refresh=False)
                bar.update(batch.read - bar.n)
                on_progress(batch.read, total, embedded)
            bar.update(len(seen) - bar.n)
        seconds["embed"] -= seconds["parse"] + seconds["chunk"]

        start = perf_counter()
        removed = sorted(set(known) - seen) if prune else []
        report = dict(added=added, replaced=replaced, unchanged=len(seen) - added - replaced,
                      removed=len(removed), chunks_embedded=embedded, chunks_resumed=resumed,
                      model=encoder.name, backend=encoder.backend, rebuilt=rebuilt,
                      parse=parse_report, index_dir=str(root))
        manifest = json.loads((previous / MANIFEST).read_text()) if previous else {}
        same_layout = previous and manifest["index_type"] == vectors.choose_layout(
            manifest["counts"]["chunks"], hnsw_threshold).kind and \
            manifest.get("keyword", tables.FTS5) == _keyword_layout(
                manifest["counts"]["paragraphs"], postings_from)
        if same_layout and not added and not replaced and not removed:
            seconds["write"] += perf_counter() - start
            return BuildReport(generation=previous.name, index_type=manifest["index_type"],
                               seconds=seconds, **_counts(manifest), **report)
        gone += tables.delete_cables(conn, removed)
        conn.execute("INSERT INTO paragraphs_fts (paragraphs_fts) VALUES ('optimize')")
        tables.write_term_docs(conn)
        counts = tables.counts(conn)
        keyword = _keyword_layout(counts["paragraphs"], postings_from)
        if keyword == postings.LAYOUT:
            postings.write(conn, tmp)
        else:
            conn.execute("DROP TABLE IF EXISTS postings")  # a copied generation's
        conn.commit()
        corpus = tables.corpus_hash(conn)
    finally:
        conn.close()

    ids = np.fromfile(new_ids, dtype=np.int64)
    stored = (np.memmap(new_vectors, dtype=np.float32, mode="r", shape=(len(ids), encoder.dim))
              if len(ids) else np.empty((0, encoder.dim), dtype=np.float32))
    index = _updated_vectors(previous, encoder.dim, gone, ids, stored,
                             vectors.choose_layout(counts["chunks"], hnsw_threshold))
    del stored
    vectors.write(index, str(tmp / VECTORS))
    layout = vectors.layout_of(index)
    generation = _next_generation(root)
    manifest = {
        "format_version": FORMAT_VERSION, "model": encoder.name, "backend": encoder.backend,
        "dim": encoder.dim, "max_tokens": encoder.max_tokens, "chunk_overlap": CHUNK_OVERLAP,
        "index_type": layout, "keyword": keyword, "counts": counts, "corpus_hash": corpus,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "generation": generation,
        "files": {name: _file_record(tmp / name) for name in _data_files(keyword)},
    }
    if layout == vectors.HNSW:
        params = vectors.Layout(layout)
        manifest["hnsw"] = {"m": params.m, "ef_construction": params.ef_construction,
                            "ef_search": params.ef_search}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    for name in (*_data_files(keyword), MANIFEST):
        fsync(tmp / name)
    fsync(tmp)
    seconds["write"] += perf_counter() - start
    return BuildReport(generation=generation, index_type=layout, seconds=seconds,
                       **counts, **report)


def _keyword_layout(paragraphs: int, postings_from: int) -> str:
    """How keyword search runs: FTS5 ranks small indexes itself; larger ones get postings."""
    return postings.LAYOUT if paragraphs > postings_from else tables.FTS5


def _data_files(keyword: str) -> tuple[str, ...]:
    return (DB, VECTORS, *(postings.FILES if keyword == postings.LAYOUT else ()))


def _counts(manifest: dict) -> dict[str, int]:
    return {k: manifest["counts"][k] for k in ("cables", "paragraphs", "chunks")}


def _updated_vectors(previous: Path | None, dim: int, gone: list[int], new_ids: np.ndarray,
                     new_vectors: np.ndarray, layout: vectors.Layout):
    """The previous vectors less `gone`, plus the new ones. Only additions to an index of
    the same layout are appended in place; anything else (HNSW cannot remove vectors)
    rebuilds the structure from the stored vectors, never re-embedding."""
    old = vectors.read(str(previous / VECTORS)) if previous else None
    if old is not None and not gone and vectors.layout_of(old) == layout.kind:
        if len(new_ids):
            old.add_with_ids(new_vectors, new_ids)
        return old
    ids, stored = vectors.contents(old) if old is not None else (
        np.empty(0, dtype=np.int64), np.empty((0, dim), dtype=np.float32))
    keep = ~np.isin(ids, np.asarray(gone, dtype=np.int64))
    return vectors.build(layout, dim, np.concatenate([ids[keep], new_ids]),
                         np.concatenate([stored[keep], new_vectors]))


# ---------------------------------------------------------------- open and search

def open_index(index_dir: str | os.PathLike | None = None, model: str | None = None) -> Index:
    """Open the live generation of an index folder for reading.

    With `model`, an index built with another model is an IndexMismatchError (its vectors
    would not be comparable with the question's).
    """
    root = Path(index_dir or default_index_dir())
    # A build may publish a new generation and delete this one between reading CURRENT
    # and opening the files: read CURRENT again and retry.
    attempts = 3
    while True:
        gen = _live_generation(root)
        if gen is None:
            raise IndexNotFoundError(f"no index at {root}; build one with: "
                                     f"python -m embeddings build data/cables --index {root}")
        try:
            return Index(root, gen, model)
        except IndexMismatchError:
            attempts -= 1
            if not attempts or _live_generation(root) == gen:
                raise


class Index:
    """An open, read-only index generation; safe to use from several threads."""

    def __init__(self, root: Path, gen: Path, model: str | None = None):
        self.path = root
        self.manifest = _read_manifest(gen, root)
        _check_model(self.manifest, model, root)
        _verify_files(gen, self.manifest, root)
        try:
            self._vectors = vectors.read(str(gen / VECTORS))
        except RuntimeError as e:  # faiss reports a short, garbled or vanished file so
            raise IndexMismatchError(f"index {root} has an unreadable vector file; "
                                     f"{_rebuild_hint(root)}") from e
        # immutable=1: a published generation never changes, so SQLite may skip locking;
        # mode=ro: a file a build has just removed is an error, not a new empty database.
        # One connection for all threads, behind a lock; queries take milliseconds.
        self._lock = threading.Lock()
        self._encoder: Encoder | None = None
        try:
            self._conn = sqlite3.connect(f"{(gen / DB).resolve().as_uri()}?mode=ro&immutable=1",
                                         uri=True, check_same_thread=False)
            chunks = self._sql(lambda c: tables.counts(c)["chunks"])
            self._postings = (self._sql(lambda c: postings.Postings.open(gen, c))
                              if self.manifest.get("keyword") == postings.LAYOUT else None)
        except sqlite3.DatabaseError as e:  # also "unable to open": a build removed it
            raise IndexMismatchError(f"index {root} has a damaged database ({e}); "
                                     f"{_rebuild_hint(root)}") from e
        problems = []
        if self._vectors.d != self.manifest["dim"]:
            problems.append(f"vectors have dimension {self._vectors.d}, the manifest says "
                            f"{self.manifest['dim']}")
        if self._vectors.ntotal != chunks:
            problems.append(f"{self._vectors.ntotal} vectors for {chunks} chunks")
        if problems:
            self.close()
            raise IndexMismatchError(f"index {root} is inconsistent ({'; '.join(problems)}); "
                                     f"{_rebuild_hint(root)}")

    def _sql(self, query):
        with self._lock:
            return query(self._conn)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def encoder(self) -> Encoder:
        """The encoder of the index's own model (loaded once per process)."""
        if self._encoder is None:
            encoder = Encoder(self.manifest["model"], self.manifest.get("backend", TORCH))
            if encoder.dim != self.manifest["dim"]:
                raise IndexMismatchError(
                    f"model {encoder.name!r} now gives {encoder.dim}-dimensional vectors, the "
                    f"index holds {self.manifest['dim']}; {_rebuild_hint(self.path)}")
            self._encoder = encoder
        return self._encoder

    def search_dense(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[Match]:
        """The `k` paragraphs whose best chunk is nearest `vector` (a unit vector)."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self._vectors.d:
            raise InvalidInputError(f"query vector has dimension {vector.shape[0]}, the index "
                                    f"holds {self._vectors.d}")
        allowed = None
        if filters is not None and not filters.is_empty():
            allowed = np.asarray(self._sql(lambda c: tables.chunk_ids(c, filters)), dtype=np.int64)
            if not len(allowed):
                return []
        ef = self.manifest.get("hnsw", {}).get("ef_search", vectors.HNSW_EF_SEARCH)
        # Several chunks may belong to one paragraph: ask for more chunks until k distinct
        # paragraphs are found or the candidates run out. On a flat index this is exact.
        want = 2 * k + 8
        while True:
            scores, ids = vectors.search(self._vectors, vector, want, allowed, ef)
            owners = self._sql(lambda c: tables.chunk_paragraphs(c, ids.tolist()))
            best: dict[tuple[str, int], float] = {}
            for score, chunk in zip(scores.tolist(), ids.tolist()):
                best.setdefault(owners[chunk], score)
            if len(best) >= k or len(ids) < want:
                return [Match(cid, n, s) for (cid, n), s in list(best.items())[:k]]
            want *= 4

    def search_keyword(self, text: str, k: int, filters: Filters | None = None,
                       phrase: bool = False) -> list[Match]:
        """The `k` best paragraphs for `text` by BM25 (any text is safe; no words → []);
        with `phrase`, only those holding its words in a row ("84 percent")."""
        if self._postings is not None and not phrase:
            rows = self._sql(lambda c: postings.search(
                c, self._postings, tables.stem(c, tables.query_terms(text)), k, filters))
        else:
            rows = self._sql(lambda c: tables.keyword_search(c, text, k, filters, phrase=phrase))
        return [Match(cid, n, score) for cid, n, score in rows]

    def paragraph(self, cable_id: str, n: int) -> Paragraph:
        found = self._sql(lambda c: tables.read_paragraph(c, cable_id, n))
        if found is None:
            raise NotFoundError(f"{cable_id} has no paragraph {n} in this index")
        return found

    def cable(self, cable_id: str) -> Cable:
        found = self._sql(lambda c: tables.read_cable(c, cable_id))
        if found is None:
            raise NotFoundError(f"no cable {cable_id} in this index")
        return found

    def references(self, cable_id: str) -> list[tuple[Reference, bool]]:
        """The cable's references, each with whether the cable it cites is in this index."""
        return self._sql(lambda c: tables.read_references(c, cable_id))

    def referenced_by(self, cable_id: str) -> list[str]:
        """IDs of the indexed cables that cite `cable_id` (which need not be indexed)."""
        return self._sql(lambda c: tables.citing(c, cable_id))

    def stats(self) -> dict:
        return self._sql(tables.stats)
