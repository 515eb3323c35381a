"""ember.optim: optimizers and learning-rate schedulers, as ``torch.optim``.

Every optimizer runs PyTorch's single-tensor algorithm, vectorized per parameter on its NumPy
or CuPy array; ``foreach`` and ``fused`` are accepted but select nothing."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "ASGD", "LBFGS", "lr_scheduler",
           "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD"]
