"""Reads one TOML table into typed values, naming the key of every problem it finds.

read_table() reads a table by its dataclass's fields (config_model.py): the type says which
reader, the field's default is the key's default, a field without one is required."""

from __future__ import annotations

import math
from dataclasses import MISSING, Field, fields
from typing import Any, Literal, TypeVar, cast, get_args, get_origin, get_type_hints

from bridge.config_model import BOUND, PARSE, ZERO_OK, Bound
from bridge.rules import RuleError

T = TypeVar("T")


class Section:
    """Reads one TOML table, remembering which keys were used and every problem found.

    model is the table's dataclass (config_model.py): a numeric key whose field was declared
    with ``bounded()`` is refused outside its bounds."""

    def __init__(
        self, name: str, data: Any, problems: list[str], model: type | None = None
    ) -> None:
        self.name = name
        self.problems = problems
        self.bounds: dict[str, Bound] = {
            f.name: f.metadata[BOUND]
            for f in (fields(model) if model is not None else ())
            if BOUND in f.metadata
        }
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

    def count(self, key: str, default: int, *, zero_ok: bool = False) -> int:
        """A size or rate in whole units: 0 would mean never (nothing sent, nothing run),
        unless it means "off" (zero_ok), never negative."""
        value = cast(int, self._get(key, int, "an integer", default, False))
        bound = self.bounds.get(key)
        if value < 0 and zero_ok:
            problem = "must not be negative"
        elif value < 1 and not zero_ok:
            problem = "must be at least 1"
        elif bound is not None and value > bound.most:
            problem = _too_large(bound, "0 to" if zero_ok else "1 to")
        else:
            return value
        self.problems.append(f"{self.name}.{key}: {problem}")
        return default

    def number(self, key: str, default: float, *, zero_ok: bool = False) -> float:
        """A duration or rate; 0 only where it means "at once" (zero_ok), never negative."""
        value = self._get(key, (int, float), "a number", default, False)
        bound = self.bounds.get(key)
        least = None if bound is None else bound.least
        low = f"{_show(least)} to" if least is not None else "0 to" if zero_ok else "above 0 up to"
        if isinstance(value, float) and math.isnan(value):  # TOML has nan
            problem = "expected a number, got nan" + _allowed(bound, low)
        elif value < 0 and zero_ok:
            problem = "must not be negative"
        elif value <= 0 and not zero_ok:
            problem = "must be greater than 0"
        elif bound is not None and least is not None and value < least:
            problem = f"must be at least {_show(least)} ({bound.least_why})" + _allowed(bound, low)
        elif bound is not None and value > bound.most:  # inf too
            problem = _too_large(bound, low)
        else:
            return float(value)
        self.problems.append(f"{self.name}.{key}: {problem}")
        return default

    def boolean(self, key: str, default: bool) -> bool:
        return cast(bool, self._get(key, bool, "true or false", default, False))

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings", [], False)
        if not all(isinstance(v, str) for v in value):
            self.problems.append(f"{self.name}.{key}: expected a list of strings")
            return ()
        return tuple(value)

    def rules(self, key: str, parse: Any) -> tuple[Any, ...]:
        """A list of strings, each parsed (bridge/rules.py); a refused one is named."""
        parsed = []
        for text in self.strings(key):
            try:
                parsed.append(parse(text))
            except RuleError as exc:
                self.problems.append(f"{self.name}.{key}: {exc}")
        return tuple(parsed)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> Any:
        value = self.string(key, default)
        if value not in choices:
            self.problems.append(f"{self.name}.{key}: expected one of {', '.join(choices)}")
            return default
        return value

    def finish(self) -> None:
        for key in sorted(set(self.data) - self.used):
            self.problems.append(f"{self.name}.{key}: unknown key")


def read_table(section: Section, model: type[T], *, required: bool = True) -> T:
    """The table as model, every field read by its declared type and default; required=False
    when the table itself is missing (reported once, as the table)."""
    hints = get_type_hints(model)
    table = cast(Any, model)  # a dataclass; T says which
    values = {f.name: _read_field(section, f, hints[f.name], required) for f in fields(table)}
    return model(**values)


def _read_field(section: Section, f: Field[Any], kind: Any, required: bool) -> Any:
    key = f.name
    must = f.default is MISSING and f.default_factory is MISSING
    default: Any = None if must else f.default
    if PARSE in f.metadata:
        return section.rules(key, f.metadata[PARSE])
    if kind is bool:
        return section.boolean(key, default)
    if kind is int and BOUND in f.metadata:
        return section.count(key, default, zero_ok=f.metadata.get(ZERO_OK, False))
    if kind is int:
        return section.integer(key, 0 if must else default, required=must and required)
    if kind is float:
        return section.number(key, default, zero_ok=f.metadata.get(ZERO_OK, False))
    if kind is str:
        return section.string(key, "" if must else default, required=must and required)
    if kind == str | None:
        return section.string(key)
    if kind == int | None:
        return section.integer(key)
    if get_origin(kind) is Literal:
        return section.choice(key, default, get_args(kind))
    if kind == tuple[str, ...]:
        return section.strings(key)
    raise TypeError(f"{section.name}.{key}: no reader for {kind!r}")


def _too_large(bound: Bound, low: str) -> str:
    return f"must be at most {_show(bound.most)} ({bound.why})" + _allowed(bound, low)


def _allowed(bound: Bound | None, low: str) -> str:
    """The range named in a problem: "; allowed: 1 to 100"."""
    return "" if bound is None else f"; allowed: {low} {_show(bound.most)}"


def _show(number: float) -> str:
    """8760, not 8760.0 or 8.76e+03."""
    return str(int(number)) if float(number).is_integer() else repr(number)


def check_url(section: Section, key: str, value: str) -> None:
    if not value.startswith(("http://", "https://")):
        section.problems.append(f"{section.name}.{key}: expected an http:// or https:// URL")
