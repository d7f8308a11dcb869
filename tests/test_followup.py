"""Follow-up questions on the sample index: answered from the cable the conversation is
about, rewritten into a question that stands alone, and every citation still verified."""

import pytest

from qa import Assistant, Settings, Turn
from qa.followup import is_followup, standalone
from qa.sentences import split_sentences

HUKOU = "What did Zhejiang officials say about hukou?"
FOLLOW_UP = "Which officials said that, and what figure did they give?"


@pytest.fixture(scope="module")
def assistant(sample_index_dir):
    return Assistant(Settings(index_dir=str(sample_index_dir), generator="extractive"))



@pytest.mark.parametrize("question, expected", [
    ("And what about Guangxi?", False),  # a name the conversation has not mentioned
    ("And what about Zhejiang?", True),
    ("What did they do next?", True),
    ("Did the same happen in 2007?", True),
    ("What is TIP?", False),  # nothing points back
    ("How did Zhejiang officials justify it?", True),
])
def test_followups_point_back_and_name_nothing_new(question, expected):
    assert is_followup(question, [Turn(HUKOU, (("09SHANGHAI374", 9),))]) is expected


def test_a_chain_of_followups_keeps_the_question_that_started_it():
    turns = [Turn(HUKOU, (("09SHANGHAI374", 9),)),
             Turn(FOLLOW_UP, (("09SHANGHAI374", 9), ("09SHANGHAI374", 3)))]
    assert standalone("Why did they say that?", turns) == (
        f"Why did they say that? (Earlier: {HUKOU} Cited: 09SHANGHAI374.)")


def test_followup_after_a_hukou_answer_is_answered_from_the_hukou_cable(assistant):
    first = assistant.ask(HUKOU)
    assert {c.cable_id for c in first.citations} == {"09SHANGHAI374"}
    alone = assistant.ask(FOLLOW_UP)
    assert "09SHANGHAI374" not in {c.cable_id for c in alone.citations}  # the bug it fixes

    answer = assistant.ask(FOLLOW_UP, history=[first])
    assert answer.question == FOLLOW_UP and answer.standalone.startswith(FOLLOW_UP)
    assert "09SHANGHAI374" in answer.standalone and HUKOU in answer.standalone
    assert not answer.abstained
    assert {c.cable_id for c in answer.citations} == {"09SHANGHAI374"}
    # The paragraph with the figure Ye Ke gave (84 percent) is among the sources.
    assert ("09SHANGHAI374", 9) in {(h.cable_id, h.paragraph) for h in answer.hits}
    for c in answer.citations:
        assert c.quote in split_sentences(assistant.paragraph(c.cable_id, c.paragraph).text)
    # The same through plain turns, as the HTTP API and the UI pass them.
    same = assistant.ask(FOLLOW_UP, history=[Turn.of(first)])
    assert (same.text, same.standalone) == (answer.text, answer.standalone)


def test_a_new_question_after_history_is_answered_on_its_own(assistant):
    first = assistant.ask(HUKOU)
    question = "Why is trafficking in persons hard to talk about in South China?"
    answer = assistant.ask(question, history=[first])
    assert answer.standalone == question
    assert answer.text == assistant.ask(question).text


def test_bare_earlier_questions_are_searched_for_the_cable_they_were_about(assistant):
    answer = assistant.ask(FOLLOW_UP, history=[HUKOU])  # as eval's two-turn cases give them
    assert "Cited: 09SHANGHAI374." in answer.standalone
    assert {c.cable_id for c in answer.citations} == {"09SHANGHAI374"}
    unrelated = assistant.ask(FOLLOW_UP, history=["What is the recipe for chocolate cake?"])
    assert "Cited:" not in unrelated.standalone  # an abstention carries no cable forward
