"""Hostile model files, built from the shipped models, thrown at composer.core.modelfile.load_model_file.

The contract checked for every case: the file is refused with a :class:`ModelFileError` whose message is one
line naming the file, spending under ``CPU_SECONDS`` of CPU and under ``PEAK_MB`` of peak resident memory (the
process included: PyTorch and Composer alone take 150-230 MB), in a process whose address space is capped
with ``resource.setrlimit(RLIMIT_AS)``, so a case that would have gone on allocating fails in its own process
instead of taking the machine with it. Before the fix, a declared ``hidden_size`` of 12,000 took 6.8 GB and
114 s before "size mismatch", a declared ``max_shift`` of 10^8 went past 6.9 GB, a 5.5 MB zip bomb took
1.7 GB, ten malformed fields ended in tracebacks and NaN weights were accepted silently.

Each case runs in its own process, forked from a server process that imported PyTorch and Composer once (a
fresh interpreter per case would spend most of a minute importing). The time limit is on the CPU time the
load takes, which a busy machine does not stretch; the wall clock only bounds a hang (``HANG_SECONDS``). The
peak memory is the forked process's own, from ``os.wait4``. The shipped models themselves load in the same
harness, within the same limits (so the limits do not refuse everything).
"""

from __future__ import annotations

import copy
import json
import math
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
import torch

from tests.reliability.conftest import scaled

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "midi_data" / "models"
CPU_SECONDS = 5.0      # CPU time of one load (the shipped models: about 0.05 s)
PEAK_MB = 500          # peak resident memory of the process that loads one file
ADDRESS_SPACE = 1.5 * 2**30   # RLIMIT_AS above the server's own address space (PyTorch maps about 0.65 GB)
HANG_SECONDS = 120     # wall clock for one case on a busy machine; only a hang gets there

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork, /proc and RLIMIT_AS: Linux")


# -- the harness: a server imports once, forks a capped process per file -------------------------------------------
SERVER = r'''
import json, os, resource, signal, sys, time, traceback
import torch
torch.set_num_threads(1)
from composer.core.modelfile import ModelFileError, load_model_file
import composer.melody.model, composer.harmony.model, composer.polyphonic.model   # the builders, imported once

ADDRESS_SPACE, CPU_LIMIT, HANG = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])


def vm_bytes():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmSize:")) * 1024


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load(path, result_path, limit):
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))
    started_cpu, started = cpu(), time.perf_counter()
    try:
        load_model_file(path)
        result, code = {"outcome": "loaded"}, 3
    except ModelFileError as error:
        result, code = {"outcome": "refused", "message": str(error)}, 0
    except BaseException:
        result, code = {"outcome": "crash", "message": traceback.format_exc()[-3000:]}, 4
    result.update(cpu_s=cpu() - started_cpu, wall_s=time.perf_counter() - started)
    with open(result_path, "w") as handle:
        json.dump(result, handle)
    os._exit(code)


def run(path, result_path):
    limit = int(vm_bytes() + ADDRESS_SPACE)
    pid = os.fork()
    if pid == 0:
        load(path, result_path, limit)
    deadline = time.monotonic() + HANG
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            done, status, usage = os.wait4(pid, 0)
            break
        time.sleep(0.005)
    report = {"exit": os.waitstatus_to_exitcode(status), "peak_mb": usage.ru_maxrss / 1024,
              "hang": time.monotonic() > deadline}
    if os.path.exists(result_path):
        with open(result_path) as handle:
            report.update(json.load(handle))
    return report


cases = json.loads(open(sys.argv[1]).read())
print(json.dumps({name: run(path, result) for name, (path, result) in cases.items()}))
'''


def run_cases(cases: dict[str, Path], folder: Path) -> dict[str, dict]:
    """name -> the forked process's report: exit (0 refused, 3 loaded, 4 other exception, negative: killed by
    that signal), outcome, message, cpu_s, wall_s, peak_mb, hang."""
    listing = folder / "cases.json"
    listing.write_text(json.dumps({name: [str(path), str(folder / f"result-{index}.json")]
                                   for index, (name, path) in enumerate(cases.items())}))
    server = subprocess.run([sys.executable, "-c", SERVER, str(listing), str(ADDRESS_SPACE), str(int(CPU_SECONDS * 4)),
                             str(scaled(HANG_SECONDS))], capture_output=True, text=True, cwd=REPO,
                            timeout=scaled(HANG_SECONDS) * (len(cases) + 2))
    assert server.returncode == 0, server.stderr[-3000:]
    return json.loads(server.stdout)


def check_refused(name: str, path: Path, report: dict, words: tuple[str, ...]) -> None:
    """The contract: refused with a one-line ModelFileError naming the file and saying why, within the limits."""
    where = f"{name}: {report}"
    assert not report["hang"], where
    assert report["exit"] == 0 and report["outcome"] == "refused", where
    message = report["message"]
    assert "\n" not in message and message.isprintable() and len(message) < 500, where
    assert message.startswith(f"cannot load model file {path}: "), where
    for word in words:
        assert word.lower() in message.lower(), (name, word, message)
    assert report["cpu_s"] < CPU_SECONDS, where
    assert report["peak_mb"] < PEAK_MB, where


def table(reports: dict[str, dict]) -> str:
    rows = [f"{'case':34} {'outcome':8} {'cpu s':>6} {'wall s':>6} {'peak MB':>7}  reason"]
    for name, r in reports.items():
        reason = r.get("message", "").split(": ", 1)[-1]
        rows.append(f"{name:34} {r.get('outcome', '?'):8} {r.get('cpu_s', math.nan):6.2f} "
                    f"{r.get('wall_s', math.nan):6.2f} {r['peak_mb']:7.0f}  {reason[:90]}")
    return "\n".join(rows)


# -- building hostile files from the shipped ones --------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped() -> dict[str, dict]:
    return {name: torch.load(MODELS / f"{name}.pt", map_location="cpu", weights_only=True)
            for name in ("melody", "chorale", "jsb")}


def changed(checkpoint: dict, path: tuple, value) -> dict:
    """A copy of ``checkpoint`` with the field at ``path`` (keys into nested dicts) set to ``value`` (deleted
    when ``value`` is DELETE); the tensors are shared, not copied."""
    out = dict(checkpoint)
    inner = out
    for key in path[:-1]:
        inner[key] = dict(inner[key])
        inner = inner[key]
    if value is DELETE:
        del inner[path[-1]]
    else:
        inner[path[-1]] = value
    return out


DELETE = object()


def with_weight(checkpoint: dict, name: str, change) -> dict:
    state = dict(checkpoint["model_state"])
    state[name] = change(state[name].clone())
    return {**checkpoint, "model_state": state}


def poisoned(value: float):
    def change(tensor: torch.Tensor) -> torch.Tensor:
        tensor.view(-1)[tensor.numel() // 2] = value
        return tensor
    return change


class WritesMarker:
    """Unpickling this runs ``exec`` that writes a marker file: what a hostile model file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def long_history(checkpoint: dict) -> list[dict]:
    """40,000 distinct epochs (a pickle of about 4 MB)."""
    rows = checkpoint["history"]
    return [{**rows[i % len(rows)], "epoch": i + 1} for i in range(40_000)]


def nan_row(rows: list[list[float]]) -> list[list[float]]:
    """The repeat cache's weights with one NaN (its sum check alone would let NaN through)."""
    return [row if index != 3 else [math.nan] * len(row) for index, row in enumerate(rows)]


def deeply_nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def cyclic() -> list:
    loop: list = []
    loop.append(loop)
    return loop


def dict_cases(models: dict[str, dict], marker: Path) -> dict[str, tuple[dict, tuple[str, ...]]]:
    """name -> (checkpoint dict to save, words the refusal must contain)."""
    melody, chorale, jsb = models["melody"], models["chorale"], models["jsb"]
    big = torch.zeros(16 * 2**20)                           # 64 MB of real data
    huge_view = torch.zeros(1).expand(10**10)               # ten billion elements that take 4 bytes
    inflated = torch.zeros(1, 512).expand(196, 512)         # the right shape, from one row
    return {
        # declared sizes far beyond the tensors (before: networks and vocabularies built from them first)
        "melody hidden_size 12000": (changed(melody, ("model_config", "hidden_size"), 12000),
                                     ("inconsistent", "rnn.weight")),
        "melody max_shift 10^8": (changed(melody, ("vocabulary", "config", "max_shift"), 10**8), ("max_shift",)),
        "melody vocab_size 10^9": (changed(melody, ("model_config", "vocab_size"), 10**9), ("vocab_size", "limit")),
        "melody num_layers 10^6": (changed(melody, ("model_config", "num_layers"), 10**6), ("num_layers", "limit")),
        "chorale hidden 12000, 48 layers": (changed(changed(chorale, ("model_config", "hidden_size"), 12000),
                                                    ("model_config", "num_layers"), 48), ("inconsistent",)),
        "jsb embedding_size 65536": (changed(jsb, ("model_config", "embedding_size"), 65536), ("inconsistent",)),
        # None, strings and lists where dicts belong; wrong types
        "melody model_config None": (changed(melody, ("model_config",), None), ("model_config", "None")),
        "melody vocabulary None": (changed(melody, ("vocabulary",), None), ("vocabulary", "None")),
        "melody recipe a string": (changed(melody, ("recipe",), "a recipe"), ("recipe", "str")),
        "jsb recipe a string": (changed(jsb, ("recipe",), "a recipe"), ("recipe", "str")),
        "melody metrics None": (changed(melody, ("metrics",), None), ("metrics",)),
        "melody valid loss a string": (changed(melody, ("metrics", "valid", "loss"), "low"), ("loss", "number")),
        "melody epoch a string": (changed(melody, ("epoch",), "41"), ("epoch",)),
        "melody history of strings": (changed(melody, ("history",), ["epoch 1"]), ("history",)),
        "melody hidden_size a string": (changed(melody, ("model_config", "hidden_size"), "256"),
                                        ("hidden_size", "whole number")),
        "melody unknown setting": (changed(melody, ("model_config", "layers"), 2), ("unknown", "layers")),
        "melody tokens a string": (changed(melody, ("vocabulary", "tokens"), "PAD BOS EOS"), ("tokens",)),
        "chorale transpose not numeric": (changed(chorale, ("recipe", "config", "transpose"), ["a", "b"]),
                                          ("transpose",)),
        "chorale satb None": (changed(chorale, ("satb",), None), ("voice_limits",)),
        "chorale voice limits out of range": (changed(chorale, ("satb", "voice_limits"), [[0, 10**9]] * 4),
                                              ("voice_limits",)),
        "chorale vocab_size 10^6": (changed(chorale, ("model_config", "vocab_size"), 10**6), ("vocab_size",)),
        "jsb repeat cache NaN": (changed(jsb, ("repeat_cache", "weights"), nan_row(jsb["repeat_cache"]["weights"])),
                                 ("repeat_cache",)),
        "melody history of 40,000 epochs": (changed(melody, ("history",), long_history(melody)), ("data.pkl",)),
        "melody format_version '1'": (changed(melody, ("format_version",), "1"), ("format version '1'", "str")),
        "melody format_version True": (changed(melody, ("format_version",), True), ("format version True", "bool")),
        "melody format_version 2": (changed(melody, ("format_version",), 2), ("format version 2", "newer")),
        "melody kind a list": (changed(melody, ("kind",), ["composer-model"]), ("not a Composer model file",)),
        "melody recipe nested 200 deep": (changed(melody, ("recipe", "deep"), deeply_nested(200)), ("nested",)),
        "melody recipe a cycle": (changed(melody, ("recipe", "loop"), cyclic()), ("nested",)),
        "melody tensor in metrics": (changed(melody, ("metrics", "valid", "loss"), torch.zeros(3)), ("metrics",)),
        # weights: NaN/inf, missing, wrong type, extra, inflating views
        "melody NaN weight": (with_weight(melody, "head.weight", poisoned(math.nan)), ("NaN", "head.weight")),
        "chorale inf weight": (with_weight(chorale, "head_out", poisoned(math.inf)), ("infinite", "head_out")),
        "jsb -inf weight": (with_weight(jsb, "rnn.weight_hh_l1", poisoned(-math.inf)), ("infinite",)),
        "melody weight missing": (changed(melody, ("model_state", "rnn.weight_hh_l1"), DELETE),
                                  ("inconsistent", "lacks rnn.weight_hh_l1")),
        "melody model_state None": (changed(melody, ("model_state",), None), ("model_state",)),
        "chorale model_state a list": (changed(chorale, ("model_state",), [1, 2, 3]), ("model_state",)),
        "melody weight a string": (changed(melody, ("model_state", "head.bias"), "zeros"), ("head.bias", "tensor")),
        "melody weights int64": (with_weight(melody, "embedding.weight", lambda t: t.long()), ("floating",)),
        "melody extra 64 MB tensor": (changed(melody, ("model_state", "extra"), big), ("unexpected", "extra")),
        "melody extra 10^10-element view": (changed(melody, ("model_state", "extra"), huge_view), ("unexpected",)),
        "jsb weight inflated from one row": (changed(jsb, ("model_state", "kernels.weight"), inflated), ("views",)),
        "melody resume weights missing": (changed(melody, ("resume",), {"model_state": {}}), ("resume", "lacks")),
        # a pickle that runs code (refused unrun)
        "melody pickle that runs code": (changed(melody, ("metrics", "valid"), WritesMarker(marker)),
                                         ("plain data",)),
    }


# -- hand-made archives ------------------------------------------------------------------------------------------
def write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]], count: int | None = None) -> None:
    """A zip archive from (name, stored bytes, method (0 stored, 8 deflated), CRC-32, declared size) members,
    written by hand so that the declared sizes (and ``count``, the entries its end record declares) can be
    anything."""
    local, central = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        encoded = name.encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, len(local)) + encoded
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data), size,
                             len(encoded), 0) + encoded + data
    count = min(len(members), 0xFFFF) if count is None else count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))


def members_of(path: Path) -> list[tuple[str, bytes, int, int, int]]:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info), 0, info.CRC, info.file_size) for info in archive.infolist()]


def deflated_zeros(size: int, chunk: int = 16 * 2**20) -> tuple[bytes, int]:
    """(raw deflate stream, CRC-32) of ``size`` zero bytes, quickly: a full flush after each chunk makes
    every chunk's compressed bytes the same."""
    assert size % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc, zeros = 0, bytes(chunk)
    for _ in range(size // chunk):
        crc = zlib.crc32(zeros, crc)
    return block * (size // chunk) + compressor.flush(), crc


def archive_cases(folder: Path) -> dict[str, tuple[Path, tuple[str, ...]]]:
    melody = MODELS / "melody.pt"
    members = members_of(melody)
    data = next(i for i, m in enumerate(members) if "/data/" in m[0] and len(m[1]) > 100_000)   # a weight record
    pickled = next(i for i, m in enumerate(members) if m[0].endswith("/data.pkl"))
    cases = {}

    def build(name: str, replaced: dict[int, tuple], words: tuple[str, ...], extra: list | None = None,
              count: int | None = None) -> None:
        path = folder / f"{name.replace(' ', '-').replace(',', '')}.pt"
        write_zip(path, [replaced.get(i, m) for i, m in enumerate(members)] + (extra or []), count)
        cases[name] = (path, words)

    bomb, crc = deflated_zeros(2**30)                  # 1 GiB in about 1 MB, inside the real model file
    build("zip bomb 1 GiB in a weight record", {data: (members[data][0], bomb, 8, crc, 2**30)}, ("zip bomb",))
    name, stored, _, crc, _ = members[data]
    build("directory declares 3 GB", {data: (name, stored, 0, crc, 3 * 10**9)}, ("unpack",))
    name, stored, _, crc, _ = members[pickled]
    build("data.pkl declared 3 MiB", {pickled: (name, stored, 0, crc, 3 * 2**20)}, ("data.pkl",))
    build("20,000 entries", {}, ("entries",), [(f"archive/extra/{i}", b"", 0, 0, 0) for i in range(20_000)])
    build("60,000 entries, 17 declared", {}, ("entries",),
          [(f"archive/extra/{i}", b"", 0, 0, 0) for i in range(60_000)], count=len(members))
    original = melody.read_bytes()
    for fraction in (0.5, 0.999):
        path = folder / f"truncated-{fraction}.pt"
        path.write_bytes(original[:int(len(original) * fraction)])
        cases[f"truncated to {fraction:.1%}"] = (path, ("corrupt",))
    (folder / "empty.pt").write_bytes(b"")
    cases["empty file"] = (folder / "empty.pt", ("not a model file",))
    (folder / "noise.pt").write_bytes(b"PK\x03\x04" + os.urandom(4096))
    cases["zip magic then noise"] = (folder / "noise.pt", ("corrupt",))
    return cases


@pytest.fixture(scope="module")
def hostile_files(shipped, tmp_path_factory) -> tuple[dict[str, tuple[Path, tuple[str, ...]]], Path]:
    folder = tmp_path_factory.mktemp("hostile-models")
    marker = folder / "marker.txt"
    cases = {}
    for index, (name, (checkpoint, words)) in enumerate(dict_cases(shipped, marker).items()):
        path = folder / f"case-{index:02d}.pt"
        torch.save(checkpoint, path)
        cases[name] = (path, words)
    cases.update(archive_cases(folder))
    return cases, marker


# -- the tests ---------------------------------------------------------------------------------------------------
def test_hostile_model_files_are_refused_within_bounded_time_and_memory(hostile_files, tmp_path):
    cases, marker = hostile_files
    reports = run_cases({name: path for name, (path, _) in cases.items()}, tmp_path)
    print("\n" + table(reports))
    for name, (path, words) in cases.items():
        check_refused(name, path, reports[name], words)
    assert not marker.exists(), "loading a model file ran code from it"
    assert len(cases) >= 50, len(cases)


def test_the_shipped_models_load_within_the_same_limits(tmp_path):
    """Control: the limits refuse hostile files, not model files (each shipped model, in the same harness)."""
    files = {path.stem: path for path in sorted(MODELS.glob("*.pt"))}
    assert {"melody", "chorale", "jsb"} <= set(files)
    reports = run_cases(files, tmp_path)
    print("\n" + table(reports))
    for name, report in reports.items():
        assert report["exit"] == 3 and report["outcome"] == "loaded", (name, report)
        assert report["cpu_s"] < CPU_SECONDS and report["peak_mb"] < PEAK_MB, (name, report)


def test_checking_a_model_needs_no_compiler_imports():
    """The networks are laid out on the meta device without PyTorch's Python decompositions, which import
    torch._dynamo and sympy (1-2 s, the first time): loading a model file costs what it did before the checks."""
    code = ("import sys\nfrom composer.core.modelfile import load_model_file\n"
            "for name in ('melody', 'chorale', 'jsb', 'nottingham', 'melody_chords'):\n"
            "    load_model_file(f'midi_data/models/{name}.pt')\n"
            "print(sorted(m for m in ('torch._dynamo', 'sympy') if m in sys.modules))")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=scaled(300))
    assert child.returncode == 0, child.stderr[-3000:]
    assert child.stdout.strip() == "[]", child.stdout


def test_checks_refuse_in_process_too(shipped, tmp_path):
    """The same checks, in this process: load_checkpoint (which the GUI and --resume use) refuses what
    load_model_file refuses, and from_checkpoint refuses a dict that never was a file."""
    from composer.core.modelfile import ContentError, ModelFileError, load_checkpoint
    from composer.melody.model import from_checkpoint

    path = tmp_path / "nan.pt"
    torch.save(with_weight(shipped["melody"], "head.weight", poisoned(math.nan)), path)
    with pytest.raises(ModelFileError, match="NaN"):
        load_checkpoint(path)
    with pytest.raises(ContentError, match="inconsistent"):
        from_checkpoint(changed(shipped["melody"], ("model_config", "hidden_size"), 12000))
    with pytest.raises(ContentError, match="no resume state"):
        from_checkpoint(shipped["melody"], weights="resume")     # the shipped file was stripped
    resumable = changed(shipped["melody"], ("resume",), {"model_state": copy.copy(shipped["melody"]["model_state"])})
    width = shipped["melody"]["model_config"]["hidden_size"]
    assert from_checkpoint(resumable, weights="resume").net.config.hidden_size == width
    diverged = changed(resumable, ("resume", "model_state", "head.bias"), torch.full((184,), math.nan))
    assert from_checkpoint(diverged).net.config.hidden_size == width    # the best weights are what is used
    with pytest.raises(ContentError, match="NaN"):
        from_checkpoint(diverged, weights="resume")


@pytest.mark.slow
def test_the_cli_prints_one_line_and_writes_nothing(hostile_files, tmp_path):
    """End to end through ``python -m composer`` (info, generate, harmonize), memory capped: exit status 1,
    one line on stderr, no traceback, nothing written, the model file unchanged."""
    cases, _ = hostile_files
    melody_in = next((REPO / "midi_data" / "folk_melodies").rglob("*.mid"))
    commands = {
        "melody NaN weight": ["generate", "--model", "{model}", "--out", "{out}", "--count", "2", "--bars", "2"],
        "melody hidden_size 12000": ["info", "{model}"],
        "zip bomb 1 GiB in a weight record": ["info", "{model}"],
        "jsb recipe a string": ["info", "{model}"],
        "chorale inf weight": ["harmonize", str(melody_in), "--model", "{model}", "--out", "{out}/h.mid"],
    }
    limit = int(4 * 2**30)   # address space: the interpreter's own (~0.7 GB) plus ample room, far below a bomb

    def cap() -> None:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    started = {}
    for name, command in commands.items():   # all at once: on a busy machine each start-up takes a while
        model = cases[name][0]
        out = tmp_path / name.replace(" ", "-")
        args = [part.format(model=model, out=out) for part in command]
        child = subprocess.Popen([sys.executable, "-m", "composer", *args], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, cwd=REPO, preexec_fn=cap)
        started[name] = (child, model, model.read_bytes(), out)
    try:
        for name, (child, model, before, out) in started.items():
            _, stderr = child.communicate(timeout=scaled(HANG_SECONDS))
            lines = stderr.strip().splitlines()
            assert child.returncode == 1, (name, child.returncode, stderr[-2000:])
            assert len(lines) == 1 and "Traceback" not in stderr, (name, stderr[-2000:])
            assert f"cannot load model file {model}: " in lines[0], (name, lines)
            assert not out.exists() or not any(out.iterdir()), (name, list(out.iterdir()))
            assert model.read_bytes() == before, name
    finally:
        for child, *_ in started.values():
            if child.poll() is None:
                child.kill()
                child.wait()
