"""The torch alias: makes 'import torch' resolve to ember for ember run."""
