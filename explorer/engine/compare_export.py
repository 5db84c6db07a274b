"""`latent-explorer export compare A B [...]` and the Compare tab's *Export…*: models side by side, each moving the
dimension(s) linked to the first model's, as PNG, GIF or MP4 (by --out's extension).

    latent-explorer export compare A B --out c.png|c.gif|c.mp4 [--dims auto|FACTOR|0,3] [--link auto|factor|index]
        [--steps 7] [--range 3] [--z z.npy|--seed S|--sample INDEX] [--fps 8] [--scale auto|N]

The first model drives, like the tab's current model: its rows are `--dims` (auto: its top 6 continuous dims by
KL, the tab's traversal rows), and every other model moves the dimension linked to each of them, as the tab links
them (`CompareView.links`/`linked_code`, mirrored below): by stored factor correlations (`--link factor`, auto when
every checkpoint stores them) or by index, by the same number of its own standard deviations. `--dims azimuth`
gives one row per model: its dimension most correlated with that factor, run the way the factor grows (the slide of
Higgins et al. 2017). `write` renders and writes for both the tab (on the worker) and the command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import checkpoints
from checkpoints.layout import continuous_mask, resolve, spans, with_class
from explorer.common import animation, exporting, figures
from explorer.common.dims import row_order
from explorer.common.flags import count, finite, seed
from explorer.common.linking import MIN_CORRELATION, match_dimensions, picture_captions, picture_rows, spread
from explorer.engine import rendering
from explorer.protocol import CompareExportRequest, LoadRequest, ModelInfo, ViewKey

MIN_PX = figures.MIN_TILE_PX
COMPARE_ROWS, COMPARE_STEPS, COMPARE_SPAN = 6, 7, 3.0  # the Compare tab's traversal (gui/views/compare.py)
UNLINKED = (-1, 0.0)  # a row of the driving model that another model has no dimension linked to
CODES = (
    "row: the model's code with z[dim] += linspace(-range, range, steps); the first model drives, each other "
    "model's dims are linked to its dims (link), each moving by the same number of its own standard deviations"
)


def scale_flag(text: str) -> int | None:
    """An argparse type: 'auto' (None: tiles of at least 128 px) or a whole enlargement 1..64."""
    return None if text == "auto" else count(1, 64, "whole enlargement of each tile")(text)


def add_video_flags(parser: argparse.ArgumentParser, scale_help: str) -> None:
    """--fps and --scale, for every export that writes GIF or MP4 as well as PNG."""
    parser.add_argument(
        "--fps",
        type=finite(0, 60, "frames per second of a GIF or MP4"),
        default=animation.DEFAULT_FPS,
        help="frames per second of a GIF or MP4 (default 8)",
    )
    parser.add_argument("--scale", type=scale_flag, default=None, help=scale_help)


def add_parser(kinds: Any, common: Callable[[argparse.ArgumentParser, bool], None]) -> None:
    sub = kinds.add_parser("compare", help="models side by side, each traversing the dims linked to the first's")
    common(sub, True)
    sub.add_argument(
        "--dims",
        default="auto",
        help="auto (the first model's top 6 linked dims by KL, as the Compare tab), picture (each faces model's "
        "measured head-turn and smile dims, the classic slide), a factor name (azimuth: "
        "each model's dim most correlated with it), or the first model's dims, comma-separated",
    )
    sub.add_argument(
        "--link",
        choices=("auto", "factor", "index"),
        default="auto",
        help="pair dims through the checkpoints' stored factor correlations, or by index "
        "(auto: factor when all store them)",
    )
    sub.add_argument(
        "--steps", type=count(2, 1024, "columns of a traversal"), default=COMPARE_STEPS, help="columns (default 7)"
    )
    sub.add_argument(
        "--range",
        type=finite(0, 1000, "± around z"),
        default=COMPARE_SPAN,
        dest="span",
        help="± around the first model's code, in its units (default 3); the others' by their spread",
    )
    start = sub.add_mutually_exclusive_group()
    start.add_argument("--z", type=Path, help=".npy file holding the first model's code (default zeros)")
    start.add_argument("--seed", type=seed, help="the first model starts at a prior sample drawn with this seed")
    start.add_argument(
        "--sample",
        type=count(0, 2**31 - 1, "a data-set index"),
        help="every model starts from its own encoding of this data sample (the tab's Encode sample)",
    )
    add_video_flags(sub, f"enlarge each tile N times, nearest neighbour (default auto: to at least {MIN_PX} px)")


def export(args: argparse.Namespace, models: list[checkpoints.Model], z: np.ndarray | None) -> None:
    """The command: plan as the tab would, then `write`. `z` is the first model's start code (None: --sample)."""
    from explorer.engine.worker import model_info  # the same ModelInfo the window holds: names, active dims, links

    infos = [model_info(LoadRequest(0, i, p), m) for i, (p, m) in enumerate(zip(args.checkpoints, models))]
    link = _link(args.link, infos)
    bases = _encodings(args.sample, models, infos) if args.sample is not None else None
    if bases is not None:
        z = bases[0]
    assert z is not None
    codes = [_linked_code(infos[0], info, z, None if bases is None else bases[i], link) for i, info in enumerate(infos)]
    captions: list[tuple[str, ...]] = []  # per model, the measured line under each row (--dims picture)
    if args.dims == "picture":
        for info in infos:
            if not info.picture:
                raise ValueError(
                    f"--dims picture needs the head-turn and smile rows that latent-train zoo --measure stores; "
                    f"{info.name} has none"
                )
        planned = [picture_rows(info, c) for c, info in zip(codes, infos)]
        codes = [start for start, _, _ in planned]
        rows = [[(d, span / args.span) for d, span in zip(dims, spans)] for _, dims, spans in planned]
        captions = [picture_captions(info) for info in infos]
        link = "picture (each model's measured head-turn and smile dims)"
    elif _is_factor(args.dims):
        rows = _factor_rows(args, models, infos)
    else:
        rows = _linked_rows(args.dims, infos, link)
    kept = [i for i, r in enumerate(rows) if any(d >= 0 for d, _ in r)]
    if 0 not in kept:
        raise ValueError(f"{infos[0].name} has no continuous dimension to traverse for --dims {args.dims}")
    request = CompareExportRequest(
        ViewKey("export"),
        0,
        tuple(kept),
        tuple(codes[i] for i in kept),
        tuple(tuple(d for d, _ in rows[i]) for i in kept),
        tuple(tuple(args.span * gain for _, gain in rows[i]) for i in kept),
        tuple(infos[i].name for i in kept),
        tuple(infos[i].source for i in kept),
        link,
        args.out,
        args.steps,
        args.scale,
        args.fps,
        tuple(captions[i] for i in kept) if captions else (),
    )
    write([models[i] for i in kept], request)


def write(
    models: list[checkpoints.Model], request: CompareExportRequest, should_stop: Callable[[], bool] | None = None
) -> tuple[int, tuple[int, int]]:
    """Render `request`'s picture and write it atomically; (frames, (width, height)). Shared by tab and command."""
    fmt = animation.output_format(request.path)
    blocks, columns = rendering.render_compare(
        models, request.codes, request.dims, request.spans, request.steps, should_stop
    )
    scale = request.scale or figures.auto_scale(blocks[0].shape[1:3])
    metadata = compare_metadata(request, scale, animated=fmt != "png")
    if fmt == "png":
        picture = figures.compare_picture(*_interleaved(blocks, columns, request), scale)
        exporting.save_png(request.path, picture, metadata)
        return 1, (picture.shape[1], picture.shape[0])
    titles = [
        [name, f"z{d[0]}"] if len(d) == 1 and d[0] >= 0 else [name] for name, d in zip(request.labels, request.dims)
    ]
    frames = figures.compare_frames(blocks, columns, titles, scale)
    animation.save_animation(request.path, frames, metadata, request.fps)
    height, width = animation.even(frames[0]).shape[:2] if fmt == "mp4" else frames[0].shape[:2]
    return len(frames), (width, height)


def _interleaved(
    blocks: list[np.ndarray], columns: int, request: CompareExportRequest
) -> tuple[list[np.ndarray], int, list[list[str]]]:
    """(groups, columns, labels) of the still picture: for each of the driving model's rows a group, the row of
    every model linked to it one under the other ("faces-vae · z17" under "faces-betavae · z28"), each label with
    its row's caption (the picture's measured spans) as a second line when the request has captions."""
    groups, labels = [], []
    captions = request.captions or tuple(("",) * len(d) for d in request.dims)
    for r in range(len(request.dims[0])):
        rows = [
            (b, f"{name} · z{d[r]}" + (f"\n{c[r]}" if c[r] else ""))
            for b, name, d, c in zip(blocks, request.labels, request.dims, captions)
            if d[r] >= 0
        ]
        groups.append(np.concatenate([b[r * columns : (r + 1) * columns] for b, _ in rows]))
        labels.append([text for _, text in rows])
    return groups, columns, labels


def compare_metadata(request: CompareExportRequest, scale: int, animated: bool) -> dict[str, Any]:
    """What every compare export carries: the checkpoints, how they were linked, each row's code, dim and ±."""
    rows = [
        {
            "model": name,
            "z": np.asarray(z, np.float32).tolist(),
            "dims": [dim if dim >= 0 else None for dim in d],  # None: no dim linked to the driving model's row
            "range": list(s),
            **({"measured": list(c)} if c else {}),
        }
        for name, z, d, s, c in zip(
            request.labels, request.codes, request.dims, request.spans, request.captions or ((),) * len(request.labels)
        )
    ]
    data: dict[str, Any] = {
        "view": "compare",
        "checkpoints": list(request.sources),
        "link": request.link,
        "steps": request.steps,
        "scale": scale,
        "rows": rows,
        "codes": CODES,
    }
    if animated:
        data.update({"fps": request.fps, "frames": "column t of every row at once, swept there and back"})
    return data


# ---- the tab's linking, for the command (CompareView.links / linked_code with a ModelInfo per checkpoint) ----


def _usable(info: ModelInfo) -> list[bool]:
    continuous = continuous_mask(resolve(info.layout, info.latent_dim))
    active = info.active or [True] * info.latent_dim
    return [bool(c) and bool(a) for a, c in zip(active, continuous)]


def _link(flag: str, infos: list[ModelInfo]) -> str:
    first = infos[0].dataset
    other = next((i for i in infos if first and i.dataset and i.dataset != first), None)
    if other is not None:  # factors of two data sets do not match, and neither do their dimensions' meanings
        raise ValueError(
            f"export compare puts models of one data set side by side; {infos[0].name} is a {infos[0].dataset} "
            f"model and {other.name} a {other.dataset} one"
        )
    stored = all(i.factor_correlations is not None for i in infos)
    if flag == "factor" and not stored:
        missing = next(i.name for i in infos if i.factor_correlations is None)
        raise ValueError(
            f"--link factor needs factor correlations stored in every checkpoint (the zoo's, or latent-train eval's); "
            f"{missing} has none: pass --link index"
        )
    return "factor" if flag == "factor" or (flag == "auto" and stored) else "index"


def links(ref: ModelInfo, info: ModelInfo, link: str) -> dict[int, tuple[int, float]]:
    """ref's dim -> (info's dim, gain), continuous dims only (CompareView.links)."""
    mine = continuous_mask(resolve(ref.layout, ref.latent_dim))
    if info is ref:
        return {d: (d, 1.0) for d in range(ref.latent_dim) if mine[d]}
    theirs = continuous_mask(resolve(info.layout, info.latent_dim))
    if link == "factor":
        return {
            src: (dst, sign * spread(info, dst) / spread(ref, src))
            for src, (dst, sign) in match_dimensions(
                np.asarray(ref.factor_correlations), np.asarray(info.factor_correlations), _usable(ref), _usable(info)
            ).items()
        }
    size = min(ref.latent_dim, info.latent_dim)
    return {d: (d, 1.0) for d in range(size) if mine[d] and theirs[d]}


def _linked_code(ref: ModelInfo, info: ModelInfo, z: np.ndarray, base: np.ndarray | None, link: str) -> np.ndarray:
    """info's code: its own encoding of the sample (or its start code), plus the linked offsets of ref's z."""
    if info is ref:
        return np.asarray(z, np.float32).copy()
    out = info.start_code() if base is None else base.copy()
    ref_base = z if base is not None else ref.start_code()
    for src, (dst, gain) in links(ref, info, link).items():
        out[dst] += gain * (z[src] - ref_base[src])
    return out if link == "factor" else _carried_classes(ref, info, z, out)


def _carried_classes(ref: ModelInfo, info: ModelInfo, z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """CompareView.carried_classes: ref's class in each categorical group the two share (same size and place)."""
    mine, theirs = resolve(ref.layout, ref.latent_dim), resolve(info.layout, info.latent_dim)
    where = dict(zip(spans(theirs), range(len(theirs))))
    for g, span in zip(mine, spans(mine)):
        other = where.get(span)
        if g.is_categorical and other is not None and theirs[other].is_categorical:
            out = with_class(theirs, out, other, int(np.argmax(z[span[0] : span[1]])))
    return out


def _linked_rows(text: str, infos: list[ModelInfo], link: str) -> list[list[tuple[int, float]]]:
    """Per model its rows (dim, gain), one per row of the first model (auto: the tab's traversal rows), UNLINKED
    where it has no dim linked to that row."""
    ref = infos[0]
    mine = continuous_mask(resolve(ref.layout, ref.latent_dim))
    if text == "auto":
        order = [d for d in row_order(ref.kl_per_dim, ref.latent_std, ref.latent_dim, ref.layout) if mine[d]]
        order = order[:COMPARE_ROWS]
    else:
        order = _dims(text, ref)
    out = []
    for info in infos:
        found = links(ref, info, link)
        out.append([found.get(d, UNLINKED) for d in order])
    return out


def _is_factor(text: str) -> bool:
    return text != "auto" and not text.replace(",", "").replace(" ", "").isdigit()


def _dims(text: str, ref: ModelInfo) -> list[int]:
    dims = [int(part) for part in text.split(",")]
    bad = [d for d in dims if not 0 <= d < ref.latent_dim]
    if bad:
        raise ValueError(f"--dims {bad} out of range: {ref.name} has dimensions 0..{ref.latent_dim - 1}")
    layout = resolve(ref.layout, ref.latent_dim)
    categorical = [d for d in dims if not continuous_mask(layout)[d]]
    if categorical:
        raise ValueError(f"--dims {categorical}: compare moves continuous dimensions, not a categorical group's")
    return dims


def _factor_rows(
    args: argparse.Namespace, models: list[checkpoints.Model], infos: list[ModelInfo]
) -> list[list[tuple[int, float]]]:
    """One row per model: its dim most correlated with the factor, gain signed so that the factor grows left to
    right, in units of the first model's dim's spread."""
    name, chosen = args.dims, []
    for model, info in zip(models, infos):
        names = tuple(model.meta.factor_names or ())
        if name not in names:
            known = ", ".join(names) or "none"
            raise ValueError(
                f"--dims {name} is not auto, dimension numbers, or a factor of {info.name} (its factors: {known})"
            )
        if info.factor_correlations is None:
            raise ValueError(
                f"--dims {name} needs factor correlations stored in {info.name} (the zoo's, or latent-train eval's); "
                "give dimension numbers instead"
            )
        column = np.abs(np.asarray(info.factor_correlations)[:, names.index(name)])
        strength = np.where(_usable(info), column, 0.0)
        best = int(np.argmax(strength))
        if strength[best] < MIN_CORRELATION:
            raise ValueError(f"no active dimension of {info.name} follows {name} (every |r| < {MIN_CORRELATION})")
        chosen.append((best, float(np.sign(np.asarray(info.factor_correlations)[best, names.index(name)]))))
    ref_dim = chosen[0][0]
    return [[(d, sign * spread(info, d) / spread(infos[0], ref_dim))] for (d, sign), info in zip(chosen, infos)]


def _encodings(index: int, models: list[checkpoints.Model], infos: list[ModelInfo]) -> list[np.ndarray]:
    """Each model's encoder mean of data sample `index` (the worker's encode_sample)."""
    from trainer import datasets

    out = []
    for model, info in zip(models, infos):
        if not info.can_encode_data:
            raise ValueError(f"--sample needs every model to encode its data; {info.name} cannot ({info.data_note})")
        data = datasets.for_model(model.meta.dataset, model.meta.train_config, model.image_shape)
        if index >= len(data):
            raise ValueError(f"--sample {index} is past the {len(data):,} samples of {data.name}")
        with torch.inference_mode():
            mu, _ = model.encode(data.images([index]))
        out.append(mu[0].cpu().numpy().astype(np.float32))
    return out
