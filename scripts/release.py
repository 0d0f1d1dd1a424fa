"""Release tooling for maintainers: keys, changelog, build, sign, publish (docs/release.md).

Run with the project environment: ``.venv/bin/python scripts/release.py COMMAND …``.
Signing keys never live in the repository; pass their folder with ``--keys`` and the passphrase
(if they are encrypted) in ``BACKTESTR_KEY_PASSPHRASE``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from backtestr.app.signing import sign_artifact, verify_artifact
from backtestr.app.update_repository import RepositoryKeys, UpdateRepository
from backtestr.app.updater import EMBEDDED_ROOT
from backtestr.app.version import BUILD_INFO_FILE, ReleaseChannel

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "dist"
BIN = Path(sys.executable).parent


def _passphrase() -> bytes | None:
    value = os.environ.get("BACKTESTR_KEY_PASSPHRASE", "")
    return value.encode() if value else None


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def cmd_keys(args: argparse.Namespace) -> None:
    """Generate the four role keys into a folder outside the repository."""
    out = Path(args.out).expanduser()
    if out.resolve().is_relative_to(REPO):
        sys.exit("refusing to write private keys inside the repository")
    RepositoryKeys.generate().save(out, _passphrase())
    print(f"keys written to {out} (root.pem belongs offline)")


def cmd_init_repo(args: argparse.Namespace) -> None:
    """Create an empty update repository; --embed makes its root the app's trust anchor."""
    keys = RepositoryKeys.load(Path(args.keys).expanduser(), _passphrase())
    root = UpdateRepository(Path(args.repo), keys).create()
    if args.embed:
        EMBEDDED_ROOT.write_bytes(root)
        print(f"embedded {EMBEDDED_ROOT.relative_to(REPO)}")
    print(f"update repository created in {args.repo}")


def cmd_changelog(args: argparse.Namespace) -> None:
    """Print the next release's entry, or (--write) regenerate CHANGELOG.md.

    With --tag vX.Y.Z the unreleased commits are filed under that version; without it the entry
    printed carries the version git-cliff computes from the commit types (feat → minor …) and
    the file keeps them under "Unreleased".
    """
    cliff = [str(BIN / "git-cliff")]
    if args.write:
        tag = ["--tag", args.tag] if args.tag else []
        subprocess.run([*cliff, *tag, "--output", "CHANGELOG.md"], cwd=REPO, check=True)
        print("CHANGELOG.md updated")
    else:
        tag = ["--tag", args.tag] if args.tag else ["--bump"]
        subprocess.run([*cliff, *tag, "--unreleased", "--strip", "header"], cwd=REPO, check=True)


def _write_build_info(channel: str | None) -> None:
    info: dict[str, object] = {
        "build_number": int(os.environ.get("BUILD_NUMBER", _git("rev-list", "--count", "HEAD"))),
        "commit": _git("rev-parse", "--short=9", "HEAD"),
        "build_date": datetime.now(UTC).date().isoformat(),
    }
    if channel:  # otherwise the channel follows from the version (rc → beta, dev → development)
        info["channel"] = ReleaseChannel.parse(channel).value
    BUILD_INFO_FILE.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def cmd_build(args: argparse.Namespace) -> None:
    """Wheel + sdist (uv build), optionally the PyInstaller bundle; sign with --keys."""
    DIST.mkdir(exist_ok=True)
    _write_build_info(args.channel)
    try:
        subprocess.run(
            [str(REPO / ".tools" / "bin" / "uv"), "build", "--out-dir", str(DIST)],
            cwd=REPO,
            check=True,
        )
        if args.bundle:
            _build_bundle(DIST / "bundle", REPO / "build" / "pyinstaller")
    finally:
        BUILD_INFO_FILE.unlink(missing_ok=True)
    if args.keys:
        keys = RepositoryKeys.load(Path(args.keys).expanduser(), _passphrase())
        for artifact in sorted(DIST.glob("*.whl")) + sorted(DIST.glob("*.tar.gz")):
            print(f"signed {sign_artifact(artifact, keys.targets).name}")


def cmd_bundle(args: argparse.Namespace) -> None:
    """Only the PyInstaller bundle, into --out (used by the release-marked test)."""
    out = Path(args.out)
    _build_bundle(out, out.parent / "pyinstaller-work")


def _build_bundle(dist: Path, work: Path) -> None:
    # PyInstaller runs here, at release time only; it is never imported by the app. The project
    # is reinstalled first so that its package metadata carries the version of this commit.
    subprocess.run(
        [
            str(REPO / ".tools" / "bin" / "uv"),
            "sync",
            "--frozen",
            "--reinstall-package",
            "backtestr",
        ],
        cwd=REPO,
        check=True,
    )
    subprocess.run(
        [
            str(BIN / "pyinstaller"),
            "--noconfirm",
            "--clean",
            "--onedir",
            "--name",
            "backtestr",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            "--specpath",
            str(work),
            "--collect-submodules",
            "backtestr",
            "--collect-data",
            "backtestr",
            "--copy-metadata",
            "backtestr",
            str(REPO / "scripts" / "pyinstaller_entry.py"),
        ],
        cwd=REPO,
        check=True,
    )
    bundle = dist / "backtestr"
    subprocess.run([str(bundle / "backtestr"), "self-test"], check=True)
    print(f"bundle in {bundle}")


def cmd_publish(args: argparse.Namespace) -> None:
    """Add a bundle to the update repository and re-sign its metadata."""
    keys = RepositoryKeys.load(Path(args.keys).expanduser(), _passphrase())
    notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else ""
    published = UpdateRepository(Path(args.repo), keys).publish(
        args.version,
        Path(args.bundle),
        channel=ReleaseChannel.parse(args.channel),
        required=args.required,
        notes=notes,
    )
    print(f"published {published.version}: archive {published.archive_bytes} bytes")
    for base, size in published.patches.items():
        print(f"  delta from {base}: {size} bytes")


def cmd_refresh(args: argparse.Namespace) -> None:
    """Re-sign what is about to expire (schedule daily so clients never see a stale repository)."""
    keys = RepositoryKeys.load(Path(args.keys).expanduser(), _passphrase())
    renewed = UpdateRepository(Path(args.repo), keys).refresh()
    print(f"re-signed: {', '.join(renewed)}")


def cmd_verify(args: argparse.Namespace) -> None:
    """Verify an artifact's detached signature against the embedded root."""
    root = Path(args.root).read_bytes() if args.root else EMBEDDED_ROOT.read_bytes()
    verify_artifact(Path(args.artifact), root)
    print(f"{args.artifact}: signature OK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("keys", help=cmd_keys.__doc__)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_keys)
    p = sub.add_parser("init-repo", help=cmd_init_repo.__doc__)
    p.add_argument("--keys", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--embed", action="store_true")
    p.set_defaults(run=cmd_init_repo)
    p = sub.add_parser("changelog", help=cmd_changelog.__doc__)
    p.add_argument("--write", action="store_true")
    p.add_argument("--tag", help="the tag the next release will get, e.g. v0.2.0")
    p.set_defaults(run=cmd_changelog)
    p = sub.add_parser("build", help=cmd_build.__doc__)
    p.add_argument("--bundle", action="store_true")
    p.add_argument("--keys")
    p.add_argument("--channel", help="stable/beta/alpha/development (default: from the version)")
    p.set_defaults(run=cmd_build)
    p = sub.add_parser("bundle", help=cmd_bundle.__doc__)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_bundle)
    p = sub.add_parser("publish", help=cmd_publish.__doc__)
    for name in ("--repo", "--keys", "--bundle", "--version"):
        p.add_argument(name, required=True)
    p.add_argument("--channel", default="stable")
    p.add_argument("--required", action="store_true")
    p.add_argument("--notes")
    p.set_defaults(run=cmd_publish)
    p = sub.add_parser("refresh", help=cmd_refresh.__doc__)
    p.add_argument("--repo", required=True)
    p.add_argument("--keys", required=True)
    p.set_defaults(run=cmd_refresh)
    p = sub.add_parser("verify", help=cmd_verify.__doc__)
    p.add_argument("artifact")
    p.add_argument("--root")
    p.set_defaults(run=cmd_verify)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
