"""PyTorch reference for StepBench: the same rows, shapes, batch and thread count (see common.py).

The full GradFeat model is  logits = w1^T f + b + omega^T (J w2)  with (f, J w2) from one torch.func.jvp of the top
with respect to theta2 in the direction w2 (NTK-scaled, as GradFeat stores it), trained by one SGD step on (w1, b, w2).

    python torch_steps.py --row bigan-cifar/conv5/full/cached [--seconds 2] [--threads 2]
"""
import common

args = common.arguments()

import torch  # noqa: E402  (after the arguments, so --list needs no torch)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.func import functional_call, jvp  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(1)
rss_before = common.memory_mb("VmRSS")
row = common.find_row(args.row)


class Block(nn.Module):
    """torchvision's BasicBlock with batch norm folded (convs with bias)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.downsample = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


def backbone(model):
    """The backbone's named children in order, global pool last."""
    if model == "bigan-cifar":
        layers = []
        for name, cin, cout, k, s in common.BIGAN:
            layers += [(name, nn.Conv2d(cin, cout, k, s)), ("l" + name, nn.LeakyReLU(0.01))]
        return layers + [("pool", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))], 512
    layers = [("conv1", nn.Conv2d(3, 64, 7, 2, 3)), ("relu", nn.ReLU()), ("maxpool", nn.MaxPool2d(3, 2, 1))]
    cin = 64
    for stage in range(4):
        planes = 64 << stage
        for block in range(2):
            layers.append((f"layer{stage + 1}.{block}", Block(cin, planes, 2 if block == 0 and stage > 0 else 1)))
            cin = planes
    return layers + [("avgpool", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))], 512


layers, features = backbone(row["model"])
names = [n for n, _ in layers]
cut = names.index(row["split"])
bottom = nn.Sequential(*[m for _, m in layers[:cut]]).eval()
top = nn.ModuleDict({n.replace(".", "_"): m for n, m in layers[cut:]}).eval()
top_seq = nn.Sequential(*[m for _, m in layers[cut:]])
for p in list(bottom.parameters()) + list(top.parameters()):
    p.requires_grad_(False)
head = nn.Linear(features, row["classes"])
omega, omega_b = head.weight.detach().clone(), head.bias.detach().clone()

images = torch.rand(row["batch"], 3, row["input"], row["input"])
labels = torch.arange(row["batch"]) % row["classes"]
with torch.no_grad():
    z0 = bottom(images)

# theta2: the parameters of the linearized children, by their names in top_seq.
top_names = dict(top_seq.named_parameters())
lin_index = [names[cut:].index(n) for n in row["linearize"]]
theta2_names = [n for n in top_names if int(n.split(".")[0]) in lin_index]
theta2 = {n: top_names[n] for n in theta2_names}
scales = [common.ntk_scale(p.shape) for p in theta2.values()]


def inputs():
    if row["cached"]:
        return z0
    with torch.no_grad():
        return bottom(images)


def sgd(params):
    return torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-5)


kind = row["kind"]
if kind == "bottom":
    def step():
        with torch.no_grad():
            bottom(images)
else:
    # w1, b stored NTK-scaled (effective = scale * stored), initialised at omega-bar.
    s_w, s_b = common.ntk_scale(omega.shape), common.ntk_scale(omega_b.shape)
    w1 = (omega / s_w).clone().requires_grad_(True)
    b1 = (omega_b / s_b).clone().requires_grad_(True)
    w2 = [torch.zeros_like(p, requires_grad=True) for p in theta2.values()]

    def tangent_pass(z):
        def f(*params):
            return functional_call(top_seq, dict(zip(theta2_names, params)), (z,))
        tangents = tuple(s * w for s, w in zip(scales, w2))
        return jvp(f, tuple(theta2.values()), tangents)

    if kind == "activation":
        opt = sgd([w1, b1])

        def step():
            z = inputs()
            with torch.no_grad():
                f = top_seq(z)
            loss = F.cross_entropy(f @ (s_w * w1).t() + s_b * b1, labels)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    elif kind == "gradient":
        opt = sgd(w2)

        def step():
            _, fdot = tangent_pass(inputs())
            loss = F.cross_entropy(fdot @ omega.t(), labels)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    elif kind == "full":
        opt = sgd([w1, b1] + w2)

        def step():
            f, fdot = tangent_pass(inputs())
            loss = F.cross_entropy(f @ (s_w * w1).t() + s_b * b1 + fdot @ omega.t(), labels)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    else:  # finetune: theta2 and the head, stored NTK-scaled
        stored = [(p.detach() / s).clone().requires_grad_(True) for p, s in zip(theta2.values(), scales)]
        opt = sgd(stored + [w1, b1])

        def step():
            z = inputs()
            params = {n: s * p for n, s, p in zip(theta2_names, scales, stored)}
            f = functional_call(top_seq, params, (z,))
            loss = F.cross_entropy(f @ (s_w * w1).t() + s_b * b1, labels)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

seconds, steps = common.time_steps(step, args.seconds)
print(common.line("torch", row, seconds, steps, rss_before))
