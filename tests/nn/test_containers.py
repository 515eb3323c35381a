"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch."""
import re
from collections import OrderedDict

import pytest
import torch

import ember
from helpers import randn
from nn_mirror import compare


def _norm(text):
    return re.sub(r"\b(torch|ember)\b", "LIB", text)


def _layers(lib, n=3):
    return [lib.nn.Linear(2, 2) for _ in range(n)]


def _same_structure(e, t):
    assert _norm(repr(e)) == _norm(repr(t))
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]


def _both(build):
    return build(ember), build(torch)


def test_sequential_forward_and_grads():
    e, t = _both(lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(),
                                               lib.nn.Linear(4, 2)))
    compare(e, t, randn(5, 3))
    e, t = _both(lambda lib: lib.nn.Sequential(OrderedDict(
        [("fc", lib.nn.Linear(3, 2)), ("act", lib.nn.Sigmoid())])))
    compare(e, t, randn(5, 3))
    assert e.fc is e[0] and [k for k, _ in e.named_children()] == ["fc", "act"]
    _same_structure(e, t)
    assert repr(ember.nn.Sequential()) == "Sequential()"
    x = ember.ones(2)
    assert ember.nn.Sequential()(x) is x


@pytest.mark.parametrize("edit", [
    lambda lib, s, extra: s.append(extra),
    lambda lib, s, extra: s.insert(1, extra),
    lambda lib, s, extra: s.insert(-1, extra),
    lambda lib, s, extra: s.insert(3, extra),
    lambda lib, s, extra: s.extend([extra, lib.nn.ReLU()]),
    lambda lib, s, extra: s.pop(1),
    lambda lib, s, extra: s.__delitem__(0),
    lambda lib, s, extra: s.__delitem__(slice(0, 2)),
    lambda lib, s, extra: s.__delitem__(-1),
    lambda lib, s, extra: s.__setitem__(-2, extra),
    lambda lib, s, extra: s.__iadd__(lib.nn.Sequential(extra)),
    lambda lib, s, extra: s.__imul__(2),
])
def test_sequential_edits_match_torch(edit):
    results = []
    for lib in (ember, torch):
        s = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2))
        extra = lib.nn.Tanh()
        out = edit(lib, s, extra)
        results.append((s, out))
    (es, eo), (ts, to) = results
    _same_structure(es, ts)
    assert type(eo).__name__ == type(to).__name__
    assert list(es._modules) == list(ts._modules)


def test_sequential_indexing_and_operators():
    for lib in (ember, torch):
        a, b, c = _layers(lib)
        s = lib.nn.Sequential(a, b, c)
        assert s[0] is a and s[-1] is c and len(s) == 3 and list(s) == [a, b, c]
        sub = s[1:]
        assert type(sub) is lib.nn.Sequential and list(sub) == [b, c]
        assert list(sub._modules) == ["1", "2"]  # slices keep the original names
        assert list(s[::-1]) == [c, b, a]
        with pytest.raises(IndexError, match="index 3 is out of range"):
            s[3]
        with pytest.raises(IndexError, match="index -4 is out of range"):
            s[-4]
        both = s + lib.nn.Sequential(a)
        assert list(both) == [a, b, c, a] and list(both._modules) == ["0", "1", "2", "3"]
        doubled = s * 2
        assert list(doubled) == [a, b, c, a, b, c] and list(2 * s) == list(doubled)
        with pytest.raises(ValueError, match="add operator supports only objects of "
                                             "Sequential class"):
            s + [a]
        with pytest.raises(ValueError, match="Non-positive multiplication factor"):
            s * 0
        with pytest.raises(TypeError, match="unsupported operand"):
            s * 1.5
        with pytest.raises(IndexError, match="Index out of range: 5"):
            s.insert(5, a)
        with pytest.raises(AssertionError):
            s.insert(0, 3)
        assert "0" not in dir(s) and "forward" in dir(s)


def test_module_list():
    e, t = _both(lambda lib: lib.nn.ModuleList(_layers(lib) + [lib.nn.ReLU(), lib.nn.Tanh()]))
    assert repr(e) == repr(t)  # runs of equal layers are shown once: (0-2): 3 x Linear(...)
    assert "(0-2): 3 x Linear" in repr(e)
    for lib, m in ((ember, e), (torch, t)):
        extra = lib.nn.Sigmoid()
        m.append(extra)
        m.insert(1, lib.nn.ReLU())
        m.extend([lib.nn.Identity()])
        m += [lib.nn.Identity()]
        del m[0]
        m[-1] = lib.nn.Tanh()
        assert m.pop(0).__class__.__name__ == "ReLU"
        del m[1:3]
        assert type(m[1:]) is lib.nn.ModuleList and type(m + [extra]) is lib.nn.ModuleList
        assert m[-2] is not None and len(m) == 5
        with pytest.raises(IndexError, match="index 9 is out of range"):
            m[9]
        with pytest.raises(TypeError, match="ModuleList.extend should be called with an "
                                            "iterable"):
            m.extend(3)
    _same_structure(e, t)
    assert repr(ember.nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"
    with pytest.raises(NotImplementedError, match="missing the required \"forward\""):
        e(ember.ones(1))


def test_module_dict():
    def build(lib):
        return lib.nn.ModuleDict({"b": lib.nn.Linear(2, 2), "a": lib.nn.ReLU()})
    e, t = _both(build)
    _same_structure(e, t)
    for lib, m in ((ember, e), (torch, t)):
        m["c"] = lib.nn.Tanh()
        m.update([("d", lib.nn.Sigmoid())])
        m.update(lib.nn.ModuleDict({"e": lib.nn.Identity()}))
        assert list(m.keys()) == ["b", "a", "c", "d", "e"] and list(m) == list(m.keys())
        assert "a" in m and "z" not in m and len(m) == 5
        assert type(m.pop("a")).__name__ == "ReLU"
        del m["b"]
        assert [type(v).__name__ for v in m.values()] == ["Tanh", "Sigmoid", "Identity"]
        assert [k for k, _ in m.items()] == ["c", "d", "e"]
        with pytest.raises(TypeError, match="ModuleDict.update should be called with an "
                                            "iterable of key/value pairs"):
            m.update(3)
        with pytest.raises(ValueError, match="update sequence element #0 has length 3"):
            m.update([(1, 2, 3)])
        with pytest.raises(TypeError, match="update sequence element #0 should be Iterable"):
            m.update([3])
        with pytest.raises(KeyError):
            m["missing"]
    _same_structure(e, t)
    e.clear()
    assert len(e) == 0


def _param_list(lib):
    return lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4), "text"])


def test_parameter_list():
    e, t = _both(_param_list)
    assert _norm(repr(e)) == _norm(repr(t))
    for lib, p in ((ember, e), (torch, t)):
        assert isinstance(p[1], lib.nn.Parameter) and p[2] == "text" and len(p) == 3
        p.append(lib.ones(1))
        p.extend([lib.ones(2)])
        p += [lib.ones(3)]
        p[0] = lib.full((2,), 5.0)
        assert isinstance(p[0], lib.nn.Parameter)
        sub = p[1:3]
        assert type(sub) is lib.nn.ParameterList and len(sub) == 2
        assert len(list(p.parameters())) == 5
        with pytest.raises(IndexError, match="index 10 is out of range"):
            p[10]
        with pytest.raises(TypeError, match="ParameterList.extend should be called with an "
                                            "iterable"):
            p.extend(lib.ones(2))
        with pytest.raises(RuntimeError, match="ParameterList should not be called"):
            p(1)
    assert _norm(repr(e)) == _norm(repr(t))
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert list(e.state_dict()) == list(t.state_dict())


def test_parameter_dict():
    def build(lib):
        return lib.nn.ParameterDict({"w": lib.ones(2), "a": lib.nn.Parameter(lib.zeros(3)),
                                     "s": "text"})
    e, t = _both(build)
    assert _norm(repr(e)) == _norm(repr(t))
    assert list(e.keys()) == list(t.keys()) == ["a", "s", "w"]  # a dict is sorted
    for lib, p in ((ember, e), (torch, t)):
        p["z"] = lib.ones(1)
        p.update(OrderedDict([("y", lib.ones(2)), ("x", lib.ones(3))]))
        p.update([("v", lib.ones(4))])
        assert isinstance(p["z"], lib.nn.Parameter) and "z" in p and len(p) == 7
        assert p.get("missing", 3) == 3 and p.setdefault("u", lib.ones(5)).shape == (5,)
        assert p.pop("a").shape == (3,)
        assert p.popitem()[0] == "u"
        assert list(reversed(p))[0] == "v"
        copy = p.copy()
        assert list(copy.keys()) == list(p.keys()) and copy["w"] is p["w"]
        merged = p | lib.nn.ParameterDict({"new": lib.ones(1)})
        assert "new" in merged and "new" not in p
        p |= {"q": lib.ones(1)}
        assert "q" in p
        assert list(p.fromkeys(["k1", "k2"]).keys()) == ["k1", "k2"]
        with pytest.raises(TypeError, match="cannot be used as a key"):
            p[3]
        with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
            p(1)
        del p["z"]
    assert list(e.keys()) == list(t.keys())
    assert _norm(repr(e)) == _norm(repr(t))
    assert list(e.state_dict()) == list(t.state_dict())
    with pytest.raises(TypeError, match="cannot be used as a key"):
        e[3] = ember.ones(1)
    assert 3 not in e._keys  # unlike torch, a rejected key is not kept
    e.clear()
    assert len(e) == 0 and list(e.parameters()) == []


def test_container_deprecated():
    with pytest.warns(FutureWarning, match="nn.Container` is deprecated"):
        c = ember.nn.Container(fc=ember.nn.Linear(1, 1))
    assert isinstance(c.fc, ember.nn.Linear)
