# ember-test: compare
"""A DataLoader with worker processes started by fork and spawn: spawned workers re-create
this script's Dataset class, so `import torch` has to work in them too."""
import torch
from torch.utils.data import DataLoader, Dataset


class Squares(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return torch.tensor([float(i * i)]), i


if __name__ == "__main__":
    for context in ("fork", "spawn"):
        loader = DataLoader(Squares(), batch_size=4, num_workers=2,
                            multiprocessing_context=context)
        print(context, [(x.flatten().tolist(), i.tolist()) for x, i in loader])
