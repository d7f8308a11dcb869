"""A damaged index folder: truncated or corrupted FAISS file or SQLite database, missing or
garbled manifest.json or CURRENT. Opening it is an IndexMismatchError (IndexNotFoundError
when there is no index) that says how to rebuild, in a separate process so that a crash
inside faiss or SQLite would show as a failure; the CLI prints one line and exits 2; the
next build rebuilds it.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings import build_index, open_index
from embeddings.store import DB, MANIFEST, VECTORS

ROOT = Path(__file__).resolve().parent.parent
REBUILD = "python -m embeddings build"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path]:
    """(folder of the five seed files, an index of them); tests damage copies."""
    root = tmp_path_factory.mktemp("corruption")
    seeds = root / "seeds"
    seeds.mkdir()
    for path in sorted((ROOT / "data" / "cables").glob("*.txt")):
        shutil.copy(path, seeds)
    build_index([seeds], root / "index", progress=False)
    return seeds, root / "index"


def live(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)


def overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def page_of_garbage(path: Path) -> None:
    """4 KB of noise over the middle of the file, the size unchanged."""
    size = path.stat().st_size
    overwrite(path, size // 2 // 4096 * 4096, bytes(range(256)) * 16)


def edit_manifest(gen: Path, change) -> None:
    manifest = json.loads((gen / MANIFEST).read_text())
    change(manifest)
    (gen / MANIFEST).write_text(json.dumps(manifest))


# name -> damage done to the live generation folder
DAMAGE = {
    "vectors empty": lambda g: truncate(g / VECTORS, 0),
    "vectors cut to 100 bytes": lambda g: truncate(g / VECTORS, 100),
    "vectors cut in half": lambda g: truncate(g / VECTORS, (g / VECTORS).stat().st_size // 2),
    "vectors one byte short": lambda g: truncate(g / VECTORS, (g / VECTORS).stat().st_size - 1),
    "vectors one byte longer": lambda g: overwrite(g / VECTORS, (g / VECTORS).stat().st_size,
                                                   b"\0"),
    "vectors header garbled": lambda g: overwrite(g / VECTORS, 0, b"\xff" * 64),
    "vectors sizes garbled": lambda g: overwrite(g / VECTORS, 4, b"\xff\xff\xff\x7f" * 8),
    "vectors middle garbled": lambda g: page_of_garbage(g / VECTORS),
    "vectors missing": lambda g: (g / VECTORS).unlink(),
    "database empty": lambda g: truncate(g / DB, 0),
    "database cut to 1000 bytes": lambda g: truncate(g / DB, 1000),
    "database cut in half": lambda g: truncate(g / DB, (g / DB).stat().st_size // 2),
    "database header garbled": lambda g: overwrite(g / DB, 0, b"\xff" * 100),
    "database middle garbled": lambda g: page_of_garbage(g / DB),
    "database missing": lambda g: (g / DB).unlink(),
    "manifest missing": lambda g: (g / MANIFEST).unlink(),
    "manifest empty": lambda g: (g / MANIFEST).write_text(""),
    "manifest cut in half": lambda g: truncate(g / MANIFEST, (g / MANIFEST).stat().st_size // 2),
    "manifest binary": lambda g: (g / MANIFEST).write_bytes(bytes(range(256))),
    "manifest a list": lambda g: (g / MANIFEST).write_text("[1, 2, 3]"),
    "manifest without checksums": lambda g: edit_manifest(g, lambda m: m.pop("files")),
    "manifest checksums garbled": lambda g: edit_manifest(g, lambda m: m.update(files="x")),
    "manifest wrong checksum": lambda g: edit_manifest(
        g, lambda m: m["files"][VECTORS].update(crc32=m["files"][VECTORS]["crc32"] ^ 1)),
    "CURRENT binary": lambda g: (g.parent / "CURRENT").write_bytes(b"\xff\xfe\x00gen"),
    "CURRENT names no folder": lambda g: (g.parent / "CURRENT").write_text("gen-999999\n"),
    "CURRENT names the parent": lambda g: (g.parent / "CURRENT").write_text("..\n"),
}
NOT_FOUND = {"CURRENT missing": lambda g: (g.parent / "CURRENT").unlink(),
             "folder empty": lambda g: shutil.rmtree(g.parent) or g.parent.mkdir()}

PROBE = """
import json, sys
from embeddings import open_index
for path in sys.argv[1:]:
    try:
        with open_index(path) as index:
            index.stats()
        result = None
    except Exception as e:
        result = [type(e).__name__, str(e)]
    print(json.dumps(result), flush=True)
"""


def damaged_copies(index_dir: Path, folder: Path, damage: dict) -> dict[str, Path]:
    copies = {}
    for i, (name, do) in enumerate(damage.items()):
        copies[name] = folder / f"case-{i}"
        shutil.copytree(index_dir, copies[name])
        do(live(copies[name]))
    return copies


def test_every_damage_is_a_clear_error_on_open_in_a_separate_process(base, tmp_path):
    copies = damaged_copies(base[1], tmp_path, {**DAMAGE, **NOT_FOUND})
    run = subprocess.run([sys.executable, "-c", PROBE, *map(str, copies.values())], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    results = [json.loads(line) for line in run.stdout.splitlines()]
    names = list(copies)
    assert run.returncode == 0 and len(results) == len(names), (
        f"the process died with {run.returncode} opening {names[len(results):][:1]}:\n{run.stderr}")
    expected = {name: "IndexNotFoundError" if name in NOT_FOUND else "IndexMismatchError"
                for name in names}
    found = {name: result and result[0] for name, result in zip(names, results)}
    assert found == expected
    for name, (_, message) in zip(names, results):
        assert f"{REBUILD} data/cables --index {copies[name]}" in message, name
        assert "\n" not in message, name


def test_the_cli_says_one_line_and_exits_2(base, tmp_path):
    chosen = ["vectors sizes garbled", "database middle garbled", "manifest binary"]
    copies = damaged_copies(base[1], tmp_path, {name: DAMAGE[name] for name in chosen})
    copies["no index"] = tmp_path / "nothing here"
    runs = {name: subprocess.Popen(
                [sys.executable, "-m", "embeddings", "info", "--index", str(path)], cwd=ROOT,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, path in copies.items()}
    for name, proc in runs.items():
        out, err = proc.communicate(timeout=300)
        assert (proc.returncode, out) == (2, ""), (name, err)
        assert err.startswith("error: index " if name != "no index" else "error: no index at"), err
        assert err.count("\n") == 1 and REBUILD in err and "Traceback" not in err, err


@pytest.mark.parametrize("damage", ["vectors sizes garbled", "database middle garbled"])
def test_the_next_build_rebuilds_a_damaged_index(base, tmp_path, damage):
    seeds, index_dir = base
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    with open_index(index_dir) as index:
        before = index.stats(), index.search_keyword("migrant workers", 5)
    DAMAGE[damage](live(copy))
    report = build_index([seeds], copy, progress=False)
    assert report.rebuilt.startswith(f"index {copy} is damaged") and report.added == 5
    with open_index(copy) as index:
        assert (index.stats(), index.search_keyword("migrant workers", 5)) == before
