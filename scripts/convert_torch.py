#!/usr/bin/env python3
"""Convert PyTorch weights to a GradFeat weights file (HDF5).

GradFeat's weights file holds one float32 dataset per state-dict entry, named and laid out as in PyTorch
(`conv1.weight` [O, I, kh, kw] (OIHW), `fc.weight` [classes, features], `bn1.running_mean` [C], …), with the root
attributes `format` = "gradfeat-weights", `version` = 1 (int64) and `model` (the GradFeat model name). It is read
by `gradfeat import/train/predict --weights FILE.h5` (see docs/PYTORCH.md). `num_batches_tracked` is dropped.

Environment (Python is never needed to run GradFeat itself; only to convert):

    python3 -m venv .venv-convert
    .venv-convert/bin/pip install torch h5py numpy        # add torchvision for --torchvision
    .venv-convert/bin/python scripts/convert_torch.py --help

Examples:

    # torchvision's ImageNet ResNet18, from a local .pth (no network access is attempted):
    python scripts/convert_torch.py --model resnet18 --torchvision resnet18 \
        --input ~/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth --output resnet18.h5

    # Any state dict (a dict of tensors, or a checkpoint holding one under 'state_dict' / 'model'):
    python scripts/convert_torch.py --model resnet50 --input moco.pth --rename module.encoder_q.= \
        --drop fc. --output resnet50.h5

    # The official GradFeat code (github.com/fmu2/gradfeat20) saves whole modules (torch.save(module)):
    # fnet (θ1: conv1, conv2), hnet (θ2: conv1..3) and clf (fc). Give each with its prefix:
    python scripts/convert_torch.py --model bigan-cifar --official --allow-pickle \
        --input fnet=fnet.pth --input hnet=hnet.pth --input clf=clf.pth --output bigan.h5

Official name map (`--official`, applied after the prefixes; also to a saved whole `Net`):

    fnet.conv1 → conv1    fnet.conv2 → conv2
    hnet.conv1 → conv3    hnet.conv2 → conv4    hnet.conv3 → conv5
    clf.fc     → fc
    hnet.linear1..3 and clf.linear (the trained w2 and ω̄ copy of a GradFeat run) are not base-network weights
    and are skipped with a note.

NTK parametrization. The official code's NTKConv2d / NTKLinear store V and β and compute with
`W = sqrt(1/n_out) · V`, `b = sqrt(0.1) · β` (n_out = out_channels / out_features = weight.shape[0]).
GradFeat's weights file always holds the *effective* (standard) values W, b, so for those layers this script
MULTIPLIES the stored values by the scale (it undoes `std_to_ntk_*`, which divided by it):

    W_file = V · sqrt(1 / weight.shape[0])          b_file = β · sqrt(0.1)

NTK layers are recognised by class name (NTKConv2d, NTKLinear) when whole modules are loaded
(--allow-pickle), or named with `--ntk PREFIX` (source names, e.g. `--ntk hnet. --ntk clf.fc.`) for a
plain state dict, whose keys do not tell. Everything else is copied unchanged (already standard).
GradFeat's own NTK option (`--parametrization ntk`) then applies the same scale again inside training, as
the authors do, starting from these effective values.

Input scaling is not stored: bigan-cifar expects pixels in [0, 1] (the JS-BiGAN/ALI encoders; the
Wasserstein variant of the official code used (x − 0.5)/0.5 and leaky-ReLU slope 0.2, which bigan-cifar
does not model), torchvision ResNets expect ImageNet mean/std normalisation.
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import pickle
import sys
import types

import numpy as np

FORMAT = "gradfeat-weights"
VERSION = 1

# Official GradFeat module names → bigan-cifar names (prefix map, applied to "<module>." prefixes).
OFFICIAL_MAP = collections.OrderedDict([
    ("fnet.conv1.", "conv1."),
    ("fnet.conv2.", "conv2."),
    ("hnet.conv1.", "conv3."),
    ("hnet.conv2.", "conv4."),
    ("hnet.conv3.", "conv5."),
    ("clf.fc.", "fc."),
])
# Parts of an official GradFeat checkpoint that are extractor parameters, not base-network weights.
OFFICIAL_SKIP = ("hnet.linear1.", "hnet.linear2.", "hnet.linear3.", "clf.linear.")
NTK_CLASS_NAMES = ("NTKConv2d", "NTKLinear")


def ntk_scale(name: str, shape) -> float:
    """The factor c in effective = c · stored for an NTK-parametrized tensor (weight: sqrt(1/n_out), bias: sqrt(0.1))."""
    if name.endswith("bias") or len(shape) == 1:
        return math.sqrt(0.1)
    return math.sqrt(1.0 / shape[0])


# --------------------------------------------------------------------------------------------------------------
# Loading


class _StubModule:
    """Placeholder for classes of code that is not importable here (the official model.py / util.py)."""


def _stub_class(module: str, name: str):
    import torch.nn as nn

    cls = type(name, (nn.Module,), {"__module__": module, "forward": lambda self, *a, **k: None})
    return cls


def _pickle_module_with_stubs():
    """A pickle module for torch.load whose Unpickler turns classes it cannot import into nn.Module stubs, so
    whole modules saved by other code load without that code (their parameters and class names survive)."""

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            try:
                return super().find_class(module, name)
            except (ImportError, AttributeError):
                return _stub_class(module, name)

    shim = types.ModuleType("gradfeat_pickle_shim")
    shim.__dict__.update({k: getattr(pickle, k) for k in dir(pickle) if not k.startswith("__")})
    shim.Unpickler = Unpickler
    return shim


def load_source(path: str, allow_pickle: bool):
    """A state dict (OrderedDict name → tensor) and the set of NTK module prefixes found in it."""
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises several types for pickled objects
        if not allow_pickle:
            raise SystemExit(
                f"{path}: not a plain state dict ({type(error).__name__}: {str(error).splitlines()[0]}).\n"
                "It probably holds a whole pickled module (as the official GradFeat code saves them). Loading it "
                "runs pickle; if you trust the file, pass --allow-pickle.")
        obj = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_pickle_module_with_stubs())
    ntk = set()
    if isinstance(obj, torch.nn.Module):
        for prefix, module in obj.named_modules():
            if type(module).__name__ in NTK_CLASS_NAMES:
                ntk.add(prefix + "." if prefix else "")
        return collections.OrderedDict(obj.state_dict()), ntk
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict", "net"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
        tensors = collections.OrderedDict((k, v) for k, v in obj.items() if torch.is_tensor(v))
        skipped = [k for k, v in obj.items() if not torch.is_tensor(v)]
        if skipped:
            print(f"note: {path}: ignoring non-tensor entries {skipped}", file=sys.stderr)
        return tensors, ntk
    raise SystemExit(f"{path}: holds a {type(obj).__name__}, neither a state dict nor an nn.Module")


def torchvision_state_dict(architecture: str, path: str):
    """The state dict of torchvision.models.<architecture> with weights from the local file `path`, checked
    strictly by torchvision's own load_state_dict (no download is attempted)."""
    import torch
    import torchvision

    model = getattr(torchvision.models, architecture)(weights=None)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    model.load_state_dict(state, strict=True)
    return collections.OrderedDict(model.state_dict())


# --------------------------------------------------------------------------------------------------------------
# Converting


def convert_state_dict(state, *, official=False, ntk_prefixes=(), renames=(), drops=(), verbose=True):
    """Maps a PyTorch state dict to GradFeat names and effective (standard-parametrization) float32 arrays.

    - `renames`: (old_prefix, new_prefix) pairs, applied first (e.g. ("module.", "")).
    - `official`: applies OFFICIAL_MAP and skips OFFICIAL_SKIP.
    - `ntk_prefixes`: source-name prefixes (after `renames`, before the official map) of NTK-parametrized
      layers; their tensors are multiplied by `ntk_scale`.
    - `drops`: prefixes (of the final names) to leave out (e.g. "fc." for a head you do not want).
    """
    out = collections.OrderedDict()
    notes = []
    for name, tensor in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        if name.startswith("module."):
            name = name[len("module."):]
        for old, new in renames:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        if official and name.startswith(OFFICIAL_SKIP):
            notes.append(f"{name}: skipped (a GradFeat extractor parameter, not a base-network weight)")
            continue
        value = tensor.detach().cpu().double().numpy()
        if any(name.startswith(p) for p in ntk_prefixes):
            value = value * ntk_scale(name, value.shape)
            notes.append(f"{name}: NTK → effective (× {ntk_scale(name, value.shape):.6g})")
        if official:
            for old, new in OFFICIAL_MAP.items():
                if name.startswith(old):
                    name = new + name[len(old):]
                    break
        if any(name.startswith(p) for p in drops):
            notes.append(f"{name}: dropped")
            continue
        if name in out:
            raise SystemExit(f"two source tensors map to '{name}'")
        out[name] = np.ascontiguousarray(value.astype(np.float32))
    if verbose:
        for note in notes:
            print("note: " + note, file=sys.stderr)
    return out


def write_weights(path, state, model, compression=None):
    """Writes the weights file atomically (a temporary file renamed onto `path`)."""
    import h5py

    temporary = f"{path}.tmp-{os.getpid()}"
    try:
        with h5py.File(temporary, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["version"] = np.int64(VERSION)
            f.attrs["model"] = model
            for name, value in state.items():
                if "/" in name:
                    raise SystemExit(f"'{name}': dataset names may not contain '/'")
                value = np.asarray(value, dtype=np.float32)
                options = dict(compression=compression, shuffle=True) if compression and value.size > 256 else {}
                f.create_dataset(name, data=value, **options)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _parse_pairs(values, what):
    pairs = []
    for value in values:
        if "=" not in value:
            raise SystemExit(f"{what} '{value}': expected OLD=NEW")
        old, new = value.split("=", 1)
        pairs.append((old, new))
    return pairs


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Convert PyTorch weights to a GradFeat weights file (HDF5, PyTorch names, OIHW float32).",
        epilog="See the module docstring (scripts/convert_torch.py) and docs/PYTORCH.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", action="append", required=True, metavar="[PREFIX=]FILE",
                        help="a .pth/.pt file (state dict, checkpoint or whole module); PREFIX= prepends 'PREFIX.' "
                             "to its names (repeat for the official fnet/hnet/clf files)")
    parser.add_argument("--output", required=True, help="the weights file to write (.h5)")
    parser.add_argument("--model", required=True,
                        help="GradFeat model name stored in the file (bigan-cifar, resnet18, resnet50, …)")
    parser.add_argument("--torchvision", metavar="ARCH",
                        help="check the (single) input with torchvision.models.ARCH(weights=None).load_state_dict")
    parser.add_argument("--official", action="store_true",
                        help="apply the official GradFeat name map (fnet/hnet/clf → conv1..conv5, fc)")
    parser.add_argument("--ntk", action="append", default=[], metavar="PREFIX",
                        help="source-name prefix of an NTK-parametrized layer (e.g. hnet. or clf.fc.)")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                        help="replace a name prefix before mapping (e.g. module.encoder_q.=)")
    parser.add_argument("--drop", action="append", default=[], metavar="PREFIX",
                        help="leave out entries whose final name starts with PREFIX (e.g. fc.)")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="allow loading whole pickled modules (runs pickle: only for files you trust)")
    args = parser.parse_args(argv)

    state = collections.OrderedDict()
    ntk = set(args.ntk)
    for spec in args.input:
        prefix, path = ("", spec)
        if "=" in spec and not os.path.exists(spec):
            prefix, path = spec.split("=", 1)
        if args.torchvision:
            if len(args.input) != 1:
                raise SystemExit("--torchvision takes exactly one --input")
            part, found = torchvision_state_dict(args.torchvision, path), set()
        else:
            part, found = load_source(path, args.allow_pickle)
        dot = prefix + "." if prefix else ""
        for name, value in part.items():
            state[dot + name] = value
        ntk |= {dot + p for p in found}
    if ntk:
        print("note: NTK-parametrized layers: " + ", ".join(sorted(p or "(whole file)" for p in ntk)),
              file=sys.stderr)
    converted = convert_state_dict(
        state, official=args.official, ntk_prefixes=tuple(sorted(ntk)),
        renames=_parse_pairs(args.rename, "--rename"), drops=tuple(args.drop))
    write_weights(args.output, converted, args.model)
    count = sum(v.size for v in converted.values())
    print(f"wrote {args.output}: {len(converted)} tensors, {count:,} values, model '{args.model}'. "
          f"Check it with: gradfeat import --model {args.model} --weights {args.output}")


if __name__ == "__main__":
    main()
