"""Short names for span kinds, shared by the render tests' tables."""

from __future__ import annotations

from bridge.model import SpanKind

B, IT, U, S, C, P, L, SP = (
    SpanKind.BOLD,
    SpanKind.ITALIC,
    SpanKind.UNDERLINE,
    SpanKind.STRIKE,
    SpanKind.CODE,
    SpanKind.PRE,
    SpanKind.LINK,
    SpanKind.SPOILER,
)
