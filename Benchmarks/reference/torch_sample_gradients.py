"""PyTorch reference for SampleGradientBench: per-sample cross-entropy gradients with respect to conv5 of
bigan-cifar (weight [512, 256, 4, 4] and bias [512]) for a batch of cached conv5 inputs, by torch.func.vmap(grad),
and the same Kronecker-structured projection GradFeat uses: each sample's gradient M = [dW | db] of shape
[512, 4097] becomes A M B^T with Gaussian A [a, 512] and B [b, 4097], a*b = K (64 x 64 for K = 4096), applied as
(A dW) B_w^T + (A db) B_b^T without concatenating. Mode `factored` is what a PyTorch user who knows the layer's
structure writes instead (as LoGra does): one batched backward pass to conv5's output delta, then
(A delta)(B [z; 1])^T per sample, never forming the per-sample gradient (conv5's output is 1x1, so z is the input).

    python torch_sample_gradients.py --mode projected|gradients|projection [--batch 128] [--projection 4096]
                                     [--seconds 2] [--threads 2]
"""
import argparse
import math

import common

p = argparse.ArgumentParser()
p.add_argument("--mode", choices=["projected", "gradients", "projection", "factored"], default="projected")
p.add_argument("--batch", type=int, default=128)
p.add_argument("--projection", type=int, default=4096)
p.add_argument("--seconds", type=float, default=2.0)
p.add_argument("--threads", type=int, default=2)
args = p.parse_args()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.func import functional_call, grad, vmap  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(1)
rss_before = common.memory_mb("VmRSS")

layers = []
for name, cin, cout, k, s in common.BIGAN:
    layers += [nn.Conv2d(cin, cout, k, s), nn.LeakyReLU(0.01)]
bottom = nn.Sequential(*layers[:8]).eval()
top = nn.Sequential(*layers[8:], nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()
head = nn.Linear(512, 10)
for module in (bottom, top, head):
    for parameter in module.parameters():
        parameter.requires_grad_(False)
images = torch.rand(args.batch, 3, 32, 32)
labels = torch.arange(args.batch) % 10
with torch.no_grad():
    z0 = bottom(images)
params = {name: parameter.detach() for name, parameter in top.named_parameters()}  # conv5: "0.weight", "0.bias"

# The projection's factors: a*b = K, as close to square as the layer allows (GradFeat's rule).
k = args.projection
a = max(d for d in range(1, int(math.isqrt(k)) + 1) if k % d == 0)
a, b = (a, k // a) if k // a <= 4097 else (k // a, a)
A = torch.randn(a, 512) / math.sqrt(a)
B = torch.randn(b, 4097) / math.sqrt(b)
B_w, B_b = B[:, :4096].contiguous(), B[:, 4096].contiguous()


def sample_loss(parameters, z, y):
    logits = head(functional_call(top, parameters, (z.unsqueeze(0),)))
    return F.cross_entropy(logits, y.unsqueeze(0))


per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))


def gradients():
    return per_sample(params, z0, labels)


def project(g):
    dw = g["0.weight"].reshape(args.batch, 512, 4096)
    db = g["0.bias"]
    left = torch.matmul(A, dw)                       # [N, a, 4096]
    out = torch.matmul(left, B_w.t())                # [N, a, b]
    out += torch.matmul(db, A.t()).unsqueeze(2) * B_b.view(1, 1, b)
    return out.reshape(args.batch, a * b)


conv5 = top[0]
rest = top[1:]


def factored():
    z = z0.reshape(args.batch, 4096)
    with torch.enable_grad():
        out = conv5(z0).detach().requires_grad_(True)  # the frozen forward pass, then autograd from its output
        loss = F.cross_entropy(head(rest(out)), labels, reduction="sum")  # each sample's own loss
        (delta,) = torch.autograd.grad(loss, out)
    left = delta.reshape(args.batch, 512) @ A.t()    # [N, a]
    right = z @ B_w.t() + B_b                        # [N, b]
    return (left.unsqueeze(2) * right.unsqueeze(1)).reshape(args.batch, a * b)


if args.mode == "factored":
    def step():
        factored()
elif args.mode == "gradients":
    def step():
        gradients()
elif args.mode == "projection":
    fixed = gradients()

    def step():
        project(fixed)
else:
    def step():
        project(gradients())

with torch.no_grad():
    seconds, steps = common.time_steps(step, args.seconds)
peak = common.resource.getrusage(common.resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"BENCH framework=torch model=bigan-cifar theta2=conv5 mode={args.mode} batch={args.batch} "
      f"projection={args.projection} img_per_s={args.batch / seconds:.0f} peak_mb={peak:.0f} "
      f"delta_mb={max(0.0, peak - rss_before):.0f} step_ms={seconds * 1e3:.2f} steps={steps} threads={args.threads}")
