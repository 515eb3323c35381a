"""ember.utils: data loading and tools around training."""
