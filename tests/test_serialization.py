"""ember.save / ember.load (ember's format), reading PyTorch checkpoints, safetensors."""
import collections
import io
import json
import math
import os
import pickle
import stat
import struct
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember.serialization import _io, safetensors
from helpers import raises

ALL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
              "float32", "float64", "complex64", "complex128"]
Point = collections.namedtuple("Point", ["x", "y"])


def sample(name, shape, seed=0):
    """A torch tensor of dtype ``name`` with varied values (NaN-free)."""
    g = torch.Generator().manual_seed(seed)
    dt = getattr(torch, name)
    if dt.is_floating_point or dt.is_complex:
        return torch.randn(shape, generator=g, dtype=dt) * 3
    if dt == torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    return torch.randint(-100 if name != "uint8" else 0, 100, shape, generator=g).to(dt)


def to_ember(t):
    if t.dtype == torch.bfloat16:
        arr = t.view(torch.int16).numpy().view(ember.bfloat16.np)
    else:
        arr = t.numpy()
    return ember.from_numpy(arr.copy())


def assert_tensor(e, t):
    """ember tensor ``e`` equals torch tensor ``t``: dtype, shape and bits."""
    assert e.dtype.name == str(t.dtype).replace("torch.", ""), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    expected = t.view(torch.int16).numpy() if t.dtype == torch.bfloat16 else t.numpy()
    got = e.detach().numpy()
    if t.dtype == torch.bfloat16:
        got = got.view(np.int16)
    np.testing.assert_array_equal(got, expected)


def roundtrip(obj, tmp_path=None, **load_kwargs):
    if tmp_path is None:
        buf = io.BytesIO()
        ember.save(obj, buf)
        buf.seek(0)
        return ember.load(buf, **load_kwargs)
    path = tmp_path / "ckpt.pt"
    ember.save(obj, path)
    return ember.load(path, **load_kwargs)


def torch_bytes(obj, new_zipfile=True):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=new_zipfile)
    return buf.getvalue()


def shares_memory(a, b):
    return np.shares_memory(a._data, b._data)


# ---- ember's format: values -------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_tensor_dtypes_and_shapes(dtype, tmp_path):
    samples = {str(s): sample(dtype, s) for s in [(), (0,), (3,), (2, 0, 3), (2, 3, 4)]}
    loaded = roundtrip({k: to_ember(t) for k, t in samples.items()}, tmp_path)
    for key, t in samples.items():
        assert_tensor(loaded[key], t)
        assert loaded[key].is_leaf and not loaded[key].requires_grad


def test_non_contiguous_tensors():
    base = to_ember(sample("float32", (4, 6)))
    views = {"t": base.t(), "step": base[::2, 1::3], "expanded": base[0].expand(3, 6),
             "col": base[:, 2], "scalar": base[1, 1]}
    loaded = roundtrip(views)  # without the base: only the memory the views cover is saved
    for key, v in views.items():
        np.testing.assert_array_equal(loaded[key].numpy(), v.numpy())
        assert loaded[key].stride() == v.stride(), key


def test_plain_values_roundtrip(tmp_path):
    obj = {
        "none": None, "bools": [True, False], "int": 2 ** 70, "neg": -3, "float": 0.1,
        "specials": [math.inf, -math.inf], "complex": 1 - 2j, "str": "héllo",
        "bytes": b"\x00\xff",
        "bytearray": bytearray(b"ab"), "tuple": (1, (2, 3)), "set": {1, 2}, "frozen": frozenset("a"),
        "list": [[], {}], "point": Point(1, [2.5]), 7: "int key", (1, "a"): "tuple key",
        "dtype": ember.bfloat16, "device": ember.device("cpu"), "size": ember.Size([2, 3]),
        "np": np.arange(6, dtype=np.uint16).reshape(2, 3), "np_scalar": np.float32(1.5),
        "od": collections.OrderedDict(b=1, a=2),
    }
    loaded = roundtrip(obj, tmp_path)
    nan = roundtrip(math.nan)
    assert math.isnan(nan)
    for key, value in obj.items():
        got = loaded[key]
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(got, value)
            assert got.dtype == value.dtype
        else:
            assert got == value, key
        assert type(got).__name__ == type(value).__name__, key
    assert list(loaded) == list(obj) and list(loaded["od"]) == ["b", "a"]
    assert loaded["point"].y == [2.5] and loaded["point"]._fields == ("x", "y")
    assert type(loaded["np_scalar"]) is np.float32


def test_requires_grad_and_parameters():
    p = ember.nn.Parameter(ember.ones(3))
    frozen = ember.nn.Parameter(ember.ones(2), requires_grad=False)
    x = ember.ones(2, requires_grad=True)
    y = x * 2  # not a leaf: comes back as a leaf that requires grad, as in PyTorch
    loaded = roundtrip({"p": p, "frozen": frozen, "x": x, "y": y, "i": ember.arange(3)})
    assert type(loaded["p"]) is ember.nn.Parameter and loaded["p"].requires_grad
    assert type(loaded["frozen"]) is ember.nn.Parameter and not loaded["frozen"].requires_grad
    assert type(loaded["x"]) is ember.Tensor and loaded["x"].requires_grad
    assert loaded["y"].is_leaf and loaded["y"].requires_grad
    assert not loaded["i"].requires_grad


def test_state_dict_metadata_survives():
    sd = collections.OrderedDict(weight=ember.ones(2))
    sd._metadata = collections.OrderedDict({"": {"version": 2}})
    loaded = roundtrip(sd)
    assert loaded._metadata == {"": {"version": 2}}


def test_shared_memory_is_kept():
    base = ember.arange(24.0).reshape(4, 6)
    other = ember.arange(5)
    obj = {"base": base, "row": base[1], "t": base.t(), "cols": base[:, 2:4], "other": other,
           "as_int": ember.from_numpy(base.numpy().view(np.int32))}
    loaded = roundtrip(obj)
    for key in ("row", "t", "cols"):
        assert shares_memory(loaded[key], loaded["base"]), key
    assert not shares_memory(loaded["other"], loaded["base"])
    assert not shares_memory(loaded["as_int"], loaded["base"])  # other dtype: its own copy
    np.testing.assert_array_equal(loaded["as_int"].numpy(), obj["as_int"].numpy())
    loaded["row"][0] = 100.0
    assert loaded["base"][1, 0].item() == 100.0 and loaded["t"][0, 1].item() == 100.0


def test_saving_a_slice_saves_only_the_slice():
    big = ember.zeros(1_000_000)
    buf = io.BytesIO()
    ember.save({"a": big[10:12], "b": big[500_000:500_003]}, buf)
    assert len(buf.getvalue()) < 4096
    buf.seek(0)
    loaded = ember.load(buf)
    assert loaded["a"].shape == (2,) and loaded["b"].shape == (3,)
    assert not shares_memory(loaded["a"], loaded["b"])


def test_storages_are_aligned_in_the_file(tmp_path):
    path = tmp_path / "x.pt"
    ember.save({f"t{i}": ember.ones(i + 1) for i in range(5)}, path)
    with open(path, "rb") as f:
        reader = _io.ZipReader(_io.Source(f, "x", str(path)))
        for info in reader._zip.infolist():
            if info.filename.startswith("data/"):
                assert reader._data_offset(info) % _io.ALIGNMENT == 0


def test_format_is_documented_json(tmp_path):
    path = tmp_path / "x.pt"
    ember.save({"w": ember.ones(2, 3)}, path)
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["format"] == "ember" and manifest["version"] == 1
        assert manifest["storages"] == [{"dtype": "float32", "numel": 6, "location": "cpu"}]
        node = manifest["object"]["items"][0][1]
        assert node["$"] == "tensor" and node["shape"] == [2, 3] and node["stride"] == [3, 1]
        assert np.frombuffer(z.read("data/0"), "<f4").tolist() == [1.0] * 6


def test_file_objects_and_pathlike(tmp_path):
    path = tmp_path / "a.pt"
    with open(path, "wb") as f:
        ember.save([ember.ones(2)], f)
    with open(path, "rb") as f:
        assert ember.load(f)[0].tolist() == [1.0, 1.0]
    assert ember.load(str(path))[0].tolist() == [1.0, 1.0]

    class Stream:  # readable, not seekable: read into memory first
        def __init__(self, data):
            self.data = data

        def read(self, n=-1):
            return self.data

    assert ember.load(Stream(path.read_bytes()))[0].tolist() == [1.0, 1.0]


def test_mmap(tmp_path):
    path = tmp_path / "m.pt"
    x = ember.arange(10.0)
    ember.save({"x": x, "v": x[2:5]}, path)
    loaded = ember.load(path, mmap=True)
    assert loaded["x"].tolist() == x.tolist() and shares_memory(loaded["x"], loaded["v"])
    loaded["x"][0] = 42.0  # changes stay in memory
    assert ember.load(path)["x"][0].item() == 0.0
    raises(ValueError, "mmap=True needs a file path", ember.load, io.BytesIO(path.read_bytes()),
           mmap=True)


def test_map_location_forms():
    obj = {"x": ember.ones(3)}
    for loc in ("cpu", ember.device("cpu"), {"cpu": "cpu"}, lambda storage, location: storage,
                lambda storage, location: None, torch.device("cpu")):
        assert roundtrip(obj, map_location=loc)["x"].tolist() == [1.0] * 3
    seen = []
    roundtrip(obj, map_location=lambda s, loc: seen.append((s.dtype, s.shape, loc)))
    assert seen == [(ember.uint8, (12,), "cpu")]
    raises(TypeError, "map_location must be", roundtrip, obj, map_location=3)
    raises(TypeError, r"must return the storage it was given", roundtrip, obj,
           map_location=lambda s, loc: "cpu")


def cuda_checkpoint():
    """An ember checkpoint whose tensors were saved on cuda:0 (edited: no GPU needed)."""
    buf = io.BytesIO()
    ember.save({"x": ember.arange(3.0), "e": ember.zeros(0)}, buf)
    return rewrite_entry(buf.getvalue(), "manifest.json",
                         lambda m: m.replace(b'"location":"cpu"', b'"location":"cuda:0"'))


def rewrite_entry(data, name, change):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            dst.writestr(info.filename, change(content) if info.filename == name else content)
    return out.getvalue()


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_checkpoint_on_cpu_machine():
    data = cuda_checkpoint()
    raises(RuntimeError, r"saved on cuda:0, but CUDA is not available.*map_location='cpu'",
           ember.load, io.BytesIO(data))
    loaded = ember.load(io.BytesIO(data), map_location="cpu")
    assert loaded["x"].tolist() == [0.0, 1.0, 2.0] and loaded["e"].device.type == "cpu"
    loaded = ember.load(io.BytesIO(data), map_location={"cuda:0": "cpu"})
    assert loaded["x"].device == ember.device("cpu")


@pytest.mark.gpu
def test_cuda_tensors_roundtrip():
    x = ember.arange(6.0, device="cuda").reshape(2, 3)
    loaded = roundtrip({"x": x, "row": x[1], "cpu": ember.ones(2)})
    assert loaded["x"].device.type == "cuda" and loaded["cpu"].device.type == "cpu"
    assert loaded["row"].tolist() == [3.0, 4.0, 5.0]
    on_cpu = roundtrip({"x": x}, map_location="cpu")
    assert on_cpu["x"].device.type == "cpu" and on_cpu["x"].tolist() == x.tolist()
    to_gpu = ember.load(io.BytesIO(torch_bytes({"w": torch.arange(4.0)})), map_location="cuda")
    assert to_gpu["w"].device.type == "cuda" and to_gpu["w"].tolist() == [0, 1, 2, 3]
    from_cuda_file = ember.load(io.BytesIO(cuda_checkpoint()))
    assert from_cuda_file["x"].device.type == "cuda" and from_cuda_file["e"].device.type == "cuda"


# ---- ember's format: saving errors and atomicity ------------------------------------------
class Opaque:
    pass


class HasStateDict:
    def state_dict(self):
        return {}


def test_unsupported_objects_name_the_path(tmp_path):
    path = tmp_path / "bad.pt"
    raises(TypeError, r"cannot save obj\['a'\]\[1\]: an object of type Opaque.*vars\(args\)",
           ember.save, {"a": [1, Opaque()]}, path)
    raises(TypeError, r"cannot save obj\['model'\].*save obj\['model'\]\.state_dict\(\)",
           ember.save, {"model": HasStateDict()}, path)
    raises(TypeError, r"cannot save obj\['a'\]\.keys\(\): an object of type Opaque",
           ember.save, {"a": {Opaque(): 1}}, path)
    raises(TypeError, r"dtype object", ember.save, np.array([None]), path)
    cycle = []
    cycle.append(cycle)
    raises(ValueError, "reference cycle", ember.save, cycle, path)
    assert os.listdir(tmp_path) == []  # nothing was written


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ember.save({"v": 1}, path)
    before = path.read_bytes()
    calls = []

    def failing_write(self, name, data):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        return original(self, name, data)

    original = _io.ZipWriter.write
    monkeypatch.setattr(_io.ZipWriter, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"w": ember.ones(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary file left behind


def test_save_keeps_permissions_and_links(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save(1, path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    os.chmod(path, 0o600)
    ember.save(2, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    link = tmp_path / "latest.pt"
    link.symlink_to(path)
    ember.save(3, link)
    assert link.is_symlink() and ember.load(path) == 3


def test_save_path_errors(tmp_path):
    raises(FileNotFoundError, "does not exist; create it first", ember.save, 1,
           tmp_path / "missing" / "x.pt")
    raises(IsADirectoryError, "is a directory", ember.save, 1, tmp_path)
    raises(TypeError, "expected a path", ember.save, 1, 3.5)
    raises(FileNotFoundError, "no such file", ember.load, tmp_path / "nope.pt")


# ---- ember's format: damaged files ----------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint_bytes():
    buf = io.BytesIO()
    ember.save({"w": ember.arange(1000.0), "step": 3}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95, 0.999])
def test_truncated_checkpoint(tmp_path, checkpoint_bytes, keep):
    path = tmp_path / "cut.pt"
    path.write_bytes(checkpoint_bytes[:int(len(checkpoint_bytes) * keep)])
    raises(RuntimeError, r"cut.pt.*(truncated|corrupt)", ember.load, path)


def test_corrupt_checkpoints(tmp_path, checkpoint_bytes):
    path = tmp_path / "bad.pt"
    data = bytearray(checkpoint_bytes)
    data[len(data) // 2] ^= 0xFF  # inside the tensor data
    path.write_bytes(bytes(data))
    raises(RuntimeError, r"bad.pt.*checksum", ember.load, path)
    path.write_bytes(b"")
    raises(RuntimeError, r"bad.pt.*is empty", ember.load, path)
    path.write_bytes(b"hello, world" * 10)
    raises(RuntimeError, r"bad.pt.*not a checkpoint ember can read", ember.load, path)
    newer = rewrite_entry(checkpoint_bytes, "manifest.json",
                          lambda m: m.replace(b'"version":1', b'"version":7'))
    raises(RuntimeError, "newer ember.*version 7", ember.load, io.BytesIO(newer))
    for old, new in [(b'"numel":1000', b'"numel":9'), (b'"$":"tensor"', b'"$":"mystery"'),
                     (b'"stride":[1]', b'"stride":[5]'), (b'"object"', b'"objet"')]:
        broken = rewrite_entry(checkpoint_bytes, "manifest.json", lambda m: m.replace(old, new))
        raises(RuntimeError, "is corrupt", ember.load, io.BytesIO(broken))


# ---- PyTorch checkpoints -------------------------------------------------------------------
@pytest.fixture(scope="module", params=[True, False], ids=["zip", "legacy"])
def new_zipfile(request):
    return request.param


def test_torch_all_dtypes(new_zipfile):
    tensors = {name: sample(name, (2, 3), seed=i) for i, name in enumerate(ALL_DTYPES)}
    tensors["scalar"] = torch.tensor(2.5, dtype=torch.float64)
    tensors["empty"] = torch.zeros(0, 4, dtype=torch.int32)
    loaded = ember.load(io.BytesIO(torch_bytes(tensors, new_zipfile)))
    for key, t in tensors.items():
        assert_tensor(loaded[key], t)


def test_torch_views_offsets_and_sharing(new_zipfile):
    base = sample("float32", (4, 6))
    obj = {"base": base, "t": base.t(), "row": base[2], "step": base[::2, 1::2],
           "expanded": base[1:2].expand(3, 6)}
    loaded = ember.load(io.BytesIO(torch_bytes(obj, new_zipfile)))
    for key, t in obj.items():
        assert_tensor(loaded[key], t)
        assert loaded[key].stride() == t.stride(), key
        assert shares_memory(loaded[key], loaded["base"]), key
    with ember.no_grad():
        loaded["row"][0] = 123.0
    assert loaded["base"][2, 0].item() == 123.0 and loaded["t"][0, 2].item() == 123.0


def test_torch_state_dicts_and_training_state(new_zipfile):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model(torch.randn(5, 3))
    optim = {"state": {0: {"step": torch.tensor(1.0), "exp_avg": torch.randn(4, 3)}},
             "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "foreach": None,
                               "params": [0, 1]}]}  # an Adam state_dict, as torch writes it
    obj = {"model": model.state_dict(), "optim": optim, "epoch": 3, "best": 0.25,
           "args": {"lr": 0.01, "name": "run", "betas": (0.9, 0.999)}, "size": torch.Size([2]),
           "dtype": torch.float16, "device": torch.device("cpu"), "np": np.float64(1.5),
           "param": torch.nn.Parameter(torch.ones(2)), "frozen": torch.ones(2).requires_grad_()}
    loaded = ember.load(io.BytesIO(torch_bytes(obj, new_zipfile)))
    assert type(loaded["model"]) is collections.OrderedDict
    assert loaded["model"]._metadata == model.state_dict()._metadata
    for key, t in model.state_dict().items():
        assert_tensor(loaded["model"][key], t)
    assert_tensor(loaded["optim"]["state"][0]["exp_avg"], optim["state"][0]["exp_avg"])
    assert loaded["optim"]["param_groups"] == optim["param_groups"]
    assert (loaded["epoch"], loaded["best"], loaded["args"]) == (3, 0.25, obj["args"])
    assert loaded["size"] == ember.Size([2]) and loaded["dtype"] is ember.float16
    assert loaded["device"] == ember.device("cpu")
    assert type(loaded["np"]) is np.float64 and loaded["np"] == 1.5
    assert type(loaded["param"]) is ember.nn.Parameter and loaded["param"].requires_grad
    assert type(loaded["frozen"]) is ember.Tensor and loaded["frozen"].requires_grad


def test_torch_big_endian_record():
    """A zip checkpoint written on a big-endian machine: the byteorder record says so."""
    tensors = {"f": sample("float32", (3,)), "bf": sample("bfloat16", (2,)),
               "i": sample("int64", (2, 2)), "c": sample("complex128", (2,)),
               "b": sample("bool", (3,))}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(torch_bytes(tensors))) as src, \
            zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename.endswith("/byteorder"):
                content = b"big"
            elif "/data/" in info.filename:
                # torch numbers storages in the order it meets them: key i is tensor i here
                t = list(tensors.values())[int(info.filename.rsplit("/", 1)[1])]
                arr = t.view(torch.int16).numpy() if t.dtype == torch.bfloat16 else t.numpy()
                content = arr.byteswap().tobytes()  # complex: each part swapped, as on disk
            dst.writestr(info.filename, content)
    loaded = ember.load(io.BytesIO(out.getvalue()))
    for key, t in tensors.items():
        assert_tensor(loaded[key], t)


def test_torch_mmap_and_map_location(tmp_path):
    path = tmp_path / "t.pt"
    torch.save({"w": torch.arange(6.0).reshape(2, 3)}, path)
    loaded = ember.load(path, mmap=True, map_location="cpu")
    assert loaded["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    torch.save({"w": torch.arange(3.0)}, path, _use_new_zipfile_serialization=False)
    raises(RuntimeError, "mmap=True needs a checkpoint in a zip format", ember.load, path,
           mmap=True)
    locations = []
    ember.load(path, map_location=lambda s, loc: locations.append(loc))
    assert locations == ["cpu"]


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch exploited-by-pickle",))


def malicious_zip(payload):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(payload, protocol=2))
        z.writestr("archive/version", "3\n")
    return out.getvalue()


def malicious_legacy(payload):
    out = io.BytesIO()
    for part in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, payload, []):
        pickle.dump(part, out, protocol=2)
    return out.getvalue()


@pytest.mark.parametrize("make", [malicious_zip, malicious_legacy], ids=["zip", "legacy"])
def test_malicious_pickle_is_refused(make, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = raises(pickle.UnpicklingError, r"needs the Python global '(posix|os)\.system'.*"
                 r"add_safe_globals", ember.load, io.BytesIO(make({"x": Exploit()})))
    assert "refuses" in str(err)
    assert not (tmp_path / "exploited-by-pickle").exists()


def test_safe_globals_and_weights_only_false():
    import argparse
    data = torch_bytes({"args": argparse.Namespace(lr=0.1), "w": torch.ones(2)})
    raises(pickle.UnpicklingError, "argparse.Namespace", ember.load, io.BytesIO(data))
    with ember.serialization.safe_globals([argparse.Namespace]):
        assert ember.load(io.BytesIO(data))["args"].lr == 0.1
    raises(pickle.UnpicklingError, "argparse.Namespace", ember.load, io.BytesIO(data))
    loaded = ember.load(io.BytesIO(data), weights_only=False)
    assert loaded["args"].lr == 0.1 and loaded["w"].tolist() == [1.0, 1.0]


@pytest.mark.filterwarnings("ignore:`torch.jit")
def test_torch_whole_model_and_torchscript_are_refused(tmp_path):
    model = torch.nn.Linear(2, 2)
    raises(pickle.UnpicklingError, r"torch.nn.modules.linear.Linear.*state_dict\(\)",
           ember.load, io.BytesIO(torch_bytes(model)))
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(model), path)
    raises(RuntimeError, "TorchScript archive.*torch.jit.load", ember.load, path)


def test_torch_unsupported_dtype_is_named():
    data = torch_bytes({"u": torch.zeros(2, dtype=torch.uint16)})
    raises(pickle.UnpicklingError, "torch.uint16: ember has no uint16 tensors", ember.load,
           io.BytesIO(data))


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_torch_truncated(keep, new_zipfile):
    data = torch_bytes({"w": torch.arange(500.0)}, new_zipfile)
    raises(RuntimeError, "truncated|corrupt", ember.load, io.BytesIO(data[:int(len(data) * keep)]))


def test_torch_legacy_python2_encoding():
    """A legacy checkpoint whose strings were pickled as Python 2 bytes: encoding='latin1'."""
    data = torch_bytes({"w": torch.ones(2)}, new_zipfile=False)
    loaded = ember.load(io.BytesIO(data), encoding="latin1")
    assert loaded["w"].tolist() == [1.0, 1.0]
    raises(TypeError, "unexpected keyword arguments", ember.load, io.BytesIO(data), bogus=1)


# ---- safetensors -----------------------------------------------------------------------------
def test_safetensors_matches_the_reference_bytes():
    """Byte vectors from the reference implementation's own tests (huggingface/safetensors)."""
    data = ember.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 2, 3)
    expected = (struct.pack("<Q", 64) + b'{"attn.0":{"dtype":"F32","shape":[1,2,3],'
                b'"data_offsets":[0,24]}}' + np.arange(6, dtype="<f4").tobytes())
    assert safetensors.save({"attn.0": data}) == expected
    assert safetensors.load(expected)["attn.0"].tolist() == data.tolist()
    empty = struct.pack("<Q", 8) + b"{}      "
    assert safetensors.save({}) == empty and safetensors.load(empty) == {}
    meta = (struct.pack("<Q", 40) + b'{"__metadata__":{"framework":"pt"}}     ')
    assert safetensors.save({}, metadata={"framework": "pt"}) == meta


def torch_safetensors_file(tensors, metadata=None):
    """A safetensors file built by hand from the spec and torch tensors' bytes."""
    codes = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
             torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32", torch.int16: "I16",
             torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL", torch.complex64: "C64"}
    header, blobs, offset = ({"__metadata__": metadata} if metadata else {}), [], 0
    for name, t in tensors.items():
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def test_safetensors_reads_files_from_the_spec(tmp_path):
    tensors = {name: sample(name, (2, 3), seed=i) for i, name in enumerate(ALL_DTYPES[:-1])}
    tensors["scalar"] = torch.tensor(1.5)
    tensors["empty"] = torch.zeros(0, 2)
    path = tmp_path / "m.safetensors"
    path.write_bytes(torch_safetensors_file(tensors, {"format": "pt"}))
    for loaded in (ember.serialization.load_file(path), ember.load(path),
                   safetensors.load(path.read_bytes())):
        assert list(loaded) == sorted(loaded, key=list(tensors).index)
        for key, t in tensors.items():
            assert_tensor(loaded[key], t)
    with safetensors.safe_open(path, framework="pt") as f:
        assert sorted(f.keys()) == sorted(tensors) and f.metadata() == {"format": "pt"}
        assert_tensor(f.get_tensor("int32"), tensors["int32"])
        raises(KeyError, "no tensor named 'nope'", f.get_tensor, "nope")


def test_safetensors_roundtrip_and_layout(tmp_path):
    tensors = {"b": ember.ones(3, dtype=ember.bool), "w": ember.arange(6.0).reshape(2, 3),
               "h": ember.ones(3, dtype=ember.float16), "a": ember.arange(4)}
    path = tmp_path / "x.safetensors"
    ember.serialization.save_file(tensors, path, metadata={"step": "3"})
    loaded = ember.serialization.load_file(path)
    for key, t in tensors.items():
        assert loaded[key].dtype == t.dtype and loaded[key].tolist() == t.tolist()
    header_len = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8:8 + header_len])
    order = sorted((v["data_offsets"][0], k) for k, v in header.items() if k != "__metadata__")
    assert [k for _, k in order] == ["a", "w", "h", "b"]  # widest dtypes first: aligned
    assert header_len % 8 == 0 and header["__metadata__"] == {"step": "3"}
    assert not shares_memory(loaded["a"], loaded["w"])


def test_safetensors_save_errors(tmp_path):
    path = tmp_path / "x.safetensors"
    base = ember.arange(6.0).reshape(2, 3)
    raises(ValueError, r"'t' is not contiguous.*\.contiguous\(\)", safetensors.save_file,
           {"t": base.t()}, path)
    raises(RuntimeError, r"share memory.*\('a', 'b'\)", safetensors.save_file,
           {"a": base, "b": base[1]}, path)
    safetensors.save({"r0": base[0], "r1": base[1]})  # disjoint parts of one tensor are fine
    raises(TypeError, "complex128, which safetensors cannot store", safetensors.save,
           {"c": ember.zeros(2, dtype=ember.complex128)})
    raises(TypeError, "metadata must be a dict of str -> str", safetensors.save,
           {"a": base}, {"step": 3})
    raises(TypeError, "not a tensor", safetensors.save, {"a": [1]})
    assert not path.exists()


def test_safetensors_invalid_files():
    good = safetensors.save({"a": ember.ones(2), "b": ember.ones(3, dtype=ember.int16)})
    n = int.from_bytes(good[:8], "little")
    header = json.loads(good[8:8 + n])

    def with_header(h, tail=good[8 + n:]):
        text = json.dumps(h).encode()
        return struct.pack("<Q", len(text)) + text + tail

    cases = [
        (good[:5], "fewer than the 8-byte header"),
        (good[:40], "truncated"),
        (good[:-1], "truncated or has trailing bytes"),
        (good + b"\0", "truncated or has trailing bytes"),
        (struct.pack("<Q", 10 ** 9) + good[8:], "over the limit"),
        (struct.pack("<Q", 4) + b"[1] " + good[8 + n:], "not a JSON object"),
        (struct.pack("<Q", 4) + b"{{{{" + good[8 + n:], "not UTF-8 JSON"),
        (with_header({**header, "a": {**header["a"], "dtype": "U16"}}), "has no ember dtype"),
        (with_header({**header, "a": {**header["a"], "dtype": "X9"}}), "not a safetensors dtype"),
        (with_header({**header, "a": {**header["a"], "shape": [3]}}), "needs 12 bytes"),
        (with_header({**header, "a": {**header["a"], "shape": [-2]}}), "malformed shape"),
        (with_header({**header, "a": {"dtype": "F32"}}), "needs dtype, shape and data_offsets"),
        (with_header({**header, "b": {**header["b"], "data_offsets": [9, 15]}}),
         "without gaps or overlaps"),
        (with_header({**header, "__metadata__": {"a": 1}}), "__metadata__ is not a map"),
    ]
    for data, message in cases:
        raises(RuntimeError, f"not a valid safetensors file: .*{message}", safetensors.load,
               data)
