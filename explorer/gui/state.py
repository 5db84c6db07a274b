"""`OpenModel`: everything the window holds about one open (or opening) model (GUI thread only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.gui.views.base import Anchor
from explorer.protocol import LoadOptions, ModelInfo


@dataclass
class OpenModel:
    """One entry of the model list, from the moment its file is asked for.

    `info` is None until the worker has loaded it (the list shows a placeholder meanwhile);
    `loading` is the file being loaded now (a run's other snapshot, too), None when settled.
    """

    path: str  # the file (or run folder) the user opened
    loading: str | None = None
    info: ModelInfo | None = None
    z: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # the current code, float32 (d,)
    posterior: tuple[np.ndarray, np.ndarray] | None = None  # 1 % and 99 % quantiles of encoded data, per dim
    anchor: Anchor | None = None  # the data sample the code was encoded from
    run: tuple[str, str] | None = None  # (folder, stem) of a training run's snapshots
    restore_z: np.ndarray | None = None  # a code to show once loaded (the saved session's)
    options: LoadOptions = field(default_factory=LoadOptions)  # how it is opened (import flags, consent, data)
    fallback_options: LoadOptions | None = None  # what to go back to if a reload with other options fails

    @property
    def name(self) -> str:
        return self.info.name if self.info is not None else Path(self.path).name

    @property
    def data_options(self) -> dict[str, str]:
        """The data set the user gave it (command line or Data ▸ Use Data Set…), as the session keeps it."""
        o = self.options
        return {k: v for k, v in (("dataset", o.dataset), ("data_dir", o.data_dir), ("data_file", o.data_file)) if v}

    @property
    def session_path(self) -> str:
        """What the session reopens: the run's folder, else the file."""
        return self.run[0] if self.run is not None else (self.info.path if self.info else self.path)

    def loaded(self, info: ModelInfo) -> None:
        """The worker has opened it: keep a restored code of the right size, else take the layout's start code
        (zero and class 0 of each categorical group; a GAN: a fixed prior draw, layout.start)."""
        first = self.info is None
        self.info, self.loading, self.fallback_options = info, None, None
        if first:
            z = self.restore_z
            self.z = z if z is not None and z.shape == (info.latent_dim,) else info.start_code()
            self.restore_z = None
