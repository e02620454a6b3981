"""Text: Han characters, punctuation, traditional/simplified conversion, variant forms, line normalisation.

The bottom layer: it imports nothing else of poetcore, and everything else may import it.
"""

__all__: list[str] = []
