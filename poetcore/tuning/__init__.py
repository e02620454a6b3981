"""Learning from our own poems: the critic trained against the generator's samples."""
