"""The bounded map behind the per-process caches."""

from cookies_app.lru import LRU


def test_the_least_recently_used_goes_first_once_over_budget():
    cache = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is used: b is now the oldest

    cache.put("c", 3)

    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert list(cache) == ["a", "c"]


def test_entries_weigh_what_they_are_told_to():
    cache = LRU(10, weigh=len)
    cache.put("a", "x" * 4)
    cache.put("b", "x" * 4)
    cache.put("c", "x" * 4)  # 12 > 10: a goes

    assert list(cache) == ["b", "c"]
    assert cache.weight == 8


def test_a_value_put_again_replaces_its_weight():
    cache = LRU(10, weigh=len)
    cache.put("a", "x" * 6)
    cache.put("a", "x" * 3)
    cache.put("b", "x" * 7)

    assert list(cache) == ["a", "b"], "6 + 7 would be over: 3 + 7 is not"
    assert cache.weight == 10


def test_pop_and_clear_give_their_weight_back():
    cache = LRU(10, weigh=len)
    cache.put("a", "xx")
    cache.put("b", "xxx")

    cache.pop("a")
    cache.pop("missing")
    assert (list(cache), cache.weight) == (["b"], 3)
    cache.clear()
    assert (len(cache), cache.weight) == (0, 0)


def test_a_budget_of_0_keeps_nothing_that_weighs():
    cache = LRU(0)
    cache.put("a", 1)
    assert cache.get("a") is None
