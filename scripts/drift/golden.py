#!/usr/bin/python3
"""Write drift/testdata/golden.json: scipy's values for the drift tests.

Run from the repository root with Debian's python3-scipy and numpy:

    /usr/bin/python3 scripts/drift/golden.py

The samples are drawn with fixed seeds, so a rerun writes the same file
(given the same numpy). drift/golden_test.go reads the file and needs the
Go implementation to agree to 1e-9. The contingency tables, binning and
empty-bin handling follow Evidently's stattests (chisquare_stattest.py,
z_stattest.py, jensenshannon.py, psi.py, utils.get_binned_data); PSI's
numeric bins are the reference's 10 quantile bins, as switchyard documents.
"""

import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance


def keys_and_counts(ref, cur):
    keys = sorted(set(ref) | set(cur))
    r = np.array([sum(1 for v in ref if v == k) for k in keys], dtype=float)
    c = np.array([sum(1 for v in cur if v == k) for k in keys], dtype=float)
    return keys, r, c


def fill_zeroes(p):
    p = p.copy()
    nz = p[p != 0]
    least = nz.min()
    p[p == 0] = least / 10**6 if least <= 0.0001 else 0.0001
    return p


def chisquare(ref, cur):
    _, r, c = keys_and_counts(ref, cur)
    f_exp = r * (len(cur) / len(ref))
    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.chisquare(c, f_exp)
    return float(res[0]), float(res[1])


def ztest(ref, cur):
    keys = sorted(set(ref) | set(cur))
    if len(set(ref)) == 1 and len(set(cur)) == 1 and ref[0] == cur[0]:
        return 0.0, 1.0
    r = np.array([0 if v == keys[0] else 1 for v in ref])
    c = np.array([0 if v == keys[0] else 1 for v in cur])
    n1, n2 = len(r), len(c)
    p1, p2 = r.sum() / n1, c.sum() / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - stats.norm.cdf(abs(z))))


def binned(ref, cur, edges_fn):
    """Evidently's get_binned_data, with the numeric edges from edges_fn."""
    ref, cur = np.asarray(ref), np.asarray(cur)
    if ref.dtype.kind == "f" and len(np.unique(ref)) > 20:
        edges = edges_fn(ref, cur)
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
        return r, c
    _, r, c = keys_and_counts(list(ref), list(cur))
    return r / len(ref), c / len(cur)


def sturges(ref, cur):
    return np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")


def quantile_edges(ref, cur):
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, 11)[1:-1]))
    return np.concatenate([[-np.inf], inner, [np.inf]])


def psi(ref, cur):
    r, c = binned(ref, cur, quantile_edges)
    r, c = fill_zeroes(r), fill_zeroes(c)
    return float(np.sum((r - c) * np.log(r / c)))


def numeric_case(name, ref, cur):
    ref = [float(x) for x in ref]
    cur = [float(x) for x in cur]
    ks = stats.ks_2samp(ref, cur)
    wd = stats.wasserstein_distance(ref, cur)
    r, c = binned(np.array(ref), np.array(cur), sturges)
    case = {
        "name": name,
        "kind": "numeric",
        "ref": ref,
        "cur": cur,
        "ks_statistic": float(ks.statistic),
        "ks_p_value": float(ks.pvalue),
        "wasserstein": float(wd),
        "wasserstein_norm": float(wd / max(float(np.std(ref)), 0.001)),
        "jensenshannon": float(distance.jensenshannon(r, c)),
        "jensenshannon_base2": float(distance.jensenshannon(r, c, base=2)),
        "psi": psi(np.array(ref), np.array(cur)),
    }
    values = len(set(ref) | set(cur))
    if values <= 5:
        # Evidently's default for a numeric column with few values.
        chi, chi_p = chisquare(ref, cur)
        case["chisquare"], case["chisquare_p_value"] = chi, chi_p
    if values == 2:
        case["z"], case["z_p_value"] = ztest(ref, cur)
    return case


def categorical_case(name, ref, cur):
    chi, chi_p = chisquare(ref, cur)
    z, z_p = ztest(ref, cur) if len(set(ref) | set(cur)) == 2 else (None, None)
    _, r, c = keys_and_counts(ref, cur)
    r, c = r / len(ref), c / len(cur)
    case = {
        "name": name,
        "kind": "categorical",
        "ref_categories": ref,
        "cur_categories": cur,
        "chisquare": chi if math.isfinite(chi) else "inf",
        "chisquare_p_value": chi_p,
        "jensenshannon": float(distance.jensenshannon(r, c)),
        "jensenshannon_base2": float(distance.jensenshannon(r, c, base=2)),
        "psi": psi(np.array(ref, dtype=object), np.array(cur, dtype=object)),
    }
    if z is not None:
        case["z"] = z
        case["z_p_value"] = z_p
    return case


def main():
    rng = np.random.default_rng(20261206)
    norm = lambda loc, n, dec=6: np.round(rng.normal(loc, 1.0, n), dec)
    cases = [
        numeric_case("small equal sizes", norm(0, 40), norm(0.3, 40)),
        numeric_case("small unequal sizes", norm(0, 80), norm(0.2, 130)),
        numeric_case("ties", np.round(rng.normal(0, 3, 300)), np.round(rng.normal(0.5, 3, 200))),
        numeric_case("shifted", norm(0, 200), norm(1.5, 300)),
        numeric_case("same distribution", norm(0, 500), norm(0, 700)),
        numeric_case("large", norm(0, 1000, 4), norm(0.05, 3000, 4)),
        numeric_case("few values", rng.choice([0, 1, 2, 3], 500, p=[0.4, 0.3, 0.2, 0.1]),
                     rng.choice([0, 1, 2, 3], 400, p=[0.3, 0.3, 0.2, 0.2])),
        numeric_case("two numbers", rng.choice([0.0, 2.5], 600, p=[0.8, 0.2]), rng.choice([0.0, 2.5], 300, p=[0.7, 0.3])),
        numeric_case("unequal sizes with a common divisor", norm(0, 600), norm(0.1, 900)),
        numeric_case("exponential", np.round(rng.exponential(2.0, 400), 5), np.round(rng.exponential(2.5, 600), 5)),
    ]
    colours = ["red", "green", "blue", "amber"]
    cases += [
        categorical_case(
            "frequencies",
            list(rng.choice(colours, 900, p=[0.4, 0.3, 0.2, 0.1])),
            list(rng.choice(colours, 700, p=[0.35, 0.3, 0.2, 0.15])),
        ),
        categorical_case(
            "missing in current",
            list(rng.choice(colours, 500, p=[0.4, 0.3, 0.2, 0.1])),
            list(rng.choice(colours[:3], 400, p=[0.5, 0.3, 0.2])),
        ),
        categorical_case(
            "new in current",
            list(rng.choice(colours[:3], 500, p=[0.5, 0.3, 0.2])),
            list(rng.choice(colours, 400, p=[0.4, 0.3, 0.2, 0.1])),
        ),
        categorical_case(
            "two values",
            list(rng.choice(["false", "true"], 800, p=[0.7, 0.3])),
            list(rng.choice(["false", "true"], 600, p=[0.6, 0.4])),
        ),
        categorical_case(
            "two values, one missing in current",
            list(rng.choice(["no", "yes"], 300, p=[0.9, 0.1])),
            ["no"] * 50,
        ),
    ]
    for c in cases:
        for k in ("ref_categories", "cur_categories"):
            if k in c:
                c[k] = [str(v) for v in c[k]]
    out = {
        "generator": "scripts/drift/golden.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    path = os.path.join("drift", "testdata", "golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
