"""Peak memory and time of ``models convert`` on a gpt2-xl-shaped F32 checkpoint.

    python benchmarks/convert_memory.py [--quants q8_0,f16] [--q4] [--small] [--keep] [--json]

Builds once, under benchmarks/.cache, a random F32 checkpoint in Hugging Face layout
(``transformer.``-prefixed keys and an ``lm_head.weight``, config.json, vocab.json and
merges.txt) of the gpt2-xl shape (48 layers, 1600 wide, 25 heads, 1024 positions, 50257
tokens: 6.5 GB) or with --small the gpt2 shape (124M, 0.5 GB). It is written tensor by tensor
in chunks of a few MB, never held in memory. Each conversion runs in a child process
(``python -m gpt2_adventure models convert``) whose /proc/PID/status is sampled every 50 ms:
peak RSS is its VmHWM, which counts the pages of files it maps (llama.cpp's quantizer maps its
input); peak anonymous RSS (the largest RssAnon seen) is the memory the conversion itself
allocates. (Not ru_maxrss from wait4: on Linux it includes the parent's RSS at the moment of
the spawn.) The quantizer's part is reported on its own too. Outputs are deleted after
measuring unless --keep.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import CACHE, SHAPES  # noqa: E402
from tests.support.hf_checkpoint import N_VOCAB, _config, _write_tokenizer  # noqa: E402

N_POSITIONS = 1024
CHUNK_VALUES = 1 << 22  # 16 MB of float32 generated at a time
SAMPLE_S = 0.05
MIB = 1 << 20


# ---- the checkpoint, streamed ------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    name: str
    shape: tuple[int, ...]
    mean: float
    std: float
    seed: int  # lm_head reuses wte's seed: a tied head, as transformers saves it


def _specs(n_layer: int, n_embd: int) -> list[_Spec]:
    e, f = n_embd, 4 * n_embd
    specs: list[_Spec] = []

    def add(name: str, shape: tuple[int, ...], mean: float = 0.0, std: float = 0.02,
            seed: int | None = None) -> None:
        specs.append(_Spec(name, shape, mean, std, len(specs) if seed is None else seed))

    def norm(prefix: str) -> None:
        add(f"{prefix}.weight", (e,), mean=1.0, std=0.1)
        add(f"{prefix}.bias", (e,), std=0.05)

    t = "transformer."
    add(f"{t}wte.weight", (N_VOCAB, e))
    add(f"{t}wpe.weight", (N_POSITIONS, e), std=0.01)
    norm(f"{t}ln_f")
    for i in range(n_layer):
        h = f"{t}h.{i}"
        norm(f"{h}.ln_1")
        add(f"{h}.attn.c_attn.weight", (e, 3 * e))  # Conv1D: [in, out]
        add(f"{h}.attn.c_attn.bias", (3 * e,))
        add(f"{h}.attn.c_proj.weight", (e, e))
        add(f"{h}.attn.c_proj.bias", (e,))
        norm(f"{h}.ln_2")
        add(f"{h}.mlp.c_fc.weight", (e, f))
        add(f"{h}.mlp.c_fc.bias", (f,))
        add(f"{h}.mlp.c_proj.weight", (f, e))
        add(f"{h}.mlp.c_proj.bias", (e,))
    add("lm_head.weight", (N_VOCAB, e), seed=0)
    return specs


def _values(spec: _Spec) -> Iterator[np.ndarray]:
    """The tensor's float32 values in chunks of at most CHUNK_VALUES."""
    rng = np.random.default_rng([7, spec.seed])
    left = math.prod(spec.shape)
    while left:
        n = min(left, CHUNK_VALUES)
        chunk = rng.standard_normal(n, dtype=np.float32)
        chunk *= spec.std
        chunk += spec.mean
        yield chunk
        left -= n


def write_safetensors(path: Path, specs: list[_Spec]) -> None:
    """A valid safetensors file of F32 tensors, written chunk by chunk."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for s in specs:
        size = 4 * math.prod(s.shape)
        header[s.name] = {"dtype": "F32", "shape": list(s.shape),
                          "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes with spaces
    with path.open("wb") as fh:
        fh.write(len(raw).to_bytes(8, "little"))
        fh.write(raw)
        for s in specs:
            for chunk in _values(s):
                chunk.tofile(fh)


def checkpoint(shape: str, cache: Path = CACHE) -> Path:
    """The cached random F32 checkpoint of ``shape``; built (atomically) when missing."""
    folder = cache / f"{shape}-random-f32-hf"
    if (folder / "config.json").exists():
        return folder
    n_layer, n_embd, n_head = {**SHAPES, "tiny": (2, 64, 4)}[shape]  # tiny: the smoke test
    part = cache / f".{folder.name}.{os.getpid()}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    try:
        write_safetensors(part / "model.safetensors", _specs(n_layer, n_embd))
        _write_tokenizer(part, "vocab")
        config = _config(n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                         n_positions=N_POSITIONS, plain=False)
        (part / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        part.rename(folder)
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return folder


# ---- one measured conversion -------------------------------------------------------------


def _status(pid: int) -> dict[str, int] | None:
    """VmRSS, RssAnon, RssFile and VmHWM of ``pid`` in bytes (None once it has exited)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out or None  # a zombie has no memory lines


@dataclass
class _Samples:
    times: list[float] = field(default_factory=list)
    anon: list[int] = field(default_factory=list)
    file: list[int] = field(default_factory=list)
    hwm: int = 0

    def peak(self, values: list[int], since: float = 0.0, until: float = math.inf) -> int:
        return max((v for t, v in zip(self.times, values) if since <= t < until), default=0)


def _sample(pid: int, start: float, done: threading.Event, samples: _Samples) -> None:
    while not done.is_set():
        status = _status(pid)
        if status is not None:
            samples.times.append(time.perf_counter() - start)
            samples.anon.append(status.get("RssAnon", 0))
            samples.file.append(status.get("RssFile", 0))
            samples.hwm = max(samples.hwm, status.get("VmHWM", 0))
        done.wait(SAMPLE_S)


def _env(home: Path) -> dict[str, str]:
    """This checkout first on the path; the app's folders in ``home``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for part in ("CONFIG", "DATA", "CACHE"):
        env[f"GPT2_ADVENTURE_{part}_DIR"] = str(home / part.lower())
    return env


def run_measured(cmd: list[str]) -> dict[str, object]:
    """Run ``cmd``: its wall and CPU time, peak RSS, peak anonymous RSS, and from the line
    ``quantizing to ...`` on its stderr (if any) the same for the quantizer's part."""
    with tempfile.TemporaryDirectory(prefix="gpt2adv-convert-") as home:
        return _run_measured(cmd, _env(Path(home)))


def _run_measured(cmd: list[str], env: dict[str, str]) -> dict[str, object]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    samples, done = _Samples(), threading.Event()
    lines: list[tuple[float, str]] = []
    stdout: list[str] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.perf_counter() - start, line.rstrip("\n")))

    def read_stdout() -> None:
        assert proc.stdout is not None
        stdout.append(proc.stdout.read())

    threads = [threading.Thread(target=read_stderr, daemon=True),
               threading.Thread(target=read_stdout, daemon=True),
               threading.Thread(target=_sample, args=(proc.pid, start, done, samples),
                                daemon=True)]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)  # for its CPU time
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for t in threads:
        t.join()
    if proc.returncode != 0:
        tail = "\n".join(line for _, line in lines[-30:])
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
    quant_at = next((t for t, line in lines if line.startswith("quantizing to")), None)
    result: dict[str, object] = {
        "seconds": round(seconds, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mib": round(samples.hwm / MIB),
        "peak_anon_mib": round(samples.peak(samples.anon) / MIB),
        "samples": len(samples.times),
    }
    if quant_at is not None:
        result |= {
            "write_f16_s": round(quant_at, 1),
            "write_f16_peak_anon_mib": round(samples.peak(samples.anon, until=quant_at) / MIB),
            "quantize_peak_anon_mib": round(samples.peak(samples.anon, quant_at) / MIB),
            "quantize_peak_file_mib": round(samples.peak(samples.file, quant_at) / MIB),
        }
    return result


def baseline() -> dict[str, object]:
    """The same child doing nothing but import what a conversion imports."""
    code = ("import gguf, llama_cpp, numpy\n"
            "import gpt2_adventure.cli.models, gpt2_adventure.engine.models.convert")
    return run_measured([sys.executable, "-c", code])


def convert(ckpt: Path, out: Path, quant: str) -> dict[str, object]:
    cmd = [sys.executable, "-m", "gpt2_adventure", "models", "convert", str(ckpt),
           "--out", str(out), "--quant", quant, "--force"]
    result = run_measured(cmd)
    result |= {"quant": quant, "output_mib": round(out.stat().st_size / MIB)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quants", default="q8_0,f16",
                        help="comma-separated: f32, f16, q8_0, q6_k, q4_k_m (default q8_0,f16)")
    parser.add_argument("--q4", action="store_true", help="also q4_k_m")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true",
                      help="the gpt2 (124M) shape instead of gpt2-xl: a one-minute check")
    size.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # smoke test
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help="where the checkpoint is kept (default benchmarks/.cache)")
    parser.add_argument("--keep", action="store_true", help="keep the converted files")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    quants = [q.strip().lower() for q in args.quants.split(",") if q.strip()]
    if args.q4 and "q4_k_m" not in quants:
        quants.append("q4_k_m")
    shape = "tiny" if args.tiny else "gpt2" if args.small else "gpt2-xl"
    if not args.json:
        print(f"checkpoint: {shape}-shaped, F32 (building it once if needed) ...",
              file=sys.stderr)
    began = time.perf_counter()
    ckpt = checkpoint(shape, args.cache)
    ckpt_bytes = (ckpt / "model.safetensors").stat().st_size
    report: dict[str, object] = {
        "shape": shape, "checkpoint": str(ckpt), "checkpoint_mib": round(ckpt_bytes / MIB),
        "checkpoint_ready_s": round(time.perf_counter() - began, 1),
        "cpu_count": os.cpu_count(), "baseline": baseline(), "runs": [],
    }
    outdir = args.cache / f"{shape}-converted"
    outdir.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, object]] = []
    try:
        for quant in quants:
            if not args.json:
                print(f"converting to {quant} ...", file=sys.stderr)
            out = outdir / f"{shape}-random-{quant}.gguf"
            try:
                runs.append(convert(ckpt, out, quant))
            finally:
                if not args.keep:
                    out.unlink(missing_ok=True)
    finally:
        if not args.keep and not any(outdir.iterdir()):
            outdir.rmdir()
    report["runs"] = runs
    if args.json:
        print(json.dumps(report, indent=2))
        return
    _print_table(report)


def _print_table(report: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    base = report["baseline"]
    assert isinstance(base, dict)
    table = Table(title=f"models convert, {report['shape']}-shaped F32 checkpoint of "
                        f"{report['checkpoint_mib']} MiB ({report['cpu_count']} cores)")
    for column in ("quant", "s", "CPU s", "peak RSS", "peak anon", "output",
                   "quantizer anon / file"):
        table.add_column(column, justify="right")
    table.add_row("imports only", str(base["seconds"]), str(base["cpu_s"]),
                  f"{base['peak_rss_mib']} MiB", f"{base['peak_anon_mib']} MiB", "", "")
    for run in report["runs"]:  # type: ignore[union-attr]
        quantizer = (f"{run['quantize_peak_anon_mib']} / {run['quantize_peak_file_mib']} MiB"
                     if "quantize_peak_anon_mib" in run else "")
        table.add_row(run["quant"], str(run["seconds"]), str(run["cpu_s"]),
                      f"{run['peak_rss_mib']} MiB", f"{run['peak_anon_mib']} MiB",
                      f"{run['output_mib']} MiB", quantizer)
    Console().print(table)


if __name__ == "__main__":
    main()
