"""Compare ▸ match dimensions by codes: two encoders of the same data, paired by the correlation of their codes."""

from __future__ import annotations

import numpy as np
import torch

import checkpoints
from explorer.engine.code_matching import MIN_CODE_CORRELATION, code_correlations, pair_dimensions
from explorer.gui.views.compare import BY_CODES

from .conftest import expected_image, open_and_wait

PERM = (2, 0, 3, 1)  # model a's dim i is model b's dim PERM[i] ...
SIGNS = (1.0, -1.0, -1.0, 1.0)  # ... running this way
KL = (0.9, 2.0, 0.5, 1.2)


def test_pairing_recovers_a_planted_permutation_and_signs_through_noise():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(6, 6)) * 0.3 + np.eye(6)  # correlated dimensions, as real codes are
    a = rng.normal(size=(2000, 6)) @ mixing
    perm, signs = np.array([4, 0, 5, 1, 3, 2]), np.array([1, -1, -1, 1, -1, 1])
    b = np.empty_like(a)
    b[:, perm] = a * signs
    b += rng.normal(scale=0.2, size=b.shape)
    linked, weak = pair_dimensions(code_correlations(a, b))
    assert [(i, j) for i, j, _ in linked] == [(i, int(perm[i])) for i in range(6)] and not weak
    assert [float(np.sign(r)) for *_, r in linked] == signs.tolist()
    assert all(abs(r) > 0.9 for *_, r in linked)


def test_weak_and_unusable_dimensions_are_not_linked():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(2000, 3))
    b = np.stack([-a[:, 2], rng.normal(size=2000), a[:, 0] + 0.1 * rng.normal(size=2000)], axis=1)
    linked, weak = pair_dimensions(code_correlations(a, b))
    assert [(i, j) for i, j, _ in linked] == [(0, 2), (2, 0)]
    assert [(i, j) for i, j, _ in weak] == [(1, 1)] and abs(weak[0][2]) < MIN_CODE_CORRELATION
    # a dimension the model does not use (collapsed) is paired with nothing, and nothing is paired with it
    linked, weak = pair_dimensions(code_correlations(a, b), usable_b=(True, True, False))
    assert [(i, j) for i, j, _ in linked] == [(2, 0)] and all(j != 2 for _, j, _ in weak)
    # a constant dimension correlates with nothing
    assert np.array_equal(code_correlations(a, np.ones((2000, 1))), np.zeros((3, 1)))


def _relabelled_pair(folder, dead: int | None = None):
    """Model a and model b = a with its dims relabelled: b's dim PERM[i] is SIGNS[i] × a's dim i, in the encoder's
    mean and log-variance and in the decoder's input. With `dead`, b's encoder mean of that dim is constant."""
    stats = {"latent_mean": (0.0,) * 4, "latent_std": (1.0,) * 4}
    a = checkpoints.create_model("mlp", "vae", 4, (1, 8, 8), seed=0, dataset="digits", kl_per_dim=KL, **stats)
    checkpoints.save(a, folder / "a.safetensors")
    b = checkpoints.create_model(
        "mlp",
        "vae",
        4,
        (1, 8, 8),
        seed=0,
        dataset="digits",
        kl_per_dim=tuple(KL[PERM.index(j)] for j in range(4)),
        **stats,
    )
    state = {k: v.clone() for k, v in a.network.state_dict().items()}
    head_w, head_b, dec_w = state["encoder.5.weight"], state["encoder.5.bias"], state["decoder.0.weight"]
    new_hw, new_hb, new_dw = head_w.clone(), head_b.clone(), dec_w.clone()
    for i, (j, s) in enumerate(zip(PERM, SIGNS)):
        new_hw[j], new_hb[j] = s * head_w[i], s * head_b[i]  # the mean
        new_hw[4 + j], new_hb[4 + j] = head_w[4 + i], head_b[4 + i]  # the log-variance
        new_dw[:, j] = s * dec_w[:, i]
    if dead is not None:
        new_hw[dead] = 0.0
    state.update({"encoder.5.weight": new_hw, "encoder.5.bias": new_hb, "decoder.0.weight": new_dw})
    b.network.load_state_dict(state)
    checkpoints.save(b, folder / "b.safetensors")
    z = torch.randn(5, 4)
    z_b = torch.empty_like(z)
    z_b[:, list(PERM)] = z * torch.tensor(SIGNS)
    assert torch.allclose(a.decode(z), b.decode(z_b), atol=1e-5)  # the same model, its dims relabelled
    return folder / "a.safetensors", folder / "b.safetensors"


def _match_by_codes(qtbot, window, paths):
    open_and_wait(qtbot, window, paths)
    by_name = {i.name: m for m, i in window.models.items()}
    window.model_list.select_model(by_name["a"])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    view.link.setCurrentText(BY_CODES)
    qtbot.waitUntil(lambda: view.code_links(by_name["b"]) is not None, timeout=20_000)
    return view, by_name["b"]


def test_compare_links_a_relabelled_copy_back_to_its_original_dims(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    a, b = _relabelled_pair(tmp_path)
    view, b_id = _match_by_codes(qtbot, window, [a, b])
    links = view.links(b_id)
    assert {src: dst for src, (dst, _) in links.items()} == dict(enumerate(PERM))
    assert {src: float(np.sign(gain)) for src, (_, gain) in links.items()} == dict(enumerate(SIGNS))
    text = view.strengths[b_id].text().replace("\u00a0", " ")  # each link's words stay on one line
    assert "z0 ↔ z2, r 1.00" in text and "z1 ↔ z0, r −1.00" in text and "unlinked" not in text.lower()
    # moving a's sliders shows b the same picture: b's code is a's, relabelled
    z = np.array([1.0, -0.5, 0.8, 0.3], np.float32)
    window.set_z(z)
    relabelled = np.empty_like(z)
    relabelled[list(PERM)] = z * np.array(SIGNS, np.float32)
    qtbot.waitUntil(lambda: np.allclose(view.mapped_z[b_id], relabelled, atol=1e-4), timeout=5000)
    qtbot.waitUntil(
        lambda: (
            view.views[b_id].image() is not None
            and np.abs(view.views[b_id].image().astype(int) - expected_image(a, z).astype(int)).max() <= 1
        ),
        timeout=5000,
    )
    # traversal rows state each link's strength beside it
    view.show_mode.setCurrentIndex(1)
    qtbot.waitUntil(lambda: any("r −1.00" in t.toPlainText() for t in view.views[b_id]._labels), timeout=5000)


def test_compare_leaves_a_dimension_without_a_partner_unlinked(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    a, b = _relabelled_pair(tmp_path, dead=PERM[3])  # b's partner of a's z3 no longer follows the data
    view, b_id = _match_by_codes(qtbot, window, [a, b])
    links = view.links(b_id)
    assert {src: dst for src, (dst, _) in links.items()} == {0: 2, 1: 0, 2: 3}
    assert "Unlinked, |r| below 0.5: z3 (r 0.00)" in view.strengths[b_id].text().replace("\u00a0", " ")


def test_a_pair_that_cannot_be_matched_says_why_once(qtbot, window, tmp_path, monkeypatch):
    from explorer.engine import code_matching

    calls = []

    def refuse(job, request):
        calls.append(request)
        raise ValueError("the two models encoded different data samples, so their codes cannot be matched")

    monkeypatch.setattr(code_matching, "serve", refuse)
    a, b = _relabelled_pair(tmp_path)
    open_and_wait(qtbot, window, [a, b])
    by_name = {i.name: m for m, i in window.models.items()}
    window.model_list.select_model(by_name["a"])
    view = window.tabs.compare
    window.tabs.setCurrentWidget(view)
    view.link.setCurrentText(BY_CODES)
    label = view.strengths[by_name["b"]]
    qtbot.waitUntil(lambda: label.text().startswith("not linked"), timeout=10_000)
    assert label.text() == "not linked: the two models encoded different data samples, so their codes cannot be matched"
    window.set_z(np.array([1.0, 0.0, 0.0, 0.0], np.float32))  # a slider move does not ask again
    qtbot.wait(200)
    assert len(calls) == 1 and view.links(by_name["b"]) == {}
