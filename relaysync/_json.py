"""The JSON codec of the wire: one compact encoder and one decoder, built once.

``json.dumps``/``json.loads`` with options build an encoder or check their arguments on
every call; these bound methods skip that on the request and frame paths.
"""

from __future__ import annotations

import json

#: Compact JSON text of a frame (no spaces after separators).
encode = json.JSONEncoder(separators=(",", ":")).encode
#: Parse JSON text (``json.loads`` minus its per-call checks).
decode = json.JSONDecoder().decode

__all__ = ["decode", "encode"]
