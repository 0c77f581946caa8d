"""Control characters out of relayed text, spans kept on the same characters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import Span
from bridge.render.text import _strip_each, strip_controls
from tests.support.spans import B, L

# plain letters most of the time, so both the shortcut and the loop are exercised; line
# breaks that are not control characters apart, so texts with only those come up often
CHARS = st.one_of(
    st.sampled_from("ab xy"),
    st.sampled_from("\u2028\u2029\u200b\u00e9"),
    st.sampled_from("\t\n\r\x00\x0b\x0c\x1f\x7f\x85\x9f\ud800\udfff"),
    st.characters(),
)


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = "".join(draw(st.lists(CHARS, max_size=30)))  # st.text would drop some of them
    spans = []
    for _ in range(draw(st.integers(0, 4))):
        a = draw(st.integers(0, len(text) + 2))  # past the end too: spans get clipped
        b = draw(st.integers(a, len(text) + 3))
        spans.append(Span(B, a, b))
    return text, spans


@settings(max_examples=400)
@given(text_and_spans(), st.booleans())
def test_the_shortcut_strips_as_the_loop_does(
    case: tuple[str, list[Span]], breaks_to_space: bool
) -> None:
    text, spans = case
    assert strip_controls(text, spans, breaks_to_space=breaks_to_space) == _strip_each(
        text, spans, breaks_to_space
    )


def test_controls_go_and_spans_follow() -> None:
    spans = [Span(B, 2, 5), Span(L, 0, 9, "http://x/")]
    assert strip_controls("a\x00bc\tde\r\n", spans) == (
        "abc de",
        (Span(B, 1, 4), Span(L, 0, 6, "http://x/")),
    )
    assert strip_controls("a\r\nb\u2028c", breaks_to_space=True) == ("a b c", ())
    assert strip_controls("a\u2028c", breaks_to_space=True) == ("a c", ())  # no control at all
    assert strip_controls("a\u2028c") == ("a\u2028c", ())
    assert strip_controls("plain", [Span(B, 1, 99)]) == ("plain", (Span(B, 1, 5),))
