"""Constrained decoding: the poem spec, the vocabulary masks, the logits processor, sampling, reranking.

Form, 平仄 and rhyme are guaranteed here, at every step of ``generate``, not checked afterwards.
"""

__all__: list[str] = []
