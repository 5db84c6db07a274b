"""`convert`: anything `load` opens, written as our `.safetensors` (the `latent-explorer convert` command)."""

from __future__ import annotations

from pathlib import Path

from ..architectures import ARCHITECTURES
from ..atomic import check_output
from ..errors import CheckpointError, OutputExistsError, UnsupportedFormatError
from ..loading import load, save
from ..model import Model
from ..sniff import holds_compiled_code


def convert(
    src: str | Path,
    dst: str | Path,
    *,
    latent_dim: int | None = None,
    arch_file: str | Path | None = None,
    model_class: str | None = None,
    model_args: object = None,
    output_range: tuple[float, float] | None = None,
    encoder: str | Path | None = None,
    overwrite: bool = False,
) -> Model:
    """Open `src` on the CPU and save it atomically to `dst` (.safetensors), float32, weights unchanged.

    Returns the model, whose `sha256` is now that of `dst` and whose `meta.source_sha256` is that of
    the file it came from (model.pt for a disentangling-vae folder). Raises CheckpointError; a model
    that needs `arch_file`, or a TorchScript file, is refused before any of its code runs (their
    networks are not ours, so a .safetensors file of ours could not describe them). An existing
    checkpoint at `dst` is replaced only with `overwrite` (OutputExistsError otherwise), and `dst` is
    never `src` itself.
    """
    src, dst = Path(src), Path(dst)
    if model_class is not None or src.suffix.lower() == ".onnx" or encoder is not None:
        how = f"--model-class {model_class}" if model_class is not None else "onnxruntime"
        raise UnsupportedFormatError(
            f"{src.name} opens with {how}, so it cannot be converted: latent-explorer's .safetensors files hold "
            f"only its own architectures ({', '.join(ARCHITECTURES)}); open the original file instead"
        )
    del model_args, output_range  # they only matter to the refused --model-class and ONNX models
    if arch_file is not None:
        raise UnsupportedFormatError(
            f"{src.name} needs --arch-file {Path(arch_file).name}, so it cannot be converted: latent-explorer's "
            f".safetensors files hold only its own architectures ({', '.join(ARCHITECTURES)}); open it with "
            f"`latent-explorer --arch-file {Path(arch_file).name} {src.name}` instead"
        )
    if dst.suffix != ".safetensors":
        raise CheckpointError(f"{dst.name}: converted checkpoints are .safetensors files; end the name in .safetensors")
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise OutputExistsError(f"{dst.name} is the file being converted; write the result to another file")
    check_output(dst, overwrite=overwrite, inputs=[src])
    if holds_compiled_code(src):
        raise UnsupportedFormatError(
            f"{src.name} is a TorchScript module, which latent-explorer can open but not convert: its network is "
            f"the file's own compiled code, not one of latent-explorer's architectures ({', '.join(ARCHITECTURES)}), "
            "and a .safetensors file holds weights only; open the original file instead"
        )
    model = load(src, device="cpu", latent_dim=latent_dim)
    if ARCHITECTURES.get(model.meta.arch) is not type(model.network):
        raise UnsupportedFormatError(
            f"{src.name} is a {model.meta.arch} model, which latent-explorer can open but not convert: its network "
            f"is not one of latent-explorer's architectures ({', '.join(ARCHITECTURES)}), "
            "and a .safetensors file holds weights only; open the original file instead"
        )
    if model.meta.source_sha256 is None:
        model.with_meta(source_sha256=model.sha256)
    save(model, dst)
    return model
