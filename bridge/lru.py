"""A dictionary with a bound: every per-person or per-chat table kept in memory is one, so a
flood of distinct keys (clones, private chats, groups the bot is added to) costs a fixed
amount of memory and forgets the least recently written first."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")


class Lru(MutableMapping[K, V]):
    """At most `limit` keys; writing a key makes it the newest, and the oldest goes first.

    Reading does not count as a use (a cache that must outlive its readers writes again).

    >>> seen = Lru[str, int](2)
    >>> seen["a"], seen["b"], seen["a"], seen["c"] = 1, 2, 3, 4
    >>> dict(seen)
    {'a': 3, 'c': 4}
    """

    __slots__ = ("_items", "limit")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"an Lru keeps at least one key, not {limit}")
        self.limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __setitem__(self, key: K, value: V) -> None:
        items = self._items
        items[key] = value
        items.move_to_end(key)
        if len(items) > self.limit:
            items.popitem(last=False)

    def __delitem__(self, key: K) -> None:
        del self._items[key]

    def __iter__(self) -> Iterator[K]:
        """Oldest first."""
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | D, /) -> V | D: ...
    def get(self, key: K, default: object = None, /) -> object:
        """Like dict.get (the hot paths ask this, so it skips Mapping's generic version)."""
        return self._items.get(key, default)

    def __repr__(self) -> str:
        return f"Lru({self.limit}, {dict(self._items)!r})"
