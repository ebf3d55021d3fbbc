"""The first import of every API function's ``app.py``: no cyclic GC while the function loads.

Loading a function creates some 80,000 objects (Powertools, pydantic, our modules) that live as long as
the execution environment. While they load, the collector traverses the growing heap over and over and
frees next to nothing: about a tenth of a cold start's CPU (docs/benchmarks.md). Importing this module
pauses it; ``loaded()``, called at the end of ``app.py``, moves everything loaded so far out of every
later collection (``gc.freeze``) and turns collection back on, so warm invocations do not traverse
those objects either. The price: a reference cycle among them that becomes garbage later is never
collected, which module-level objects do not do.
"""

import gc

_collecting = gc.isenabled()
gc.disable()


def loaded() -> None:
    """Call once the function's modules are imported and its resolver built."""
    gc.freeze()
    if _collecting:
        gc.enable()
