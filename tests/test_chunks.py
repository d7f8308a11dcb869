"""Chunking on the real MiniLM tokenizer: one chunk per paragraph, long ones split with
overlap, paragraph numbers kept, every chunk within the model's window."""
from pathlib import Path

import pytest

from cables.reader import read_cables
from embeddings.chunks import Chunk, chunk_cable, header, split_text
from embeddings.encoder import Encoder
from cables.records import Cable, Paragraph

SEEDS = sorted(Path(__file__).resolve().parent.parent.joinpath("data", "cables").glob("*.txt"))


@pytest.fixture(scope="module")
def encoder():
    return Encoder()


def tokens(encoder, text: str) -> int:
    """Word pieces the model sees, [CLS] and [SEP] included."""
    return len(encoder.tokenizer(text, verbose=False)["input_ids"])


def cable(*paragraphs: str, subject: str = "NEW ZHEJIANG MIGRANT POLICY") -> Cable:
    return Cable("09SHANGHAI374", "2009-08-27T09:15", "Consulate Shanghai", "UNCLASSIFIED",
                 ("PGOV",), subject, (), "CAMP",
                 tuple(Paragraph(n, t, "SBU") for n, t in enumerate(paragraphs, 1)), "test")


def test_short_paragraph_is_one_chunk_with_context_header(encoder):
    chunks = chunk_cable(cable("The new regulations took effect in May."), encoder.tokenizer)
    assert chunks == [Chunk("09SHANGHAI374", 1, 0, "The new regulations took effect in May.",
                            "Consulate Shanghai, 2009-08-27, NEW ZHEJIANG MIGRANT POLICY\n"
                            "The new regulations took effect in May.")]


def test_header_leaves_out_what_is_unknown():
    assert header(Cable("X", "", "", "", (), "SUBJECT ONLY", (), "", (), "t")) == "SUBJECT ONLY"


def test_long_paragraph_splits_into_overlapping_parts_that_keep_the_number(encoder):
    words = [f"migrant{i} workers registered" for i in range(400)]
    text = " ".join(words)
    chunks = chunk_cable(cable("Short first.", text, "Short third."), encoder.tokenizer,
                         max_tokens=128, overlap=16)
    long = [c for c in chunks if c.paragraph == 2]
    assert len(long) > 5
    assert [c.part for c in long] == list(range(len(long)))
    assert [(c.paragraph, c.part) for c in chunks if c.paragraph != 2] == [(1, 0), (3, 0)]
    for c in long:
        assert tokens(encoder, c.embed_text) <= 128
        assert c.embed_text.endswith(c.text)
        start = text.index(c.text)  # unique: every "migrantN" occurs once
        end = start + len(c.text)
        # cut between words: whitespace (or the paragraph's edge) on both sides of a part
        assert (start == 0 or text[start - 1] == " ") and (end == len(text) or text[end] == " ")
    for before, after in zip(long, long[1:]):
        assert before.text.split()[-1] in after.text.split()[:20]  # they overlap
    assert long[0].text.startswith("migrant0 ") and long[-1].text.endswith("migrant399 workers registered")


def test_one_word_longer_than_the_window_is_still_cut(encoder):
    text = "-".join(str(i) for i in range(1000))  # no whitespace, ~2,000 word pieces
    chunks = chunk_cable(cable(text), encoder.tokenizer, max_tokens=64, overlap=8)
    assert len(chunks) > 1
    assert all(tokens(encoder, c.embed_text) <= 64 for c in chunks)
    assert chunks[0].text == text[:len(chunks[0].text)] and text.endswith(chunks[-1].text)


def test_blank_paragraphs_give_no_chunk(encoder):
    assert [c.paragraph for c in chunk_cable(cable("one", "  \n ", "three"), encoder.tokenizer)] == [1, 3]
    assert chunk_cable(cable(), encoder.tokenizer) == []


def test_a_long_subject_takes_at_most_a_quarter_of_the_window(encoder):
    chunks = chunk_cable(cable("text " * 500, subject="VERY LONG SUBJECT " * 60), encoder.tokenizer)
    head = chunks[0].embed_text.split("\n")[0]
    assert tokens(encoder, head) - 2 <= 256 // 4
    assert all(tokens(encoder, c.embed_text) <= 256 for c in chunks)


def test_split_text_toy_cases():
    offsets = [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert split_text("a b c d e", offsets, 5, 1) == ["a b c d e"]
    assert split_text("a b c d e", offsets, 2, 0) == ["a b", "c d", "e"]
    # "ab" is one word of two pieces: never cut between them when a word boundary is near
    assert split_text("ab c d", [(0, 1), (1, 2), (3, 4), (5, 6)], 3, 0) == ["ab c", "d"]


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_seed_chunks_fit_the_window_and_cover_every_paragraph(encoder, path):
    (seed,) = read_cables(path)
    chunks = chunk_cable(seed, encoder.tokenizer, encoder.max_tokens)
    assert {p.number for p in seed.paragraphs if p.text.strip()} == {c.paragraph for c in chunks if c.part == 0}
    for c in chunks:
        assert tokens(encoder, c.embed_text) <= encoder.max_tokens
        assert c.text in seed.paragraph(c.paragraph).text
        assert c.embed_text.startswith(f"{seed.origin}, {seed.date[:10]}, ")
