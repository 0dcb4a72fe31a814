"""Sphinx configuration for the sklt documentation."""

import os
import sys
import warnings

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import sklt  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# The gallery runs in this process. On small shared machines, BLAS and OpenMP
# thread pools oversubscribe the cores (idle OpenBLAS threads spin): one thread
# per pool made the per-class-accuracy example ~3x faster on 2 busy cores.
# SKLT_DOCS_THREADS=N raises the limit.
_thread_limits = threadpool_limits(limits=int(os.environ.get("SKLT_DOCS_THREADS", "1")))

project = "sklt"
author = "The sklt developers"
copyright = "2026, the sklt developers"
version = release = sklt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

# ``.. plot::`` in the user guide runs its code at build time and shows the figure.
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.figsize": (5.5, 3.8), "savefig.bbox": "tight"}

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**.codeobj.json"]
html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = "sklt"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

autosummary_generate = True
# Inherited members are chosen per class in _templates/autosummary/class.rst (a
# default "inherited-members" here would override that option).
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
# No network on the build machines: never fetch inventories.
intersphinx_disabled_reftypes = ["*"]
intersphinx_timeout = 1
if os.environ.get("SKLT_DOCS_OFFLINE", "1") == "1":
    intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sklt",),
    "reference_url": {"sklt": None},
}

warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")
