#!/usr/bin/env python3
"""Writes PyTorch zip checkpoints (.pt) the way torch.save does, without torch (CI has none).

torch.save pickles the object with protocol 2 through a Pickler whose persistent_id turns each
storage into ('storage', torch.<T>Storage, key, location, numel); tensors reduce to
torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks) and
parameters to torch._utils._rebuild_parameter(tensor, requires_grad, hooks). The zip holds
<prefix>/data.pkl, <prefix>/byteorder, <prefix>/data/<key> (raw little-endian storages, stored
uncompressed) and <prefix>/version. Stand-in modules named like torch's make pickle write the
same GLOBAL references.

Input: a JSON spec on stdin:
  {"path": OUT, "prefix": "archive", "byteorder": "little", "protocol": 2,
   "root": TREE, "entries": {"name": "hex bytes", ...}, "omit": ["name", ...]}
TREE: JSON numbers/strings/lists/dicts (dicts become plain dicts), or
  {"__tensor__": {"dtype": "float32", "storage": KEY?, "values": [...], "shape": [...],
                  "stride": [...]?, "offset": 0?, "param": false?}}
  {"__tuple__": [...]}, {"__ordered__": [[key, TREE], ...]},
  {"__object__": {"module": M, "name": N, "state": TREE}}
"entries" adds or replaces raw zip entries (hex), "omit" drops generated ones; a "raw_pickle"
key (hex) replaces data.pkl.
"""

import collections
import io
import json
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils

DTYPES = {
    "float32": ("FloatStorage", "f"),
    "float64": ("DoubleStorage", "d"),
    "float16": ("HalfStorage", "e"),
    "bfloat16": ("BFloat16Storage", None),
    "int64": ("LongStorage", "q"),
    "int32": ("IntStorage", "i"),
    "int16": ("ShortStorage", "h"),
    "int8": ("CharStorage", "b"),
    "uint8": ("ByteStorage", "B"),
    "bool": ("BoolStorage", "?"),
}

for _name, _ in DTYPES.values():
    _cls = type(_name, (), {"__module__": "torch"})
    setattr(torch, _name, _cls)


def _rebuild_tensor_v2(*args):
    raise RuntimeError("stand-in")


def _rebuild_parameter(*args):
    raise RuntimeError("stand-in")


for _f in (_rebuild_tensor_v2, _rebuild_parameter):
    _f.__module__ = "torch._utils"
    setattr(torch_utils, _f.__name__, _f)


class Storage:
    def __init__(self, key, dtype, values):
        self.key, self.dtype, self.values = key, dtype, values

    def raw(self):
        name, code = DTYPES[self.dtype]
        if code is None:  # bfloat16: the high half of the f32 (truncated)
            return b"".join(struct.pack("<f", v)[2:] for v in self.values)
        return struct.pack("<%d%s" % (len(self.values), code), *self.values)


class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def __reduce_ex__(self, protocol):
        return (
            torch_utils._rebuild_tensor_v2,
            (self.storage, self.offset, tuple(self.shape), tuple(self.stride), False,
             collections.OrderedDict()),
        )


class Parameter:
    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, protocol):
        return (torch_utils._rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


def contiguous(shape):
    stride, n = [], 1
    for d in reversed(shape):
        stride.append(n)
        n *= d
    return list(reversed(stride))


class Builder:
    def __init__(self):
        self.storages = collections.OrderedDict()

    def build(self, t):
        if isinstance(t, list):
            return [self.build(x) for x in t]
        if not isinstance(t, dict):
            return t
        if "__tensor__" in t:
            spec = t["__tensor__"]
            key = str(spec.get("storage", len(self.storages)))
            if key not in self.storages:
                self.storages[key] = Storage(key, spec["dtype"], spec["values"])
            shape = spec.get("shape", [len(spec["values"])])
            tensor = Tensor(self.storages[key], spec.get("offset", 0), shape,
                            spec.get("stride", contiguous(shape)))
            return Parameter(tensor) if spec.get("param") else tensor
        if "__tuple__" in t:
            return tuple(self.build(x) for x in t["__tuple__"])
        if "__ordered__" in t:
            return collections.OrderedDict((k, self.build(v)) for k, v in t["__ordered__"])
        if "__object__" in t:
            spec = t["__object__"]
            parts = spec["module"].split(".")
            for i in range(1, len(parts) + 1):
                sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
            mod = sys.modules[spec["module"]]
            cls = getattr(mod, spec["name"], None)
            if cls is None:
                cls = type(spec["name"], (), {"__module__": spec["module"]})
                setattr(mod, spec["name"], cls)
            obj = cls.__new__(cls)
            obj.__dict__.update(self.build(spec.get("state", {})))
            return obj
        return {k: self.build(v) for k, v in t.items()}


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            name, _ = DTYPES[obj.dtype]
            return ("storage", getattr(torch, name), obj.key, "cpu", len(obj.values))
        return None


def write(spec):
    builder = Builder()
    root = builder.build(spec["root"])
    buf = io.BytesIO()
    TorchPickler(buf, protocol=spec.get("protocol", 2)).dump(root)
    prefix = spec.get("prefix", "archive")
    entries = collections.OrderedDict()
    entries["data.pkl"] = buf.getvalue()
    entries["byteorder"] = spec.get("byteorder", "little").encode()
    for key, storage in builder.storages.items():
        entries["data/" + key] = storage.raw()
    entries["version"] = b"3\n"
    for name in spec.get("omit", []):
        entries.pop(name, None)
    for name, hexbytes in spec.get("entries", {}).items():
        entries[name] = bytes.fromhex(hexbytes)
    if "raw_pickle" in spec:
        entries["data.pkl"] = bytes.fromhex(spec["raw_pickle"])
    with zipfile.ZipFile(spec["path"], "w", zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            z.writestr(prefix + "/" + name, data)


if __name__ == "__main__":
    write(json.load(sys.stdin))
