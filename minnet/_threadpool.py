"""threadpoolctl knows minnet's thread pool: ``threadpool_limits(1)`` (sklearn's and joblib's
way to stop nested oversubscription) limits minnet's kernels too, and ``threadpool_info()``
lists them (user_api ``"minnet"``).

threadpoolctl finds libraries by the shared objects a process has loaded and drives each one
through its C functions, so the controller here calls ``mn_get_num_threads`` and
``mn_set_num_threads``, exported by ``minnet._kernels._runtime``. Importing threadpoolctl costs
about 20 ms, so minnet does not import it: when threadpoolctl is already imported the
controller is registered at once, otherwise an import hook registers it the moment
threadpoolctl is first imported.
"""

import importlib.abc
import importlib.util
import sys


def _register(threadpoolctl):
    if getattr(threadpoolctl, "_minnet_registered", False):
        return
    if not hasattr(threadpoolctl, "register"):
        return  # threadpoolctl < 3.5 has no register(): minnet then is not listed

    class MinnetController(threadpoolctl.LibController):
        user_api = "minnet"
        internal_api = "minnet"
        filename_prefixes = ("_runtime.",)
        check_symbols = ("mn_get_num_threads", "mn_set_num_threads")

        def get_num_threads(self):
            return self.dynlib.mn_get_num_threads()

        def set_num_threads(self, num_threads):
            self.dynlib.mn_set_num_threads(int(num_threads))

        def get_version(self):
            from minnet import __version__

            return __version__

    threadpoolctl.register(MinnetController)
    threadpoolctl._minnet_registered = True


class _Loader(importlib.abc.Loader):
    """Runs threadpoolctl's own loader, then registers minnet's controller."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            _register(module)
        except Exception:  # an unknown threadpoolctl must never break its import
            pass


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "threadpoolctl":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install():
    """Register with threadpoolctl now if it is imported, else when it is."""
    if "threadpoolctl" in sys.modules:
        try:
            _register(sys.modules["threadpoolctl"])
        except Exception:
            pass
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
