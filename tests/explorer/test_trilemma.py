"""The trilemma table: speed, reconstruction error and factor coverage, on models whose coverage differs by design."""

from __future__ import annotations

import numpy as np
import torch

from explorer.engine import trilemma
from explorer.gui.views.trilemma import COVERAGE
from explorer.protocol import TrilemmaRequest, TrilemmaResult, ViewKey
from trainer.reader import FactorReader

from .conftest import make_model_file, open_and_wait
from .test_analysis import sprites_file

KEY = ViewKey("analysis", "trilemma", 1)


class Toy:
    """A factored data set of 8x8 grey images: pixel (0, f) is factor f's class c as (c + 0.5) / size."""

    name = "toy"
    factor_names = ("shape", "scale", "colour")
    factor_sizes = (3, 4, 5)
    image_shape = (1, 8, 8)

    def __init__(self, n: int = 3000) -> None:
        rng = np.random.default_rng(1)
        self.table = np.stack([rng.integers(k, size=n) for k in self.factor_sizes], axis=1)

    def __len__(self) -> int:
        return len(self.table)

    def images(self, indices) -> torch.Tensor:
        return self.images_for_factors(self.table[np.asarray(indices)])

    def images_for_factors(self, classes) -> torch.Tensor:
        x = torch.zeros(len(classes), *self.image_shape)
        for f, k in enumerate(self.factor_sizes):
            x[:, 0, 0, f] = (torch.as_tensor(classes[:, f]).float() + 0.5) / k
        return x


class PixelNet(torch.nn.Module):
    """A reader's net by hand: each factor's logits peak at the class its pixel encodes."""

    def __init__(self, sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.sizes = sizes

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [-100 * (x[:, 0, 0, f, None] * k - 0.5 - torch.arange(k)) ** 2 for f, k in enumerate(self.sizes)]


def toy_reader(data: Toy) -> FactorReader:
    values = tuple(np.arange(k, dtype=np.float64) for k in data.factor_sizes)
    return FactorReader(data.name, data.image_shape, data.factor_names, values, PixelNet(data.factor_sizes), {})


class Picker:
    """A 3-d 'VAE' of the toy data: Φ(z_f) picks factor f's class, so prior samples spread evenly over the classes
    (the encoder inverts it: reconstructions are exact); `collapsed` ignores z and always draws class 0."""

    kind, has_encoder, latent_dim, layout, device = "vae", True, 3, (), torch.device("cpu")

    def __init__(self, data: Toy, collapsed: bool) -> None:
        self.data, self.collapsed = data, collapsed

    def decode(self, z) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float32)
        sizes = torch.tensor(self.data.factor_sizes)
        classes = (torch.special.ndtr(z) * sizes).long().clamp(max=sizes - 1)
        return self.data.images_for_factors((classes * 0 if self.collapsed else classes).numpy())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.special.ndtri(x[:, 0, 0, :3].clamp(1e-6, 1 - 1e-6)), None


def _measure(model, data, reader=None, n=2000) -> TrilemmaResult:
    return trilemma.measure(model, data, reader, TrilemmaRequest(KEY, 1, 1, n), lambda: False, lambda f, t: None)


def test_a_collapsed_decoder_reaches_fewer_factor_classes_than_one_that_spreads():
    data = Toy()
    reader = toy_reader(data)
    spread, collapsed = _measure(Picker(data, False), data, reader), _measure(Picker(data, True), data, reader)
    assert spread.classes_reached == 1.0 and spread.cells_reached == 1.0
    assert spread.histogram_distance < 0.05  # uniform classes, as the data's
    assert [c.sample_classes for c in collapsed.factors] == [1, 1, 1]  # one class of each factor: class 0
    assert collapsed.classes_reached < 0.3 and collapsed.cells_reached < 0.1
    assert collapsed.histogram_distance > 0.7
    assert spread.classes_reached - collapsed.classes_reached > 0.5
    assert [f"{a}×{b}" for a, b, _, _ in spread.pairs] == ["shape×scale", "shape×colour", "scale×colour"]
    assert spread.recon_mse < 1e-8 < collapsed.recon_mse  # the spread one's encoder inverts it
    assert [b for b, _ in spread.ms_per_image] == [1, 64] and all(ms > 0 for _, ms in spread.ms_per_image)


def test_a_class_sampled_four_times_too_rarely_is_not_reached():
    data = np.repeat(np.arange(4), 250)[:, None]  # four classes, a quarter each
    rare = np.concatenate([np.repeat([0, 1, 2], 300), np.full(100, 3)])  # class 3 at 10%: reached
    dropped = np.concatenate([np.repeat([0, 1, 2], 320), np.full(40, 3)])  # class 3 at 4% (< 6.25%): dropped
    assert trilemma.coverage(rare[:, None], data, ("f",), (4,))["factors"][0].sample_classes == 4
    found = trilemma.coverage(dropped[:, None], data, ("f",), (4,))
    assert found["classes_reached"] == 0.75 and found["cells_reached"] is None
    assert abs(found["histogram_distance"] - 0.21) < 1e-9  # ½ (3 × 0.07 + 0.21)


def test_without_a_reader_or_factors_the_row_says_why(tmp_path, monkeypatch):
    data = Toy()
    monkeypatch.setattr("trainer.reader.READERS", tmp_path)
    reader, note = trilemma.find_reader(data, (1, 8, 8))
    assert reader is None and note == "no factor reader is shipped for toy at 8 px (toy-8.safetensors)"
    row = _measure(Picker(data, False), data, None, n=200)
    assert row.classes_reached is None and row.recon_mse is not None

    class Digits:
        name, factor_sizes = "digits", ()

    assert trilemma.find_reader(Digits(), (1, 8, 8)) == (None, "the digits data set has no known factors")


class ShadeReader:
    """Reads dSprites factors from how bright an image is (enough for a table to fill)."""

    factor_names = ("shape", "scale", "orientation", "posX", "posY")

    def classes(self, images: torch.Tensor) -> np.ndarray:
        shade = (images.float().mean((1, 2, 3)).cpu().numpy() * 997).astype(np.int64)
        return np.stack([(shade + f) % k for f, k in enumerate((3, 6, 40, 32, 32))], axis=1)


def test_measure_fills_one_row_per_open_model(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(trilemma, "find_reader", lambda data, shape: (ShadeReader(), "shade reader"))
    paths = [sprites_file(tmp_path, "a"), sprites_file(tmp_path, "b")]
    open_and_wait(qtbot, window, paths)
    view = window.tabs.analysis
    window.tabs.setCurrentWidget(view)
    section = view.trilemma
    section.n = 300
    assert section.table.rowCount() == 2 and section.measure_button.isEnabled()
    section.measure()
    assert not section.measure_button.isEnabled() and section.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not section._measuring, timeout=20_000)
    for model_id in window.models:
        texts = [section.table.value(model_id, col) for col in range(6)]
        assert all(t and t != "—" for t in texts), texts
        assert texts[COVERAGE].endswith("%") and 0 <= float(texts[5]) <= 1
    headers = [section.table.verticalHeaderItem(r).text() for r in range(2)]
    assert headers == ["a", "b"]
    assert "How measured" in section.how_measured.text() and "300 prior samples" in section.how_measured.text()
    assert section.bar.text() == "measured 2 model(s)" and section.measure_button.isEnabled()


def test_a_digits_model_says_it_has_no_factors_and_a_gan_has_no_encoder(qtbot, window, tmp_path):
    gan = make_model_file(tmp_path, "g", kind="gan", arch="dcgan", shape=(1, 32, 32), kl=None)
    open_and_wait(qtbot, window, [make_model_file(tmp_path, "digits"), gan])
    window.tabs.setCurrentWidget(window.tabs.analysis)
    section = window.tabs.analysis.trilemma
    section.n = 200
    section.measure()
    qtbot.waitUntil(lambda: not section._measuring, timeout=20_000)
    digits, gan_id = list(window.models)
    assert section.table.value(digits, COVERAGE) == "— the digits data set has no known factors"
    assert section.table.value(gan_id, 2) == "—" and section.table.value(gan_id, COVERAGE) == "— no data set recorded"
    assert float(section.table.value(gan_id, 0)) > 0


def test_cancel_stops_the_rows_that_wait(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [make_model_file(tmp_path, "a"), make_model_file(tmp_path, "b")])
    window.tabs.setCurrentWidget(window.tabs.analysis)
    section = window.tabs.analysis.trilemma
    section.measure()
    section.cancel()
    qtbot.wait(500)
    assert [section.table.value(m, 0) for m in window.models] == ["cancelled", "cancelled"]
    assert section.measure_button.isEnabled() and not section.cancel_button.isEnabled()
