"""Timing helpers shared by the benchmarks: each workload runs in ember and in PyTorch in the
same process, alternating, and the ratio of their best times is what is reported (these
machines are shared and noisy: ratios are comparable, absolute times are not)."""
import time


def best_time(fn, repeats=7, min_seconds=0.2):
    """The fastest of ``repeats`` measurements of ``fn()``, each looping long enough to last
    about ``min_seconds / repeats``; returns seconds per call."""
    fn()  # warm up
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed * repeats >= min_seconds or loops >= 1 << 20:
            break
        loops *= 2
    best = elapsed / loops
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - start) / loops)
    return best


def compare(workloads, repeats=7, min_seconds=0.2):
    """Time each (name, ember_fn, torch_fn) and print a table of times and ratios."""
    rows = []
    for name, ember_fn, torch_fn in workloads:
        # Alternate the two so that drifting machine load affects both alike.
        e = t = float("inf")
        for _ in range(2):
            e = min(e, best_time(ember_fn, repeats, min_seconds))
            t = min(t, best_time(torch_fn, repeats, min_seconds))
        rows.append((name, e, t, e / t))
    width = max(len(r[0]) for r in rows)
    print(f"{'workload':<{width}}  {'ember':>10}  {'pytorch':>10}  {'ratio':>6}")
    for name, e, t, ratio in rows:
        print(f"{name:<{width}}  {_fmt(e):>10}  {_fmt(t):>10}  {ratio:6.2f}")
    return rows


def _fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
