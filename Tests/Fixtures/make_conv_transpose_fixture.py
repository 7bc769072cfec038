#!/usr/bin/env python3
"""Writes Tests/Fixtures/conv-transpose-parity.h5, which Tests/LayersTests/ConvTransposeTests.swift compares
GradFeat's ConvTranspose2D against: PyTorch's nn.ConvTranspose2d forward pass, its JVP (torch.func.jvp over input,
weight and bias) and its VJP (autograd), for the shapes a DCGAN/BiGAN generator uses and a few odd ones.

    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install torch h5py numpy
    .venv-fixtures/bin/python Tests/Fixtures/make_conv_transpose_fixture.py

Seeded (torch.manual_seed(0)); the references are computed in float64 from the stored float32 values and stored as
float32. Layout: one group per case, /<case> with attributes stride, padding, output_padding ([y, x] each) and
data sets input [N,C,H,W], weight [C,O,kh,kw], bias [O], output; jvp/input, jvp/weight, jvp/bias (the tangents),
jvp/output; vjp/cotangent, vjp/input, vjp/weight, vjp/bias (gradients of sum(cotangent * output)).
"""
import os

import h5py
import numpy as np
import torch
from torch.func import jvp

CASES = {
    # name: (N, C, H, W, O, kernel, stride, padding, output_padding)
    "latent-to-4x4": (2, 6, 1, 1, 5, (4, 4), (1, 1), (0, 0), (0, 0)),
    "upsample-k4-s2-p1": (2, 5, 4, 4, 3, (4, 4), (2, 2), (1, 1), (0, 0)),
    "k3-s2-p1-output-padding": (2, 4, 5, 3, 3, (3, 3), (2, 2), (1, 1), (1, 1)),
    "k3-s1-p1": (1, 3, 6, 7, 4, (3, 3), (1, 1), (1, 1), (0, 0)),
    "non-square": (2, 3, 3, 4, 2, (5, 3), (3, 2), (2, 0), (2, 1)),
}


def main():
    torch.manual_seed(0)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv-transpose-parity.h5")
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "gradfeat-parity"
        f.attrs["version"] = 1
        for name, (n, c, h, w, o, kernel, stride, padding, output_padding) in CASES.items():
            layer = torch.nn.ConvTranspose2d(c, o, kernel, stride, padding, output_padding)
            x32 = torch.randn(n, c, h, w)
            weight32, bias32 = layer.weight.detach().float(), layer.bias.detach().float()
            x, weight, bias = x32.double(), weight32.double(), bias32.double()

            def transposed(x, weight, bias):
                return torch.nn.functional.conv_transpose2d(x, weight, bias, stride, padding, output_padding)

            y = transposed(x, weight, bias)
            tangents = tuple(torch.randn_like(t) for t in (x32, weight32, bias32))
            _, y_dot = jvp(transposed, (x, weight, bias), tuple(t.double() for t in tangents))
            cotangent = torch.randn(y.shape)
            leaves = [t.clone().requires_grad_(True) for t in (x, weight, bias)]
            (transposed(*leaves) * cotangent.double()).sum().backward()

            group = f.create_group(name)
            group.attrs["stride"] = list(stride)
            group.attrs["padding"] = list(padding)
            group.attrs["output_padding"] = list(output_padding)
            for key, value in [("input", x32), ("weight", weight32), ("bias", bias32), ("output", y),
                               ("jvp/input", tangents[0]), ("jvp/weight", tangents[1]), ("jvp/bias", tangents[2]),
                               ("jvp/output", y_dot), ("vjp/cotangent", cotangent), ("vjp/input", leaves[0].grad),
                               ("vjp/weight", leaves[1].grad), ("vjp/bias", leaves[2].grad)]:
                group.create_dataset(key, data=value.detach().numpy().astype(np.float32))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
