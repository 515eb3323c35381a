# ember-test: compare
"""Saves a training state with torch.save and loads it back with torch.load."""
import os
import sys
from collections import OrderedDict

import torch

weight = torch.arange(12.0).reshape(3, 4) / 10
state = {
    "model": OrderedDict(weight=weight, bias=torch.zeros(4), row=weight[1]),
    "step": 7,
    "lr": 0.01,
    "betas": (0.9, 0.999),
    "name": "run-1",
    "mask": torch.tensor([True, False, True]),
}
path = os.path.join(sys.argv[1], "checkpoint.pt")
torch.save(state, path)
loaded = torch.load(path, map_location="cpu")
print(sorted(loaded), loaded["step"], loaded["lr"], loaded["betas"], loaded["name"])
model = loaded["model"]
print(list(model), model["weight"].dtype, tuple(model["weight"].shape),
      loaded["mask"].tolist())
print("weight equal:", bool((model["weight"] == weight).all()), "sum:", model["weight"].sum().item())
model["row"].fill_(1.0)  # the view still shares memory with the weight it was saved with
print("row shares memory:", model["weight"][1].tolist())
