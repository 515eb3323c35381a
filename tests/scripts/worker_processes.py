"""Worker processes started with fork, spawn and forkserver see torch aliased to ember, and can
use functions and classes defined in this script."""
import multiprocessing

import torch


class Doubler:
    def __call__(self, x):
        return (torch.tensor(x) * 2).tolist()


def report(queue):
    queue.put((torch.__name__, type(torch.ones(1)).__module__.split(".")[0], Doubler()(21)))


if __name__ == "__main__":
    for method in ("fork", "spawn", "forkserver"):
        ctx = multiprocessing.get_context(method)
        queue = ctx.Queue()
        worker = ctx.Process(target=report, args=(queue,))
        worker.start()
        print(method, *queue.get(timeout=120))
        worker.join()
