#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures that Tests/GradFeatTests/ParityTests.swift compares GradFeat against.

    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install torch h5py numpy
    .venv-fixtures/bin/python Tests/Fixtures/make_fixtures.py       # rewrites Tests/Fixtures/*.h5

Everything is seeded (torch.manual_seed(0)); references are computed in float64 from the float32 values stored
in the files, then stored as float32. Python is needed only to regenerate the fixtures, never by the tests.

To stay under 2 MB together, the fixtures use the real topologies at reduced width (same code paths, same names):
  - bigan-cifar at width/8 (channels 4, 8, 16, 32, 64; `BiganCIFAR.make(widthDivisor: 8)`), 10 classes, input
    2×3×32×32 in [0, 1]. Its weights are written through the official GradFeat module layout (fnet/hnet/clf with
    NTKConv2d/NTKLinear for hnet and clf, as github.com/fmu2/gradfeat20 stores them) and converted with
    scripts/convert_torch.py (--official, NTK → effective), so the name map and the NTK rescaling are tested too.
  - ResNet18 in torchvision's layout at base width 4 (channels 4, 8, 16, 32; `ResNet.make(.resnet18, width: 4)`),
    5 classes, input 2×3×48×48 (ImageNet mean/std scaling), batch norm with non-trivial running statistics.
Each parity file also records the names and shapes of the full-size model's state dict (`full_size_names`,
`full_size_shapes` JSON), which the tests compare with GradFeat's full-size models.

Files (root attributes format = "gradfeat-parity", version = 1):
  <model>-weights.h5   a GradFeat weights file (format "gradfeat-weights")
  <model>-parity.h5
    /pixels uint8 [N,C,H,W]; /input float32 (pixels scaled as the model expects); /logits [N,c] (evaluation)
    /jvp/input_tangent, /jvp/parameters/<name> (one tangent per parameter), /jvp/logits: the JVP of the
        logits (torch.func.jvp over input and every parameter of backbone + head, evaluation mode)
    /vjp/cotangent u [N,c], /vjp/input, /vjp/parameters/<name>: gradients of sum(u · logits) (autograd)
    /train/logits, /train/running/<buffer> (ResNet: one training-mode pass, batch statistics, updated buffers)
    /gradfeat (attributes split, linearize, parametrization): /gradfeat/parameters/<name> (the extractor's stored
        parameters: fc.weight, fc.bias = w1, b; w2.<layer>.<param>), /gradfeat/activation_term, /gradient_term,
        /logits, /gradients/<name> (∂ sum(u · logits) / ∂ stored parameters)
"""

from __future__ import annotations

import json
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, jvp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import convert_torch  # noqa: E402

LEAK = 0.01
DTYPE = torch.float64


def f32(t):
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))


def round32(t):
    """A float64 tensor holding exactly the float32 values of `t` (what the fixture stores)."""
    return t.detach().to(torch.float32).to(DTYPE)


def strings(values):
    return np.array(list(values), dtype=h5py.string_dtype())


def round16(t):
    """A float64 tensor holding values exactly representable in float16: chosen inputs (tangents, cotangents) are
    rounded so that their float32 storage compresses well (13 zero mantissa bits), keeping the fixtures small."""
    return t.detach().to(torch.float16).to(DTYPE)


def put(group, name, value, compress=True):
    value = np.asarray(value)
    kwargs = dict(compression="gzip", compression_opts=9, shuffle=True) if compress and value.size > 256 else {}
    group.create_dataset(name, data=value, **kwargs)


# ----------------------------------------------------------------------------------------------------------------
# bigan-cifar in the official code's module layout


class NTKConv2d(nn.Module):
    """The official code's NTK convolution: stored V, β act as sqrt(1/n_out)·V, sqrt(0.1)·β."""

    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.out_channels, self.stride = cout, stride
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.randn(cout))

    def forward(self, x, add_bias=True):
        w = math.sqrt(1.0 / self.out_channels) * self.weight
        b = math.sqrt(0.1) * self.bias if add_bias else None
        return F.conv2d(x, w, b, self.stride)


class NTKLinear(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.out_features = cout
        self.weight = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(torch.randn(cout))

    def forward(self, x, add_bias=True):
        w = math.sqrt(1.0 / self.out_features) * self.weight
        return F.linear(x, w, math.sqrt(0.1) * self.bias if add_bias else None)


class FeatureNet(nn.Module):  # θ1, standard parametrization
    def __init__(self, w):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w[0], 5, 1)
        self.conv2 = nn.Conv2d(w[0], w[1], 4, 2)

    def forward(self, x):
        return F.leaky_relu(self.conv2(F.leaky_relu(self.conv1(x), LEAK)), LEAK)


def lrelu_mask(y):
    return (y > 0).to(y.dtype) + (y < 0).to(y.dtype) * LEAK


class NTKHeadNet(nn.Module):  # θ2, NTK parametrization, with the official forward-mode JVP
    def __init__(self, w):
        super().__init__()
        self.conv1 = NTKConv2d(w[1], w[2], 4, 1)
        self.conv2 = NTKConv2d(w[2], w[3], 4, 2)
        self.conv3 = NTKConv2d(w[3], w[4], 4, 1)
        self.linear2 = NTKConv2d(w[2], w[3], 4, 2)  # w2 for conv2 (our conv4)
        self.linear3 = NTKConv2d(w[3], w[4], 4, 1)  # w2 for conv3 (our conv5)

    def forward(self, x):
        y1 = F.leaky_relu(self.conv1(x), LEAK)
        y2 = F.leaky_relu(self.conv2(y1), LEAK)
        y3 = F.leaky_relu(self.conv3(y2), LEAK)
        jvp2 = self.linear2(y1) * lrelu_mask(y2)
        jvp3 = (self.conv3(jvp2, add_bias=False) + self.linear3(y2)) * lrelu_mask(y3)
        return y3, jvp3


class NTKClassifier(nn.Module):
    def __init__(self, w, classes):
        super().__init__()
        self.fc = NTKLinear(w[4], classes)      # w1, b (trained from ω̄)
        self.linear = NTKLinear(w[4], classes)  # ω̄ (static copy of the pre-trained head)

    def forward(self, y, jvp_):
        logits = self.fc(y.mean(dim=(2, 3)))
        return logits, self.linear(jvp_.mean(dim=(2, 3)), add_bias=False)


class BiganStd(nn.Module):
    """bigan-cifar in GradFeat's names, standard parametrization (the converted effective weights)."""

    def __init__(self, w, classes):
        super().__init__()
        spec = [(3, w[0], 5, 1), (w[0], w[1], 4, 2), (w[1], w[2], 4, 1), (w[2], w[3], 4, 2), (w[3], w[4], 4, 1)]
        for i, (cin, cout, k, s) in enumerate(spec):
            setattr(self, f"conv{i + 1}", nn.Conv2d(cin, cout, k, s))
        self.fc = nn.Linear(w[4], classes)

    def features(self, x):
        for i in range(5):
            x = F.leaky_relu(getattr(self, f"conv{i + 1}")(x), LEAK)
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.features(x))


# ----------------------------------------------------------------------------------------------------------------
# ResNet18 in torchvision's layout (identical names and order to torchvision.models.resnet18 at width 64)


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, width=64, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = width
        for stage in range(4):
            planes = width << stage
            blocks = [BasicBlock(cin, planes, 2 if stage > 0 else 1), BasicBlock(planes, planes, 1)]
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
            cin = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in range(4):
            x = getattr(self, f"layer{stage + 1}")(x)
        return self.avgpool(x).flatten(1)

    def forward(self, x):
        return self.fc(self.features(x))


def full_size_structure(state):
    names = [k for k in state if not k.endswith("num_batches_tracked")]
    return names, json.dumps({k: list(state[k].shape) for k in names})


# ----------------------------------------------------------------------------------------------------------------
# Shared references


def network_references(model, x, generator):
    """Logits, the JVP over input and all parameters, and the gradients of sum(u · logits), in evaluation mode."""
    model.eval()
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def logits_of(inp, p):
        return functional_call(model, {**p, **buffers}, (inp,))

    x_dot = round16(torch.randn(x.shape, generator=generator, dtype=DTYPE))
    p_dot = {k: round16(torch.randn(v.shape, generator=generator, dtype=DTYPE) * v.std().clamp_min(1e-3))
             for k, v in params.items()}
    logits, logits_dot = jvp(logits_of, (x, params), (x_dot, p_dot))
    u = round16(torch.randn(logits.shape, generator=generator, dtype=DTYPE))
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    xg = x.clone().requires_grad_(True)
    out = logits_of(xg, leaves)
    grads = torch.autograd.grad((u * out).sum(), [xg] + list(leaves.values()))
    return dict(logits=logits, x_dot=x_dot, p_dot=p_dot, logits_dot=logits_dot, u=u, dx=grads[0],
                dparams=dict(zip(leaves.keys(), grads[1:])))


def write_network_references(f, refs):
    put(f, "logits", f32(refs["logits"]))
    g = f.create_group("jvp")
    put(g, "input_tangent", f32(refs["x_dot"]))
    put(g, "logits", f32(refs["logits_dot"]))
    p = g.create_group("parameters")
    for k, v in refs["p_dot"].items():
        put(p, k, f32(v))
    g = f.create_group("vjp")
    put(g, "cotangent", f32(refs["u"]))
    put(g, "input", f32(refs["dx"]))
    p = g.create_group("parameters")
    for k, v in refs["dparams"].items():
        put(p, k, f32(v))


def open_fixture(path, model, description):
    f = h5py.File(path, "w")
    f.attrs["format"] = "gradfeat-parity"
    f.attrs["version"] = np.int64(1)
    f.attrs["model"] = model
    f.attrs["description"] = description
    f.attrs["torch_version"] = str(torch.__version__)
    return f


# ----------------------------------------------------------------------------------------------------------------


def make_bigan(out_dir, generator):
    widths = [c // 8 for c in (32, 64, 128, 256, 512)]
    classes, batch = 10, 2
    fnet, hnet, clf = FeatureNet(widths), NTKHeadNet(widths), NTKClassifier(widths, classes)
    with torch.no_grad():  # a "trained" w1 ≠ ω̄, and a non-zero w2
        clf.fc.weight.copy_(clf.linear.weight + 0.5 * torch.randn(clf.fc.weight.shape))
        clf.fc.bias.copy_(clf.linear.bias + 0.5 * torch.randn(clf.fc.bias.shape))
        for layer in (hnet.linear2, hnet.linear3):
            layer.weight.mul_(0.3)
            layer.bias.mul_(0.3)
        for t in list(fnet.parameters()) + list(hnet.parameters()) + list(clf.parameters()):
            t.copy_(t.to(torch.float16).to(torch.float32))
    # The pre-trained network is fnet + hnet.conv1..3 + the head ω̄ (clf.linear); its weights file comes from
    # the official layout through the converter (name map, NTK → effective).
    official = {}
    for prefix, module in (("fnet", fnet), ("hnet", hnet)):
        official.update({f"{prefix}.{k}": v for k, v in module.state_dict().items()})
    official["clf.fc.weight"], official["clf.fc.bias"] = clf.linear.weight, clf.linear.bias
    weights = convert_torch.convert_state_dict(
        official, official=True, ntk_prefixes=("hnet.", "clf.fc."), verbose=False)
    convert_torch.write_weights(os.path.join(out_dir, "bigan-cifar-weights.h5"), weights, "bigan-cifar", compression="gzip")

    std = BiganStd(widths, classes).to(DTYPE)
    std.load_state_dict({k: torch.from_numpy(v).to(DTYPE) for k, v in weights.items()})
    pixels = torch.randint(0, 256, (batch, 3, 32, 32), generator=generator, dtype=torch.uint8)
    x = pixels.to(DTYPE) / 255.0
    refs = network_references(std, round32(x), generator)

    # GradFeat, the official way: split at conv3 (hnet), w2 on conv4, conv5 (hnet.linear2, linear3), NTK.
    fnet64, hnet64, clf64 = fnet.to(DTYPE), hnet.to(DTYPE), clf.to(DTYPE)
    stored = {"fc.weight": clf64.fc.weight, "fc.bias": clf64.fc.bias,
              "w2.conv4.weight": hnet64.linear2.weight, "w2.conv4.bias": hnet64.linear2.bias,
              "w2.conv5.weight": hnet64.linear3.weight, "w2.conv5.bias": hnet64.linear3.bias}
    xr = round32(x)
    y3, jvp3 = hnet64(fnet64(xr))
    activation_term, gradient_term = clf64(y3, jvp3)
    gf_logits = activation_term + gradient_term
    u = refs["u"]
    gf_grads = torch.autograd.grad((u * gf_logits).sum(), list(stored.values()))
    # Cross-check the official forward-mode formula against torch.func.jvp of the standard model.
    scale = {n: convert_torch.ntk_scale(n, t.shape) for n, t in stored.items()}
    effective_w2 = {n[3:]: stored[n].detach() * scale[n] for n in stored if n.startswith("w2.")}
    params = {k: v.detach() for k, v in std.named_parameters()}

    def feats(p):
        return functional_call(std, {**params, **p}, (xr,), strict=False)

    _, tangent_logits = jvp(feats, ({k: params[k] for k in effective_w2},), (effective_w2,))
    # logits' tangent = fc(ḟ) without bias; here std.fc is ω̄ (weights file), as in the official clf.linear.
    assert torch.allclose(tangent_logits, gradient_term, rtol=1e-5, atol=1e-9), "official JVP ≠ torch.func.jvp"

    with open_fixture(os.path.join(out_dir, "bigan-cifar-parity.h5"), "bigan-cifar",
                      "bigan-cifar at width/8, 10 classes; weights via the official fnet/hnet/clf layout (NTK)") as f:
        f.attrs["width_divisor"] = np.int64(8)
        f.attrs["classes"] = np.int64(classes)
        full = {}
        for prefix, module in (("fnet", FeatureNet([32, 64, 128, 256, 512])), ("hnet", NTKHeadNet([32, 64, 128, 256, 512]))):
            full.update({f"{prefix}.{k}": v for k, v in module.state_dict().items()})
        full_clf = NTKClassifier([32, 64, 128, 256, 512], classes)
        full["clf.fc.weight"], full["clf.fc.bias"] = full_clf.fc.weight, full_clf.fc.bias
        full_names, full_shapes = full_size_structure(
            convert_torch.convert_state_dict(full, official=True, ntk_prefixes=("hnet.", "clf.fc."), verbose=False))
        f.attrs["full_size_names"] = strings(full_names)
        f.attrs["full_size_shapes"] = full_shapes
        put(f, "pixels", pixels.numpy())
        put(f, "input", f32(xr))
        write_network_references(f, refs)
        g = f.create_group("gradfeat")
        g.attrs["split"] = "conv3"
        g.attrs["linearize"] = strings(["conv4", "conv5"])
        g.attrs["parametrization"] = "ntk"
        g.attrs["parameter_names"] = strings(stored.keys())
        p = g.create_group("parameters")
        for k, v in stored.items():
            put(p, k, f32(v))
        put(g, "activation_term", f32(activation_term))
        put(g, "gradient_term", f32(gradient_term))
        put(g, "logits", f32(gf_logits))
        p = g.create_group("gradients")
        for k, v in zip(stored.keys(), gf_grads):
            put(p, k, f32(v))


def fold(conv_weight, bn):
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return conv_weight * s.view(-1, 1, 1, 1), bn.bias - bn.running_mean * s


def make_resnet(out_dir, generator):
    width, classes, batch, size = 4, 5, 2, 48
    model = ResNet18(width, classes)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape))
                m.running_mean.copy_(0.2 * torch.randn(m.running_mean.shape))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape))
    model = model.to(DTYPE)
    with torch.no_grad():  # the stored (float32) values are the truth
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(round16(t))
    weights = convert_torch.convert_state_dict(model.state_dict(), verbose=False)
    convert_torch.write_weights(os.path.join(out_dir, "resnet18-weights.h5"), weights, "resnet18", compression="gzip")

    pixels = torch.randint(0, 256, (batch, 3, size, size), generator=generator, dtype=torch.uint8)
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=DTYPE).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], dtype=DTYPE).view(1, 3, 1, 1)
    x = round32((pixels.to(DTYPE) / 255.0 - mean) / std)
    refs = network_references(model, x, generator)

    # One training-mode pass: batch statistics, and the updated running statistics (momentum 0.1, unbiased var).
    import copy
    trained = copy.deepcopy(model).train()
    with torch.no_grad():
        train_logits = trained(x)
    running = {k: v for k, v in trained.state_dict().items() if "running_" in k}

    # GradFeat on layer4.1 (batch norm folded into its convolutions), standard parametrization.
    model.eval()
    block = model.layer4[1]
    with torch.no_grad():
        z = model.layer4[0](model.layer3(model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x))))))))
    w1c, b1c = fold(block.conv1.weight.detach(), block.bn1)
    w2c, b2c = fold(block.conv2.weight.detach(), block.bn2)
    theta = {"conv1.weight": w1c, "conv1.bias": b1c, "conv2.weight": w2c, "conv2.bias": b2c}

    def features(p):
        h = F.relu(F.conv2d(z, p["conv1.weight"], p["conv1.bias"], 1, 1))
        h = F.conv2d(h, p["conv2.weight"], p["conv2.bias"], 1, 1)
        return F.relu(h + z).mean(dim=(2, 3))

    w2 = {k: round16(0.1 * torch.randn(v.shape, generator=generator, dtype=DTYPE)) for k, v in theta.items()}
    f_val, f_dot = jvp(features, (theta,), (w2,))
    omega = model.fc.weight.detach()
    w1 = round32(omega + 0.2 * torch.randn(omega.shape, generator=generator, dtype=DTYPE))
    b = round32(model.fc.bias.detach() + 0.2 * torch.randn(classes, generator=generator, dtype=DTYPE))
    stored = {"fc.weight": w1, "fc.bias": b, **{f"w2.layer4.1.{k}": v for k, v in w2.items()}}
    leaves = {k: v.clone().requires_grad_(True) for k, v in stored.items()}
    w2_leaves = {k[len("w2.layer4.1."):]: v for k, v in leaves.items() if k.startswith("w2.")}
    _, f_dot_l = jvp(features, (theta,), (w2_leaves,))
    activation_term = F.linear(f_val, leaves["fc.weight"], leaves["fc.bias"])
    gradient_term = F.linear(f_dot_l, omega)
    gf_logits = activation_term + gradient_term
    gf_grads = torch.autograd.grad((refs["u"] * gf_logits).sum(), list(leaves.values()))
    # Check against the unfolded network: the JVP of the logits w.r.t. layer4.1's conv weights and bn biases.
    assert torch.allclose(F.linear(f_dot, omega), gradient_term, rtol=1e-9, atol=1e-12)

    with open_fixture(os.path.join(out_dir, "resnet18-parity.h5"), "resnet18",
                      "ResNet18 (torchvision layout) at base width 4, 5 classes, 48x48 input, eval-mode BN") as f:
        f.attrs["width"] = np.int64(width)
        f.attrs["classes"] = np.int64(classes)
        names, shapes = full_size_structure(ResNet18(64, 1000).state_dict())
        f.attrs["full_size_names"] = strings(names)
        f.attrs["full_size_shapes"] = shapes
        put(f, "pixels", pixels.numpy())
        put(f, "input", f32(x))
        write_network_references(f, refs)
        g = f.create_group("train")
        put(g, "logits", f32(train_logits))
        r = g.create_group("running")
        for k, v in running.items():
            put(r, k, f32(v))
        g = f.create_group("gradfeat")
        g.attrs["split"] = "layer4.1"
        g.attrs["linearize"] = strings(["layer4.1"])
        g.attrs["parametrization"] = "standard"
        g.attrs["parameter_names"] = strings(stored.keys())
        p = g.create_group("parameters")
        for k, v in stored.items():
            put(p, k, f32(v))
        put(g, "activation_term", f32(activation_term))
        put(g, "gradient_term", f32(gradient_term))
        put(g, "logits", f32(gf_logits))
        p = g.create_group("gradients")
        for k, v in zip(stored.keys(), gf_grads):
            put(p, k, f32(v))


def main():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    make_bigan(HERE, generator)
    make_resnet(HERE, generator)
    total = 0
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".h5"):
            size = os.path.getsize(os.path.join(HERE, name))
            total += size
            print(f"{name}: {size / 1024:.0f} KiB")
    print(f"total: {total / 1024:.0f} KiB")
    assert total <= 2 * 1024 * 1024, "fixtures exceed 2 MB"


if __name__ == "__main__":
    main()
