"""Random numbers: Generator, manual_seed, and the random creation ops (rand, randn, randint, ...)."""
