"""The demo library: synthetic music with messy tags, DJ-set tracklists, and the truth for both.

See :func:`musicwb.demo.build.build_demo`.
"""

from musicwb.demo.audio import *  # noqa: F403
from musicwb.demo.audio import __all__ as _audio_all
from musicwb.demo.build import *  # noqa: F403
from musicwb.demo.build import FORMATS, MARKER, DJ, Artist, Label, encode_audio
from musicwb.demo.build import __all__ as _build_all

__all__ = sorted({*_audio_all, *_build_all, "FORMATS", "MARKER", "DJ", "Artist", "Label",
                  "encode_audio"})
