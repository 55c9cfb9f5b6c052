"""Writes tu.xpt and tr.xpt (SAS transport, version 5) from the RECIST CSV fixtures.

Run from this directory: python3 make.py  (needs pandas and pyreadstat; see PROVENANCE.md).
Numeric SDTM variables are written as SAS numbers, every other column as text.
"""
import pandas as pd
import pyreadstat

NUMERIC = {"VISITNUM", "TUSEQ", "TRSEQ", "TRSTRESN"}

for src, dst, name in [
    ("../recist/tu_onco_recist.csv", "tu.xpt", "TU"),
    ("../recist/tr_onco_recist.csv", "tr.xpt", "TR"),
]:
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    for c in df.columns:
        if c in NUMERIC:
            df[c] = pd.to_numeric(df[c].replace("", None), errors="raise")
    pyreadstat.write_xport(df, dst, file_format_version=5, table_name=name)
    back, _ = pyreadstat.read_xport(dst)
    assert len(back) == len(df), (dst, len(back), len(df))
    print(dst, len(df), "rows", list(df.dtypes.astype(str)))
