"""Adding cables to the served index while it keeps answering: upload, index in the
background, switch when the new generation is published.

    >>> jobs = IndexJobs("var/index", on_published=reopen)  # doctest: +SKIP
    >>> job_id = jobs.start([Upload("cables.zip", data)])  # doctest: +SKIP
    >>> jobs.state(job_id).eta_s  # doctest: +SKIP

Uploads (.txt, .csv, .csv.gz, .html, .jsonl, or a .zip of them) are written to a private
temporary folder and indexed by `embeddings.build_index` into the same index folder, which
publishes the new generation atomically; until then every question is answered from the
current one. One build runs at a time; later jobs wait their turn. A file that holds no
cable, or a record that cannot be read, is listed in the job's report with the reason and
never stops the rest.
"""
from __future__ import annotations

import io
import itertools
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from cables.errors import InvalidInputError, NotFoundError, PilcrowError
from embeddings import ParseReport, build_index

ACCEPTED = (".txt", ".csv", ".csv.gz", ".html", ".htm", ".jsonl", ".zip")
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # all files of one job, unzipped
MAX_ZIP_MEMBERS = 100_000
MAX_KEPT_JOBS = 50


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the user gave it, and its bytes or a path to them."""

    name: str
    data: bytes | None = None
    path: str | None = None


@dataclass(frozen=True)
class FileReport:
    """What one uploaded file gave: cables read, and each skipped record with its reason."""

    name: str
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobState:
    """A snapshot of an indexing job, as the UI and `GET /api/collections/jobs/{id}` show it."""

    id: str
    status: str  # "queued", "running", "done" or "failed"
    stage: str = ""  # "counting" the cables, then "embedding" them, while running
    files: tuple[str, ...] = ()
    cables_read: int = 0
    cables_total: int = 0  # known after a parse-only count (about 1% of a build)
    chunks_done: int = 0
    chunks_per_s: float = 0.0
    eta_s: float | None = None
    elapsed_s: float = 0.0
    skipped: tuple[FileReport, ...] = ()
    summary: str = ""  # the build report when done
    error: str = ""  # why it failed

    @property
    def fraction(self) -> float:
        """0..1 for a progress bar: the share of the cables read and embedded."""
        if self.status == "done":
            return 1.0
        return self.cables_read / self.cables_total if self.cables_total else 0.0

    def line(self) -> str:
        """One line of progress: 'embedding: 412 / 1,000 cables · 4,377 chunks · 21.8 chunks/s · ETA 4 min 30 s'."""
        if self.status in ("queued", "failed"):
            return f"{self.status}{': ' + self.error if self.error else ''}"
        if self.status == "done":
            return f"done in {_duration(self.elapsed_s)}: {self.summary.splitlines()[0]}"
        parts = [f"{self.cables_read:,} / {self.cables_total:,} cables" if self.cables_total
                 else f"{self.cables_read:,} cables"]
        if self.chunks_done:
            parts.append(f"{self.chunks_done:,} chunks embedded")
        if self.chunks_per_s:
            parts.append(f"{self.chunks_per_s:.1f} chunks/s")
        if self.eta_s is not None:
            parts.append(f"ETA {_duration(self.eta_s)}")
        return f"{self.stage or 'starting'}: " + " · ".join(parts)

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "stage": self.stage, "files": list(self.files),
                "cables_read": self.cables_read, "cables_total": self.cables_total,
                "chunks_done": self.chunks_done, "chunks_per_s": round(self.chunks_per_s, 2),
                "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
                "elapsed_s": round(self.elapsed_s, 1), "fraction": round(self.fraction, 3),
                "skipped": [{"file": f.name, "records": list(f.skipped)} for f in self.skipped],
                "summary": self.summary, "error": self.error, "progress": self.line()}


def _duration(seconds: float) -> str:
    """
    >>> _duration(42.4), _duration(125), _duration(7300)
    ('42 s', '2 min 5 s', '2 h 1 min')
    """
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def safe_name(name: str) -> str:
    """The file name alone, without folders or characters a path cannot hold.

    >>> safe_name("../../etc/passwd"), safe_name("C:\\\\cables\\\\09BEIJING1.txt")
    ('passwd', '09BEIJING1.txt')
    """
    base = PurePosixPath(name.replace("\\", "/")).name.strip().lstrip(".")
    base = "".join(c for c in base if c.isprintable() and c not in '/\\:*?"<>|')
    return base[:200] or "upload"


def accepted(name: str) -> bool:
    return name.lower().endswith(ACCEPTED)


def unpack(uploads: Sequence[Upload], folder: Path) -> list[str]:
    """Write `uploads` into `folder` (zips extracted, never outside it); the files' names.

    Refuses what is no cable file, and zips over the size and member limits.
    """
    written, total = [], 0
    taken = set()
    for upload in uploads:
        name = safe_name(upload.name)
        if not accepted(name):
            raise InvalidInputError(f"{name}: not a cable file; upload {', '.join(ACCEPTED)}")
        data = upload.data if upload.data is not None else Path(upload.path).read_bytes()
        if name.lower().endswith(".zip"):
            total += _unzip(name, data, folder, written, taken, MAX_UPLOAD_BYTES - total)
            continue
        total += len(data)
        if total > MAX_UPLOAD_BYTES:
            raise InvalidInputError(f"uploads over {MAX_UPLOAD_BYTES // 2**20} MiB")
        written.append(_unique(folder, name, taken).name)
        (folder / written[-1]).write_bytes(data)
    if not written:
        raise InvalidInputError("no cable files to index")
    return written


def _unique(folder: Path, name: str, taken: set[str]) -> Path:
    stem, dot, ext = name.partition(".")
    for n in itertools.count():
        candidate = name if n == 0 else f"{stem}-{n}{dot}{ext}"
        if candidate not in taken:
            taken.add(candidate)
            return folder / candidate
    raise AssertionError("unreachable")


def _unzip(name: str, data: bytes, folder: Path, written: list[str], taken: set[str],
           allowance: int) -> int:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidInputError(f"{name}: not a readable zip file") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_ZIP_MEMBERS:
        raise InvalidInputError(f"{name}: {len(members)} files; the limit is {MAX_ZIP_MEMBERS}")
    if sum(m.file_size for m in members) > allowance:
        raise InvalidInputError(f"{name}: unzips to over {MAX_UPLOAD_BYTES // 2**20} MiB")
    size = 0
    for member in members:
        inner = safe_name(member.filename)
        if not accepted(inner) or inner.lower().endswith(".zip"):
            continue  # a README or an image beside the cables
        target = _unique(folder, inner, taken)
        with archive.open(member) as src, open(target, "wb") as out:
            # Copy in bounded pieces: the declared size may lie.
            while piece := src.read(1 << 20):
                size += len(piece)
                if size > allowance:
                    raise InvalidInputError(f"{name}: unzips to over {MAX_UPLOAD_BYTES // 2**20} MiB")
                out.write(piece)
        written.append(target.name)
    return size


@dataclass
class _Job:
    state: JobState
    folder: Path
    report: ParseReport = field(default_factory=ParseReport)
    started: float = 0.0


class IndexJobs:
    """Indexing jobs over one index folder, run one at a time on a background thread.

    `on_published()` is called after each build that published a new generation, so the
    server can open it; until then readers keep the generation they have.
    """

    def __init__(self, index_dir: str, on_published: Callable[[], None]):
        self.index_dir = index_dir
        self._on_published = on_published
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._turn = threading.Lock()  # one build at a time
        self._ids = itertools.count(1)

    def start(self, uploads: Sequence[Upload]) -> str:
        """Unpack `uploads` and queue their indexing; returns the job id at once."""
        folder = Path(tempfile.mkdtemp(prefix="pilcrow-upload-"))
        try:
            files = unpack(uploads, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self._lock:
            job_id = f"job-{next(self._ids)}"
            self._jobs[job_id] = _Job(JobState(job_id, "queued", files=tuple(files)), folder)
            for old in list(self._jobs)[:-MAX_KEPT_JOBS]:
                if self._jobs[old].state.status in ("done", "failed"):
                    del self._jobs[old]
        threading.Thread(target=self._run, args=(job_id,), name=f"pilcrow-{job_id}",
                         daemon=True).start()
        return job_id

    def state(self, job_id: str) -> JobState:
        """The job's progress now; NotFoundError for an unknown id."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFoundError(f"no indexing job {job_id!r}")
            return self._snapshot(job)

    def _snapshot(self, job: _Job) -> JobState:
        state = job.state
        if state.status == "running" and job.started:
            state = replace(state, elapsed_s=time.monotonic() - job.started)
        by_file: dict[str, list[str]] = {}
        for error in list(job.report.errors):
            name = Path(error.path).name
            by_file.setdefault(name, []).append(
                f"row {error.row}: {error.reason}" if error.row is not None else error.reason)
        for cable_id, dropped, kept in list(job.report.duplicates):
            by_file.setdefault(Path(dropped.split(":row")[0]).name, []).append(
                f"duplicate {cable_id} (kept {Path(kept).name})")
        return replace(state, skipped=tuple(FileReport(n, tuple(r)) for n, r in by_file.items()))

    def _update(self, job: _Job, **changes) -> None:
        with self._lock:
            job.state = replace(job.state, **changes)

    def _run(self, job_id: str) -> None:
        job = self._jobs[job_id]

        def progress(read: int, total: int | None, embedded: int) -> None:
            # Called after each batch; the count of cables came first, so total is known.
            elapsed = max(time.monotonic() - job.started, 1e-6)
            per_cable = elapsed / read if read else 0.0
            self._update(job, stage="embedding", cables_read=read, cables_total=total or 0,
                         chunks_done=embedded, chunks_per_s=embedded / elapsed,
                         eta_s=per_cable * (total - read) if total and read else None)

        with self._turn:
            job.started = time.monotonic()
            self._update(job, status="running", stage="counting")
            try:
                built = build_index([str(job.folder)], self.index_dir, progress=False,
                                    on_progress=progress, report=job.report)
                self._on_published()
                self._update(job, status="done", stage="", eta_s=None,
                             summary=built.summary().replace(str(job.folder), "upload"),
                             elapsed_s=time.monotonic() - job.started)
            except PilcrowError as exc:
                self._update(job, status="failed", error=str(exc))
            except Exception as exc:  # a bug must not kill the thread silently
                self._update(job, status="failed", error=f"{type(exc).__name__}: {exc}")
            finally:
                shutil.rmtree(job.folder, ignore_errors=True)
