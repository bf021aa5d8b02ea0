"""The floor of the pit benchmark (tools/bench): pandas merge_asof on the
data tools/bench wrote as raw little-endian arrays.

Usage: pit_pandas.py DIR ROWS FEATURE_ROWS FEATURES

Loads and sorts outside the timed region (both by "ts", stable: feature rows
with equal times keep their generation order, so the last one wins as the
greater Seq does in ours), times merge_asof(rows, feats, on="ts",
by="entity", direction="backward") alone, then writes the joined values in
request order to DIR/pandas.f64 for the comparison and prints JSON.
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd


def main():
    d, n_rows, n_feats, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    t = time.perf_counter()
    ent = np.fromfile(f"{d}/rows_entity.i64", dtype="<i8")
    ts = np.fromfile(f"{d}/rows_ts.i64", dtype="<i8")
    fent = np.fromfile(f"{d}/feats_entity.i64", dtype="<i8")
    fts = np.fromfile(f"{d}/feats_ts.i64", dtype="<i8")
    fv = np.fromfile(f"{d}/feats_vals.f64", dtype="<f8").reshape(n_feats, k)
    assert len(ent) == n_rows and len(fent) == n_feats
    cols = [f"f{j}" for j in range(k)]
    rows = pd.DataFrame({"idx": np.arange(n_rows, dtype=np.int64), "entity": ent, "ts": ts.view("datetime64[ns]")})
    feats = pd.DataFrame(fv, columns=cols)
    feats.insert(0, "entity", fent)
    feats.insert(1, "ts", fts.view("datetime64[ns]"))
    build = time.perf_counter() - t

    t = time.perf_counter()
    rows = rows.sort_values("ts", kind="stable", ignore_index=True)
    feats = feats.sort_values("ts", kind="stable", ignore_index=True)
    sort = time.perf_counter() - t

    t = time.perf_counter()
    res = pd.merge_asof(rows, feats, on="ts", by="entity", direction="backward")
    join = time.perf_counter() - t

    out = np.empty((n_rows, k), dtype="<f8")
    out[res["idx"].to_numpy()] = res[cols].to_numpy(dtype="<f8")
    out.tofile(f"{d}/pandas.f64")
    print(json.dumps({
        "BuildSeconds": build, "SortSeconds": sort, "JoinSeconds": join,
        "PeakRSS": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "Pandas": pd.__version__, "Numpy": np.__version__,
        "Python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
