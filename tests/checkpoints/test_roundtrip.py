"""Saving and loading the native format: bit-exact, atomic, with every meta field intact."""

from __future__ import annotations

import hashlib
import os
import stat

import numpy as np
import pytest
import torch

import checkpoints

ARCHS = [
    ("mlp", "ae", (1, 8, 8)),
    ("mlp", "vae", (3, 16, 16)),
    ("conv", "vae", (1, 64, 64)),
    ("conv", "ae", (3, 32, 32)),
    ("dcgan", "gan", (3, 32, 32)),
    ("dcgan", "gan", (1, 64, 64)),
]


@pytest.mark.parametrize(("arch", "kind", "shape"), ARCHS)
def test_save_load_is_bit_exact(tmp_path, arch, kind, shape):
    model = checkpoints.create_model(arch, kind, 3, shape, seed=1)
    path = tmp_path / "m.safetensors"
    digest = checkpoints.save(model, path)
    loaded = checkpoints.load(path, device="cpu")
    saved_state, loaded_state = model.network.state_dict(), loaded.network.state_dict()
    assert saved_state.keys() == loaded_state.keys()
    assert all(torch.equal(saved_state[k], loaded_state[k]) for k in saved_state)
    z = torch.randn(4, 3)
    assert torch.equal(model.decode(z), loaded.decode(z))
    assert (loaded.kind, loaded.latent_dim, loaded.image_shape) == (kind, 3, shape)
    assert digest == loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_meta_round_trips(tmp_path, tiny_vae):
    tiny_vae.with_meta(
        loss_history=((1.0, 2.0, 3.0, 4.0),),
        metrics={"mig": 0.25},
        description="a test model",
        latent_std=(1.0, 0.5),
        train_config={"beta": 4.0},
    )
    checkpoints.save(tiny_vae, tmp_path / "m.safetensors")
    meta = checkpoints.load(tmp_path / "m.safetensors").meta
    assert meta == tiny_vae.meta
    assert meta.kl_per_dim == (1.5, 0.01) and meta.beta == 4.0 and meta.metrics == {"mig": 0.25}


def test_float16_file_is_half_size_and_computes_in_float32(tmp_path, tiny_vae):
    checkpoints.save(tiny_vae, tmp_path / "f32.safetensors")
    checkpoints.save(tiny_vae, tmp_path / "f16.safetensors", dtype=torch.float16)
    loaded = checkpoints.load(tmp_path / "f16.safetensors")
    assert (tmp_path / "f16.safetensors").stat().st_size < 0.6 * (tmp_path / "f32.safetensors").stat().st_size
    assert all(p.dtype == torch.float32 for p in loaded.network.parameters())
    weight = tiny_vae.network.state_dict()["decoder.0.weight"]
    assert torch.equal(loaded.network.state_dict()["decoder.0.weight"], weight.half().float())


def test_decode_accepts_numpy_and_single_codes(tiny_vae):
    one = tiny_vae.decode(np.array([0.5, -1.0], dtype=np.float64))
    batch = tiny_vae.decode(torch.tensor([[0.5, -1.0], [0.0, 0.0]]))
    assert one.shape == (1, 1, 8, 8) and one.dtype == torch.float32
    assert torch.allclose(one[0], batch[0])
    assert 0 <= float(batch.min()) and float(batch.max()) <= 1


def test_decode_with_wrong_code_length_names_the_shapes(tiny_vae):
    with pytest.raises(checkpoints.InferenceError, match=r"shape \(n, 2\), got \(1, 3\)"):
        tiny_vae.decode(torch.zeros(1, 3))


def test_encode_gives_mean_and_logvar_for_vae_and_none_for_ae():
    x = torch.rand(5, 1, 8, 8)
    mu, logvar = checkpoints.create_model("mlp", "vae", 2, (1, 8, 8)).encode(x)
    assert mu.shape == logvar.shape == (5, 2)
    mu, logvar = checkpoints.create_model("mlp", "ae", 2, (1, 8, 8)).encode(x)
    assert mu.shape == (5, 2) and logvar is None


def test_gan_has_no_encoder():
    gan = checkpoints.create_model("dcgan", "gan", 4, (1, 32, 32))
    assert gan.has_encoder is False
    with pytest.raises(checkpoints.UnsupportedOperation, match="no encoder"):
        gan.encode(torch.zeros(1, 1, 32, 32))


def test_save_leaves_no_temporary_files_and_a_normal_file_mode(tmp_path, tiny_vae):
    checkpoints.save(tiny_vae, tmp_path / "m.safetensors")
    checkpoints.save(tiny_vae, tmp_path / "m.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode) == 0o666 & ~umask


def test_save_into_missing_folder_is_a_checkpoint_error(tmp_path, tiny_vae):
    with pytest.raises(checkpoints.CheckpointError, match="cannot write .*nowhere"):
        checkpoints.save(tiny_vae, tmp_path / "nowhere" / "m.safetensors")


def test_training_state_sidecar_round_trips(tmp_path, tiny_vae):
    opt = torch.optim.Adam(tiny_vae.network.parameters())
    mu, _ = tiny_vae.network.encode(torch.rand(3, 1, 8, 8))
    loss = tiny_vae.network.images(mu).sum()
    loss.backward()
    opt.step()
    state = {"step": 7, "optimizer": opt.state_dict(), "history": [[1.0, 2.0]], "rng": torch.get_rng_state()}
    path = tmp_path / "m.safetensors"
    checkpoints.save(tiny_vae, path, state)
    assert checkpoints.training_state_path(path).name == "m.train.safetensors"
    model = checkpoints.load(path)
    restored = checkpoints.load_training_state(path, model)
    assert restored["step"] == 7 and restored["history"] == [[1.0, 2.0]]
    assert torch.equal(restored["rng"], state["rng"])
    fresh = torch.optim.Adam(model.network.parameters())
    fresh.load_state_dict(restored["optimizer"])
    before = opt.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(fresh.state_dict()["state"][0]["exp_avg"], before)
