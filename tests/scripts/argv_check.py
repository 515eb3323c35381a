"""Reports how `ember run` set up the script and which torch it got, as JSON."""
import json
import sys

import torch
import torch.backends.cudnn as cudnn
import torch.nn
import torch.nn.functional
import torch.utils.data

cudnn.benchmark = True
print(json.dumps({
    "name": __name__,
    "file": __file__,
    "argv": sys.argv,
    "path0": sys.path[0],
    "torch": torch.__name__,
    "nn_is_ember": torch.nn is sys.modules["ember"].nn,
    "version": torch.__version__,
    "version_cuda": torch.version.cuda,
    "cudnn_benchmark": torch.backends.cudnn.benchmark,
    "mps": torch.backends.mps.is_available(),
    "accelerator": torch.accelerator.is_available(),
    "current_accelerator": str(torch.accelerator.current_accelerator()),
    "cuda": torch.cuda.is_available(),
}))
