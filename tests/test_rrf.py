"""Reciprocal rank fusion and the final cut, on hand-worked toy rankings."""
import pytest

from qa.retrieve import rrf, top_k


def test_rrf_hand_worked():
    # k = 60. dense: a b c ; keyword: b d
    #   b: 1/62 + 1/61 = 0.0161290 + 0.0163934 = 0.0325224
    #   a: 1/61        = 0.0163934
    #   d: 1/62        = 0.0161290
    #   c: 1/63        = 0.0158730
    fused = rrf([["a", "b", "c"], ["b", "d"]], k=60)
    assert [item for item, _ in fused] == ["b", "a", "d", "c"]
    assert [s for _, s in fused] == pytest.approx([1 / 62 + 1 / 61, 1 / 61, 1 / 62, 1 / 63])


def test_rrf_small_k_rewards_top_ranks_more():
    # k = 1: x is first in one list (1/2) and absent from the other; y is second in both
    # (1/3 + 1/3 = 0.667), so y wins; with k = 60 the gap all but vanishes but y still wins.
    assert rrf([["x", "y"], ["z", "y"]], k=1)[0] == ("y", pytest.approx(2 / 3))
    assert [i for i, _ in rrf([["x", "y"], ["z", "y"]], k=60)] == ["y", "x", "z"]


def test_rrf_ties_keep_first_seen_order_and_empty_lists_are_fine():
    assert rrf([["p"], ["q"], []], k=60) == [("p", pytest.approx(1 / 61)), ("q", pytest.approx(1 / 61))]
    assert rrf([], k=60) == []


def test_top_k_keeps_the_head_of_every_list():
    fused = ["b", "c", "d", "e", "a"]  # "a" is first in the keyword list but last fused
    lists = [["b", "c", "d", "e"], ["a", "b"]]
    assert top_k(fused, lists, k=3, guaranteed=1) == ["b", "c", "a"]
    assert top_k(fused, lists, k=3, guaranteed=0) == ["b", "c", "d"]
    assert top_k(fused, lists, k=10, guaranteed=2) == fused
