"""Delta vs full download size for a pair of real application bundles.

Usage: ``./dev bench update_delta OLD_BUNDLE_DIR NEW_BUNDLE_DIR`` (e.g. two PyInstaller builds
from ``scripts/release.py bundle --out …`` at consecutive commits). Prints the sizes the update
client would download — full gzip archive versus bsdiff4 patch — their ratio, and how long
applying the patch takes relative to gunzipping the full archive (both measured in this run;
no absolute timings are asserted anywhere).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from backtestr.app.archive import apply_delta, gunzip, gzip_bytes, make_delta, make_tar, sha256_hex


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old_tar, new_tar = make_tar(Path(sys.argv[1])), make_tar(Path(sys.argv[2]))
    full = gzip_bytes(new_tar)
    start = time.perf_counter()
    patch = make_delta(old_tar, new_tar)
    make_s = time.perf_counter() - start
    start = time.perf_counter()
    patched = apply_delta(old_tar, patch)
    apply_s = time.perf_counter() - start
    start = time.perf_counter()
    gunzip(full, max_bytes=len(new_tar))
    gunzip_s = time.perf_counter() - start
    if sha256_hex(patched) != sha256_hex(new_tar):
        sys.exit("patched result differs from the new tar")
    mb = 1e6
    saved = 1 - len(patch) / len(full)
    print(f"old bundle tar       {len(old_tar) / mb:9.2f} MB")
    print(f"new bundle tar       {len(new_tar) / mb:9.2f} MB")
    print(f"full download (gz)   {len(full) / mb:9.2f} MB")
    print(f"delta (bsdiff4)      {len(patch) / mb:9.3f} MB")
    print(f"delta / full         {len(patch) / len(full):9.4f}  ({saved:.1%} saved)")
    ratio_apply, ratio_make = apply_s / gunzip_s, make_s / gunzip_s
    print(f"apply / gunzip time  {ratio_apply:9.2f}x  (making the patch: {ratio_make:.0f}x)")


if __name__ == "__main__":
    main()
