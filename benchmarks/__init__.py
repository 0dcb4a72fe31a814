"""sklt's benchmark suite: ``python -m benchmarks --suite quick|full|smoke --out DIR``.

Each suite module (``suite_*.py``) exposes ``run(ctx)`` returning a
:class:`pandas.DataFrame` of measured rows; :mod:`benchmarks.report` turns the
CSV files into ``report.md`` beside the papers' own numbers. A method whose code
has not landed in sklt yet is detected at run time and reported as
``not implemented`` (never silently missing).
"""
