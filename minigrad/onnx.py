"""`mg.onnx`: importable for programs that mention `torch.onnx`; minigrad has no exporter."""

from __future__ import annotations


def export(model, args=(), f=None, *pargs, **kwargs):
    raise NotImplementedError(
        "minigrad cannot export ONNX: it records no static graph to export. Save the weights "
        "with mg.save(model.state_dict(), path) and load them into the torch model to export."
    )


def is_in_onnx_export() -> bool:
    return False
