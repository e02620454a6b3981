"""The platform-neutral chat core: parser, message catalogue, poem rendering, queue submission."""

__all__: list[str] = []
