"""Version info: semver precedence, channels, and the version hatch-vcs derives from git tags."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backtestr.app.version import ReleaseChannel, SemVer, VersionInfo, current_version
from backtestr.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _info(version: str, build: int = 0) -> VersionInfo:
    return VersionInfo(SemVer.parse(version), build, "abc", "2026-01-01", ReleaseChannel.STABLE)


def test_semver_precedence_follows_the_spec_example():
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0",
    ]
    versions = [SemVer.parse(v) for v in ordered]
    backwards = versions[::-1]
    assert sorted(backwards, key=SemVer.precedence_key) == versions
    for older, newer in itertools.pairwise(versions):
        assert older < newer


def test_is_newer_than_breaks_ties_with_the_build_number():
    assert _info("1.2.0", build=8).is_newer_than(_info("1.2.0", build=7))
    assert not _info("1.2.0", build=7).is_newer_than(_info("1.2.0", build=7))
    assert _info("1.2.0", build=1).is_newer_than(_info("1.2.0-rc.1", build=99))
    assert not _info("1.2.0+meta", build=1).is_newer_than(_info("1.2.0", build=1))


def test_format_display_matches_the_seed():
    assert _info("1.4.0", build=12).format_display() == "1.4.0 (build 12) - Stable"


@pytest.mark.parametrize(
    ("pep440", "semver", "channel", "build", "commit"),
    [
        ("1.4.0", "1.4.0", ReleaseChannel.STABLE, 0, "unknown"),
        ("1.4.0rc2", "1.4.0-rc.2", ReleaseChannel.BETA, 0, "unknown"),
        ("1.4.0b1", "1.4.0-beta.1", ReleaseChannel.BETA, 0, "unknown"),
        ("1.4.0a3", "1.4.0-alpha.3", ReleaseChannel.ALPHA, 0, "unknown"),
        ("1.4.1.dev3+g1a2b3c4", "1.4.1-dev.3", ReleaseChannel.DEVELOPMENT, 3, "1a2b3c4"),
        ("0.0.0", "0.0.0", ReleaseChannel.DEVELOPMENT, 0, "unknown"),
        ("0.1.dev2+g81251b4.d20261125", "0.1.0-dev.2", ReleaseChannel.DEVELOPMENT, 2, "81251b4"),
    ],
)
def test_package_versions_from_hatch_vcs_translate_to_semver(
    pep440, semver, channel, build, commit
):
    info = VersionInfo.from_package_version(pep440)
    assert (str(info.version), info.channel, info.build_number, info.commit) == (
        semver,
        channel,
        build,
        commit,
    )


def test_build_info_file_overrides_what_the_version_implies(tmp_path):
    info_file = tmp_path / "_build_info.json"
    info_file.write_text(
        '{"build_number": 41, "commit": "cafe123", "build_date": "2026-11-25", "channel": "beta"}'
    )
    info = current_version(info_file)
    assert (info.build_number, info.commit, info.build_date, info.channel) == (
        41,
        "cafe123",
        "2026-11-25",
        ReleaseChannel.BETA,
    )


def test_damaged_build_info_file_is_ignored(tmp_path):
    info_file = tmp_path / "_build_info.json"
    info_file.write_text("{not json")
    assert current_version(info_file).build_date == "unknown"


def test_bad_versions_and_channels_are_config_errors():
    with pytest.raises(ConfigError, match="not a semantic version"):
        SemVer.parse("1.2")
    with pytest.raises(ConfigError, match="Did you mean 'stable'"):
        ReleaseChannel.parse("stabel")


def test_channels_accept_steadier_releases_only():
    assert ReleaseChannel.BETA.accepts(ReleaseChannel.STABLE)
    assert not ReleaseChannel.STABLE.accepts(ReleaseChannel.BETA)
    assert ReleaseChannel.DEVELOPMENT.accepts(ReleaseChannel.ALPHA)


_identifier = st.one_of(
    st.integers(0, 50).map(str), st.text("abcrz-", min_size=1, max_size=4).filter(str.isalpha)
)
_semver = st.builds(
    SemVer,
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
    st.lists(_identifier, max_size=3).map(tuple),
)


@given(_semver, _semver, _semver)
def test_precedence_is_a_total_order(a, b, c):
    assert (a < b) + (b < a) + a.same_precedence(b) == 1
    if a < b and b < c:
        assert a < c


@given(_semver)
def test_semver_text_round_trips(version):
    assert SemVer.parse(str(version)) == version


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _built_version(repo: Path) -> str:
    uv = REPO / ".tools" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("uv not installed in .tools/")
    out = repo / "out"
    built = subprocess.run(
        [str(uv), "build", "--wheel", "--offline", "-q", "-o", str(out)],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build offline (hatchling not in the uv cache): {built.stderr[-200:]}")
    (wheel,) = out.glob("*.whl")
    wheel.unlink()
    return wheel.name.split("-")[1]


def test_version_comes_from_the_git_tag_at_build_time(tmp_path):
    repo = tmp_path / "project"
    (repo / "src" / "demo").mkdir(parents=True)
    (repo / "src" / "demo" / "__init__.py").write_text("")
    # the same version configuration as BackTestr's own pyproject.toml
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "demo"\ndynamic = ["version"]\n'
        '[build-system]\nrequires = ["hatchling>=1.25", "hatch-vcs>=0.4"]\n'
        'build-backend = "hatchling.build"\n'
        '[tool.hatch.version]\nsource = "vcs"\nfallback-version = "0.0.0"\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/demo"]\n'
    )
    (repo / ".gitignore").write_text("out/\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "feat: first")
    _git(repo, "tag", "v1.2.0-rc.1")
    tagged = VersionInfo.from_package_version(_built_version(repo))
    assert (str(tagged.version), tagged.channel) == ("1.2.0-rc.1", ReleaseChannel.BETA)
    (repo / "src" / "demo" / "extra.py").write_text("")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "fix: second")
    after = VersionInfo.from_package_version(_built_version(repo))
    assert after.channel is ReleaseChannel.DEVELOPMENT
    assert after.build_number == 1
    assert _git(repo, "rev-parse", "HEAD").startswith(after.commit)
    assert after.version > tagged.version
