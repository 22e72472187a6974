"""The house's corridors, read from the source with ``ast``: arrows run one way, nothing imports in a circle,
every capture takes one road, every frame is developed by one recipe, every vocabulary is defined once, and
no caller sniffs at the sensor's type. docs/architecture.md draws the same plan.

Layers, top to bottom (an arrow may skip a layer downwards, never point up):

    process and tools   daemon, camctl, camtune
    transport           control
    application         camera
    domains             capture, gpio, develop, isp, denoise, formats, sensor, tuning, board_profile, ...
    ground floor        errors, clock, paths, logs, textfile, actions, boards, frame, colour, config, storage
"""

import ast
import functools
import re
from collections import defaultdict
from pathlib import Path

from firmware.actions import DenoiseMode, DriveMode, LedState, ModeAction, Setting
from firmware.boards import GpioBackend, SensorBackend

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"

GROUND = {"firmware", "firmware.errors", "firmware.clock", "firmware.paths", "firmware.logs", "firmware.textfile",
          "firmware.actions", "firmware.boards", "firmware.frame", "firmware.colour", "firmware.config",
          "firmware.storage"}
RANKS = {"firmware.camera": 2, "firmware.control": 3, "firmware.daemon": 4, "firmware.camctl": 4,
         "firmware.camtune": 4}  # every other package is a domain (rank 1); the ground floor is rank 0

# Arrows allowed to break the rules while their owner removes them; the lead deletes an entry once it is gone
# (test_the_allowed_arrows_still_exist says when). B's tuning rules <-> validator circle and D's tuning ->
# mock-spectra arrows are gone already.
ALLOWED = {
    # The merge's mock scenes (hdr_scenes.py, motion.py) import scenes.py, and make_scene imports them back (in
    # the function) to register them: a circle of files. Owner: the mock's scenes (G, wh). A factory module that
    # imports every scene kind, or a registry each kind adds itself to, breaks it.
    ("firmware.sensor.mock.scenes", "firmware.sensor.mock.hdr_scenes"),
    ("firmware.sensor.mock.scenes", "firmware.sensor.mock.motion"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def sources() -> dict[str, tuple[Path, ast.Module]]:
    return {module_name(p): (p, ast.parse(p.read_text(), str(p))) for p in sorted(FIRMWARE.rglob("*.py"))}


def imports(name: str, path: Path, tree: ast.Module, known) -> set[str]:
    """The firmware modules ``name`` imports anywhere in it (functions and TYPE_CHECKING blocks too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t.startswith("firmware") and t != name:
                out.add(t)
    return out


@functools.cache
def graph() -> dict[str, set[str]]:
    src = sources()
    edges = {name: imports(name, path, tree, src) for name, (path, tree) in src.items()}
    return {a: {b for b in bs if (a, b) not in ALLOWED} for a, bs in edges.items()}


def unit(module: str) -> str:
    """The package a module belongs to (``firmware.capture.job`` -> ``firmware.capture``), or itself."""
    return ".".join(module.split(".")[:2])


def rank(u: str) -> int:
    return 0 if u in GROUND else RANKS.get(u, 1)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def package_graph(edges):
    out = defaultdict(set)
    for a, bs in edges.items():
        out[unit(a)] |= {unit(b) for b in bs if unit(b) != unit(a)}
    return out


def test_no_file_imports_another_in_a_circle():
    assert cycles(graph()) == []


def test_no_package_imports_another_in_a_circle():
    assert cycles(package_graph(graph())) == []


def test_every_arrow_points_down():
    upward = sorted(f"{a} -> {b}" for a, bs in graph().items() for b in bs if rank(unit(b)) > rank(unit(a)))
    assert upward == []


def test_control_and_daemon_do_not_import_each_other():
    pkgs = package_graph(graph())
    assert "firmware.daemon" not in pkgs["firmware.control"]
    assert "firmware.control" in pkgs["firmware.daemon"] and "firmware.camera" in pkgs["firmware.control"]


def test_the_allowed_arrows_still_exist():
    """An allow-listed arrow that is gone must leave the list (so the list only shrinks)."""
    src = sources()
    for a, b in ALLOWED:
        assert a in src and b in imports(a, *src[a], src), f"{a} -> {b} is gone: remove it from ALLOWED"


# -- one road, one recipe ------------------------------------------------------------------------------------
def calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            yield node, (f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None)


def test_every_capture_takes_the_cameras_one_trigger():
    """The engine's triggers are called only by the camera's ``trigger`` (and its timelapse scheduler); the
    button, SIGUSR1 and the socket's capture and shutter (which the preview page's shutter calls) reach
    ``trigger``."""
    src = sources()
    callers = set()
    for name, (_, tree) in src.items():
        for func in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node, called in calls(func):
                if called in ("capture", "burst", "bracket", "submit") and isinstance(node.func, ast.Attribute) \
                        and "engine" in ast.unparse(node.func.value):
                    callers.add(f"{name}.{func.name}")
    assert callers == {"firmware.camera.camerad.trigger", "firmware.camera.camerad._timelapse_frame"}
    for name, function in (("firmware.gpio.controls", "_dispatch"), ("firmware.daemon.lifecycle", "run"),
                           ("firmware.control.methods_camera", "trigger")):
        tree = src[name][1]
        func = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
        assert any(called == "trigger" for _, called in calls(func)), f"{name}.{function} does not call trigger"
    methods = src["firmware.control.methods_camera"][1]
    for method in ("capture", "shutter"):
        func = next(n for n in ast.walk(methods) if isinstance(n, ast.FunctionDef) and n.name == method)
        assert any(called == "trigger" for _, called in calls(func))
    web = (FIRMWARE / "control" / "web.py").read_text()
    assert 'self._call("shutter"' in web  # the page's shutter button is the socket's shutter method


def test_every_frame_is_developed_by_the_one_recipe():
    """Pipelines are built in ``firmware.develop`` only (from the ISP's builders, and the merge's local tone
    stage, which only the recipe adds); the writer, the viewfinder, camtune develop and camtune merge call
    ``develop``."""
    builders = {f"{name}:{called}" for name, (_, tree) in sources().items()
                if not name.startswith(("firmware.develop", "firmware.isp")) and name != "firmware.merge.tone"
                for _, called in calls(tree)
                if called in ("build_pipeline", "build_preview_pipeline", "Pipeline", "with_local_tone")}
    assert builders == set()
    for path in ("capture/writer.py", "camera/viewfinder.py", "camtune/develop_cmd.py", "camtune/merge_cmd.py"):
        assert re.search(r"\bdevelop\(", (FIRMWARE / path).read_text()), path
    # One encoder, one per-frame-facts builder for live frames, one class per name.
    defined = defaultdict(list)
    for name, (_, tree) in sources().items():
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined[node.name].append(name)
    for what in ("encode_jpeg", "frame_facts", "FrameInfo", "NoiseProfile", "Developer", "develop"):
        assert len(defined.get(what, [])) <= 1, (what, defined[what])


# -- one definition of each vocabulary ----------------------------------------------------------------------
VOCABULARIES = (DriveMode, DenoiseMode, ModeAction, LedState, Setting, SensorBackend, GpioBackend)
# Words that happen to look like a vocabulary's but are another one: the demosaic methods "hq" and "fast".
OTHER_WORDS = {("firmware.isp.demosaic", DenoiseMode)}


def test_each_vocabulary_is_defined_once():
    """No literal list, tuple, set or ``Literal[...]`` of a vocabulary's words (all of them, or all but one: a
    few of them, as in "the settings that take numbers", are logic, not a definition), and no regex alternation
    of them (``single|burst``), outside the enum that defines it."""
    alternations = {vocab: re.compile("|".join(rf"\b{a}\|{b}\b" for a in vocab for b in vocab if a != b))
                    for vocab in VOCABULARIES}
    found = []
    for name, (_, tree) in sources().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)) or isinstance(node, ast.Subscript) and \
                    isinstance(node.value, ast.Name) and node.value.id == "Literal":
                elts = node.elts if not isinstance(node, ast.Subscript) else getattr(node.slice, "elts", [])
                words = [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                for vocab in VOCABULARIES:
                    values = {m.value for m in vocab}
                    if len(words) >= max(2, len(values) - 1) and len(words) == len(elts) and set(words) <= values \
                            and (name, vocab) not in OTHER_WORDS:
                        found.append(f"{name}: {words} ({vocab.__name__})")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "|" in node.value:
                found += [f"{name}: {node.value!r} ({vocab.__name__})" for vocab, regex in alternations.items()
                          if regex.search(node.value)]
    assert found == []


# -- the sensor says what it is ------------------------------------------------------------------------------
def test_no_caller_probes_the_sensor_for_its_type_or_attributes():
    found = []
    for name, (_, tree) in sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "__module__":
                found.append(f"{name}: {ast.unparse(node)}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
                what = ast.unparse(node.args[0])
                if node.func.id in ("getattr", "hasattr") and re.search(r"sensor|\bcam\b", what):
                    found.append(f"{name}: {ast.unparse(node)}")
                if node.func.id == "isinstance" and re.search(r"\w*Sensor\b", ast.unparse(node.args[-1])):
                    found.append(f"{name}: {ast.unparse(node)}")
    assert found == []
