"""The model: the char-level tokenizer, the Llama presets, training, shipping and the model card.

Everything here imports torch or transformers; nothing torch-free may import it.
"""

__all__: list[str] = []
