"""YAML text to Python data, through libyaml where PyYAML was built with it.

The pure-Python parser costs ~10 ms for the shipped defaults; a SIGHUP reload parses
them again while the music plays, and that parse (in a thread or not) holds the GIL
the pump needs: libyaml's C parser does the same work in a fraction of the time. Both
loaders are the *safe* one (plain data only) and raise ``yaml.YAMLError`` with a mark.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The one document in ``text`` as plain data (None for an empty document)."""
    return yaml.load(text, Loader=_LOADER)  # a safe loader: plain data only
