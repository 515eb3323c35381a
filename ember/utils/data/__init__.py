"""ember.utils.data: Dataset, DataLoader, samplers, collate."""
