"""Hold a fake to a real class's API: every attribute it is asked for must exist on the real class, every call
must bind to the real method's signature (names, keywords, defaults), or the test fails with a TypeError or
AttributeError - the same error the real library would raise on the device.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap

_MISSING = object()


@functools.lru_cache(maxsize=None)
def instance_attributes(cls: type) -> frozenset[str]:
    """Names the class's methods assign on ``self`` (picamera2 sets ``pre_callback`` in ``_reset_flags``)."""
    names = set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return frozenset(names)


def _signature_of(real_cls: type, name: str):
    static = inspect.getattr_static(real_cls, name, _MISSING)
    if static is _MISSING:
        return None, False
    if isinstance(static, property):
        return None, False
    if isinstance(static, staticmethod):
        return inspect.signature(static.__func__), True
    if isinstance(static, classmethod):
        return inspect.signature(static.__func__), False
    if callable(static):
        return inspect.signature(static), False
    return None, False


class Checked:
    """A fake instance seen through the real class's API; ``calls`` records (method, args, kwargs)."""

    def __init__(self, fake, real_cls: type, calls: list | None = None):
        object.__setattr__(self, "_fake", fake)
        object.__setattr__(self, "_real", real_cls)
        object.__setattr__(self, "calls", calls if calls is not None else [])

    def __getattr__(self, name):
        real = object.__getattribute__(self, "_real")
        if inspect.getattr_static(real, name, _MISSING) is _MISSING and name not in instance_attributes(real):
            raise AttributeError(f"{real.__module__}.{real.__name__} has no attribute {name!r}")
        value = getattr(object.__getattribute__(self, "_fake"), name)
        sig, static = _signature_of(real, name)
        if sig is None or not callable(value):
            return value
        calls = object.__getattribute__(self, "calls")

        def call(*args, **kwargs):
            sig.bind(*args, **kwargs) if static else sig.bind(None, *args, **kwargs)
            calls.append((name, args, kwargs))
            return value(*args, **kwargs)

        return call

    def __setattr__(self, name, value):
        real = object.__getattribute__(self, "_real")
        static = inspect.getattr_static(real, name, _MISSING)
        settable = (isinstance(static, property) and static.fset is not None) or name in instance_attributes(real)
        if not settable:
            raise AttributeError(f"{real.__module__}.{real.__name__}.{name} cannot be set")
        setattr(object.__getattribute__(self, "_fake"), name, value)


class CheckedClass:
    """The fake class standing where the real one would: construction and static methods checked too."""

    def __init__(self, fake_cls: type, real_cls: type):
        self._fake_cls = fake_cls
        self._real_cls = real_cls
        self.calls: list = []
        self.instances: list = []
        self.fakes: list = []  # the fakes behind the instances, for tests to steer and inspect

    def __call__(self, *args, **kwargs):
        inspect.signature(self._real_cls.__init__).bind(None, *args, **kwargs)
        self.calls.append(("__init__", args, kwargs))
        fake = self._fake_cls(*args, **kwargs)
        inst = Checked(fake, self._real_cls, self.calls)
        self.instances.append(inst)
        self.fakes.append(fake)
        return inst

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if inspect.getattr_static(self._real_cls, name, _MISSING) is _MISSING:
            raise AttributeError(f"{self._real_cls.__name__} has no attribute {name!r}")
        value = getattr(self._fake_cls, name)
        sig, static = _signature_of(self._real_cls, name)
        if sig is None or not static:
            return value

        def call(*args, **kwargs):
            sig.bind(*args, **kwargs)
            self.calls.append((name, args, kwargs))
            return value(*args, **kwargs)

        return call
