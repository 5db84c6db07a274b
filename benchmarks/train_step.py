"""train_step_ratio: one turn of our real training loop / a minimal hand-written torch step.

Both train the Burgess et al. conv VAE on 64x64 dSprites with batch 64 on the CPU. Ours draws
and renders its batch, computes the loss, steps Adam, records the loss and updates the progress
bar; the baseline reuses one pre-rendered batch and does nothing but forward, backward and step.
Also times the speed-ups one might try on the plain step (channels_last, fused Adam, compile).
"""

from __future__ import annotations

import os
import tempfile

import torch
import torch.nn.functional as F

from checkpoints.architectures import BurgessAutoencoder, ConvConfig
from trainer import datasets
from trainer.config import TrainConfig
from trainer.loop import iterate, prepare, progress_bar

from .timing import interleaved

BATCH = 64


def _plain_step(network, optimizer, x):
    def step():
        h = network.encoder(x)
        mu, logvar = h.chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        recon = F.binary_cross_entropy_with_logits(network.decoder(z), x, reduction="sum") / x.shape[0]
        kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1).mean()
        loss = recon + 4.0 * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def run(quick: bool = False) -> dict[str, float]:
    torch.manual_seed(0)
    calls, rounds = (5, 3) if quick else (10, 7)
    folder = tempfile.mkdtemp(prefix="bench-")
    config = TrainConfig(
        kind="vae",
        dataset="dsprites",
        latent_dim=10,
        beta=4.0,
        batch_size=BATCH,
        steps=10**9,
        checkpoint_every=10**9,
        out=os.path.join(folder, "b.safetensors"),
        device="cpu",
    )
    ours = prepare(config)
    bar = progress_bar(ours, enabled=False)
    x = datasets.get("dsprites").sample_batch(BATCH, torch.Generator().manual_seed(0))
    conv = ConvConfig(latent_dim=10, image_shape=(1, 64, 64))

    def plain(**adam):
        net = BurgessAutoencoder(conv, "vae")
        return _plain_step(net, torch.optim.Adam(net.parameters(), lr=5e-4, **adam), x)

    cl_net = BurgessAutoencoder(conv, "vae").to(memory_format=torch.channels_last)
    cl_step = _plain_step(
        cl_net, torch.optim.Adam(cl_net.parameters(), lr=5e-4), x.contiguous(memory_format=torch.channels_last)
    )
    times = interleaved(
        {
            "ours": lambda: iterate(ours, bar),
            "plain": plain(),
            "fused_adam": plain(fused=True),
            "channels_last": cl_step,
        },
        calls=calls,
        rounds=rounds,
    )
    results = {
        "train_step_ratio": times["ours"] / times["plain"],
        "train_step_plain_ms": times["plain"] * 1e3,
        "speedup_fused_adam": times["plain"] / times["fused_adam"],
        "speedup_channels_last": times["plain"] / times["channels_last"],
    }
    results.update(_compile_speedup(plain, calls, rounds, x, conv))
    return results


def _compile_speedup(plain, calls, rounds, x, conv) -> dict[str, float]:
    """torch.compile of the model; skipped (and said so) where no compiler toolchain works."""
    net = BurgessAutoencoder(conv, "vae")
    compiled = torch.compile(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-4)

    class Wrapped:
        encoder = staticmethod(lambda t: compiled.encoder(t))
        decoder = staticmethod(lambda t: compiled.decoder(t))

    try:
        step = _plain_step(Wrapped, optimizer, x)
        step()
    except Exception as exc:  # an unusable inductor toolchain is a fact to report, not a failure
        print(f"torch.compile skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return {}
    times = interleaved({"plain": plain(), "compiled": step}, calls=calls, rounds=rounds)
    return {"speedup_compile": times["plain"] / times["compiled"]}
