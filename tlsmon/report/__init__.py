"""``tlsmon report``: the analyses of *TLS in the wild* (NDSS 2016) over any tlsmon dataset.

DuckDB reads the Parquet files in place (:mod:`.dataset`), one SQL file per analysis computes its tables
(:mod:`.queries`, ``sql/``), :mod:`.sections` says what each analysis means and plots it (:mod:`.plots`),
:mod:`.render` writes ``report.html``, ``report.json`` and ``tables/*.csv``, and :mod:`.build` runs it all for
the command line (:mod:`.cli`). Published values of the paper live in :mod:`.paper`. See ``docs/report.md``.
"""
