"""Reads one TOML table into typed values, naming the key of every problem it finds."""

from __future__ import annotations

from typing import Any, TypeVar, cast

T = TypeVar("T")


class Section:
    """Reads one TOML table, remembering which keys were used and every problem found."""

    def __init__(self, name: str, data: Any, problems: list[str]) -> None:
        self.name = name
        self.problems = problems
        if not isinstance(data, dict):
            problems.append(f"{name}: expected a table")
            data = {}
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def _get(
        self,
        key: str,
        kind: type[T] | tuple[type, ...],
        what: str,
        default: T | None,
        required: bool,
    ) -> Any:
        self.used.add(key)
        full = f"{self.name}.{key}"
        if key not in self.data:
            if required:
                self.problems.append(f"{full}: missing required key")
            return default
        value = self.data[key]
        bad_bool = isinstance(value, bool) and kind in (int, float, (int, float))
        if not isinstance(value, kind) or bad_bool:
            self.problems.append(f"{full}: expected {what}, got {type(value).__name__}")
            return default
        return value

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self._get(key, str, "a string", default, required)
        if required and key in self.data and isinstance(value, str) and not value.strip():
            self.problems.append(f"{self.name}.{key}: must not be empty")
            return default
        return value

    def integer(self, key: str, default: int | None = None, *, required: bool = False) -> Any:
        return self._get(key, int, "an integer", default, required)

    def count(self, key: str, default: int) -> int:
        """A size or rate in whole units: 0 would mean never (nothing sent, nothing run)."""
        value = cast(int, self._get(key, int, "an integer", default, False))
        if value < 1:
            self.problems.append(f"{self.name}.{key}: must be at least 1")
            return default
        return value

    def number(self, key: str, default: float, *, zero_ok: bool = False) -> float:
        """A duration or rate; 0 only where it means "at once" (zero_ok), never negative."""
        value = self._get(key, (int, float), "a number", default, False)
        if value < 0 and zero_ok:
            self.problems.append(f"{self.name}.{key}: must not be negative")
            return default
        if value <= 0 and not zero_ok:
            self.problems.append(f"{self.name}.{key}: must be greater than 0")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        return cast(bool, self._get(key, bool, "true or false", default, False))

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings", [], False)
        if not all(isinstance(v, str) for v in value):
            self.problems.append(f"{self.name}.{key}: expected a list of strings")
            return ()
        return tuple(value)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> Any:
        value = self.string(key, default)
        if value not in choices:
            self.problems.append(f"{self.name}.{key}: expected one of {', '.join(choices)}")
            return default
        return value

    def finish(self) -> None:
        for key in sorted(set(self.data) - self.used):
            self.problems.append(f"{self.name}.{key}: unknown key")


def check_url(section: Section, key: str, value: str) -> None:
    if not value.startswith(("http://", "https://")):
        section.problems.append(f"{section.name}.{key}: expected an http:// or https:// URL")
