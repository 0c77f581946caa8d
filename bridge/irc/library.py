"""The IRC library, imported without the 0.15 s its table of numerics costs at start-up.

irc.events finds its own folder with importlib_resources.files() and no argument, which
looks for the caller with inspect.stack(): that reads the source of every frame on the
stack and looks up each file's module, about 0.15 s under the bridge's imports. While the
library is imported, inspect.stack() gives the same frames, file names and function names
without reading any source (no code context), which is all importlib_resources looks at.
"""

from __future__ import annotations

import inspect
import sys
from types import FrameType


def _frames_only(context: int = 1) -> list[inspect.FrameInfo]:
    del context  # nobody here reads the code context
    frames = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        frames.append(
            inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return frames


def _import_quickly() -> None:
    if "irc.events" in sys.modules:
        return
    real = inspect.stack
    inspect.stack = _frames_only
    try:
        import irc.events  # noqa: F401
    finally:
        inspect.stack = real


_import_quickly()
