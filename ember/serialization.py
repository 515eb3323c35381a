"""ember.save / ember.load: safe, atomic checkpoints; reading PyTorch .pt files; safetensors."""
