"""JAX (XLA) reference for StepBench: the same rows, shapes, batch and thread count (see common.py).

The full GradFeat model is  logits = w1^T f + b + omega^T (J w2)  with (f, J w2) from one jax.jvp of the top with
respect to theta2 in the direction w2 (NTK-scaled, as GradFeat stores it); the loss, its gradient and the SGD update
(momentum 0.9, weight decay 5e-5, as torch.optim.SGD) are one jitted function with donated buffers.

    python jax_steps.py --row bigan-cifar/conv5/full/cached [--seconds 2] [--threads 2]
"""
import os

import common

args = common.arguments()
# XLA's CPU thread pool: one intra-op thread per core we are given.
os.environ.setdefault(
    "XLA_FLAGS", f"--xla_cpu_multi_thread_eigen={'true' if args.threads > 1 else 'false'} "
    f"intra_op_parallelism_threads={args.threads}")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

jax.config.update("jax_platforms", "cpu")
rss_before = common.memory_mb("VmRSS")
row = common.find_row(args.row)
key = jax.random.PRNGKey(1)


def conv_params(key, cin, cout, k):
    bound = 1 / (cin * k * k) ** 0.5
    kw, kb = jax.random.split(key)
    return {"weight": jax.random.uniform(kw, (cout, cin, k, k), minval=-bound, maxval=bound),
            "bias": jax.random.uniform(kb, (cout,), minval=-bound, maxval=bound)}


def conv(p, x, stride, pad):
    y = lax.conv_general_dilated(x, p["weight"], (stride, stride), [(pad, pad), (pad, pad)],
                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + p["bias"][None, :, None, None]


def make_layers(model, key):
    """[(name, params, apply(params, x))] in order, the global pool last (params None: no parameters)."""
    keys = iter(jax.random.split(key, 64))
    if model == "bigan-cifar":
        layers = []
        for name, cin, cout, k, s in common.BIGAN:
            layers.append((name, conv_params(next(keys), cin, cout, k),
                           lambda p, x, s=s: jax.nn.leaky_relu(conv(p, x, s, 0), 0.01)))
        return layers + [("pool", None, lambda p, x: x.mean(axis=(2, 3)))], 512
    layers = [("conv1", conv_params(next(keys), 3, 64, 7), lambda p, x: jax.nn.relu(conv(p, x, 2, 3))),
              ("maxpool", None, lambda p, x: lax.reduce_window(
                  x, -jnp.inf, lax.max, (1, 1, 3, 3), (1, 1, 2, 2), [(0, 0), (0, 0), (1, 1), (1, 1)]))]
    cin = 64
    for stage in range(4):
        planes = 64 << stage
        for block in range(2):
            stride = 2 if block == 0 and stage > 0 else 1
            p = {"conv1": conv_params(next(keys), cin, planes, 3), "conv2": conv_params(next(keys), planes, planes, 3)}
            if stride != 1 or cin != planes:
                p["downsample"] = conv_params(next(keys), cin, planes, 1)

            def apply(p, x, stride=stride):
                y = conv(p["conv2"], jax.nn.relu(conv(p["conv1"], x, stride, 1)), 1, 1)
                short = conv(p["downsample"], x, stride, 0) if "downsample" in p else x
                return jax.nn.relu(y + short)
            layers.append((f"layer{stage + 1}.{block}", p, apply))
            cin = planes
    return layers + [("avgpool", None, lambda p, x: x.mean(axis=(2, 3)))], 512


k_model, k_head, k_img = jax.random.split(key, 3)
layers, features = make_layers(row["model"], k_model)
names = [n for n, _, _ in layers]
cut = names.index(row["split"])
lin = [names.index(n) for n in row["linearize"]]
frozen = {i: layers[i][1] for i in range(len(layers)) if i not in lin}
theta2 = {i: layers[i][1] for i in lin}


def run(lo, hi, params, x):
    for i in range(lo, hi):
        x = layers[i][2](params.get(i), x)
    return x


def bottom(x):
    return run(0, cut, frozen, x)


def top(theta, z):
    return run(cut, len(layers), {**frozen, **theta}, z)


bound = 1 / features ** 0.5
kw, kb = jax.random.split(k_head)
omega = jax.random.uniform(kw, (row["classes"], features), minval=-bound, maxval=bound)
omega_b = jax.random.uniform(kb, (row["classes"],), minval=-bound, maxval=bound)
images = jax.random.uniform(k_img, (row["batch"], 3, row["input"], row["input"]))
labels = jnp.arange(row["batch"]) % row["classes"]
z0 = jax.jit(bottom)(images)
scale = jax.tree_util.tree_map(lambda p: common.ntk_scale(p.shape), theta2)
s_w, s_b = common.ntk_scale(omega.shape), common.ntk_scale(omega_b.shape)


def cross_entropy(logits):
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(labels.shape[0]), labels])


def loss_fn(trainable, z, kind):
    if kind == "activation":
        f = lax.stop_gradient(top(theta2, z))
        return cross_entropy(f @ (s_w * trainable["w1"]).T + s_b * trainable["b"])
    if kind == "finetune":
        theta = jax.tree_util.tree_map(lambda s, p: s * p, scale, trainable["theta2"])
        return cross_entropy(top(theta, z) @ (s_w * trainable["w1"]).T + s_b * trainable["b"])
    tangent = jax.tree_util.tree_map(lambda s, w: s * w, scale, trainable["w2"])
    f, fdot = jax.jvp(lambda t: top(t, z), (theta2,), (tangent,))
    logits = fdot @ omega.T
    if kind == "full":
        logits = logits + f @ (s_w * trainable["w1"]).T + s_b * trainable["b"]
    return cross_entropy(logits)


def make_step(kind):
    def step(trainable, velocity, x):
        z = x if row["cached"] else bottom(x)
        loss, grads = jax.value_and_grad(loss_fn)(trainable, z, kind)
        velocity = jax.tree_util.tree_map(lambda v, g, p: 0.9 * v + g + 5e-5 * p, velocity, grads, trainable)
        trainable = jax.tree_util.tree_map(lambda p, v: p - 0.01 * v, trainable, velocity)
        return trainable, velocity, loss
    return jax.jit(step, donate_argnums=(0, 1))


kind = row["kind"]
if kind == "bottom":
    forward = jax.jit(bottom)

    def body():
        forward(images).block_until_ready()
else:
    trainable = {}
    if kind in ("activation", "full", "finetune"):
        trainable["w1"], trainable["b"] = omega / s_w, omega_b / s_b
    if kind in ("gradient", "full"):
        trainable["w2"] = jax.tree_util.tree_map(jnp.zeros_like, theta2)
    if kind == "finetune":
        trainable["theta2"] = jax.tree_util.tree_map(lambda s, p: p / s, scale, theta2)
    velocity = jax.tree_util.tree_map(jnp.zeros_like, trainable)
    step = make_step(kind)
    x = z0 if row["cached"] else images
    state = [trainable, velocity]

    def body():
        state[0], state[1], loss = step(state[0], state[1], x)
        loss.block_until_ready()

seconds, steps = common.time_steps(body, args.seconds)
print(common.line("jax", row, seconds, steps, rss_before))
