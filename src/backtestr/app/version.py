"""What version this is: semver, build number, commit, build date and release channel.

The version is never typed by hand. At build time hatch-vcs derives it from the newest git tag
(``v1.4.0`` → ``1.4.0``; commits after a tag give ``1.4.1.dev3+g1a2b3c4``); the release script may
add a ``_build_info.json`` next to this module with the CI build number and date. A checkout with
no tag at all reports ``0.0.0`` on the ``development`` channel.

Example
-------
>>> info = VersionInfo.from_package_version("1.4.0rc2", build_number=7)
>>> info.format_display()
'1.4.0-rc.2 (build 7) - Beta'
"""

from __future__ import annotations

import enum
import importlib.metadata
import json
import re
from dataclasses import dataclass
from pathlib import Path

from backtestr.errors import ConfigError, did_you_mean

__all__ = ["ReleaseChannel", "SemVer", "VersionInfo", "current_version"]

BUILD_INFO_FILE = Path(__file__).with_name("_build_info.json")

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
# PEP 440 as produced by hatch-vcs: release, optional a/b/rc, optional .devN, optional +local
_PEP440 = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:(a|b|rc)(\d+))?"
    r"(?:\.post(\d+))?"
    r"(?:\.dev(\d+))?"
    r"(?:\+([0-9A-Za-z.]+))?$"
)
_PRE_NAMES = {"a": "alpha", "b": "beta", "rc": "rc"}


class ReleaseChannel(enum.Enum):
    """Who a build is for; an update client only follows its own channel and the steadier ones."""

    STABLE = "stable"
    BETA = "beta"
    ALPHA = "alpha"
    DEVELOPMENT = "development"

    @property
    def display_name(self) -> str:
        """Capitalised name as shown to people (``Stable``)."""
        return self.value.capitalize()

    def accepts(self, other: ReleaseChannel) -> bool:
        """Whether a client on this channel may install a release published on ``other``."""
        order = [
            ReleaseChannel.STABLE,
            ReleaseChannel.BETA,
            ReleaseChannel.ALPHA,
            ReleaseChannel.DEVELOPMENT,
        ]
        return order.index(other) <= order.index(self)

    @classmethod
    def parse(cls, text: str) -> ReleaseChannel:
        """The channel named ``text`` (case-insensitive); :class:`ConfigError` otherwise."""
        for channel in cls:
            if channel.value == text.strip().lower():
                return channel
        names = [c.value for c in cls]
        raise ConfigError(
            f"Unknown release channel {text!r}; use one of {', '.join(names)}."
            + did_you_mean(text, names)
        )


@dataclass(frozen=True, order=False)
class SemVer:
    """A semantic version (semver.org 2.0) with its precedence rules.

    Build metadata (after ``+``) is kept but, as the spec says, ignored for precedence.
    """

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> SemVer:
        """Parse ``1.2.3``, ``1.2.3-rc.1`` or ``1.2.3-beta.2+exp.sha.5114f85``."""
        match = _SEMVER.match(text.strip().removeprefix("v"))
        if match is None:
            raise ConfigError(
                f"{text!r} is not a semantic version; expected e.g. 1.4.0 or 1.4.0-rc.1"
            )
        major, minor, patch, pre, build = match.groups()
        return cls(
            int(major),
            int(minor),
            int(patch),
            tuple(pre.split(".")) if pre else (),
            tuple(build.split(".")) if build else (),
        )

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def precedence_key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        """A sort key implementing semver precedence (a release sorts after its pre-releases)."""
        identifiers = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part) for part in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, identifiers)

    def __lt__(self, other: SemVer) -> bool:
        return self.precedence_key() < other.precedence_key()

    def __le__(self, other: SemVer) -> bool:
        return self.precedence_key() <= other.precedence_key()

    def __gt__(self, other: SemVer) -> bool:
        return self.precedence_key() > other.precedence_key()

    def __ge__(self, other: SemVer) -> bool:
        return self.precedence_key() >= other.precedence_key()

    def same_precedence(self, other: SemVer) -> bool:
        """Equal for ordering purposes (build metadata ignored)."""
        return self.precedence_key() == other.precedence_key()


@dataclass(frozen=True)
class VersionInfo:
    """Everything that identifies a build of BackTestr.

    Parameters
    ----------
    version
        The semantic version.
    build_number
        CI build counter (or commits since the tag for a development build); breaks ties between
        builds of the same version.
    commit
        Abbreviated git commit, ``"unknown"`` when not known.
    build_date
        ISO date (``2026-11-25``) of the build, ``"unknown"`` when not known.
    channel
        The release channel.
    """

    version: SemVer
    build_number: int
    commit: str
    build_date: str
    channel: ReleaseChannel

    def is_newer_than(self, other: VersionInfo) -> bool:
        """Semver precedence first (pre-releases before releases), then the build number."""
        if self.version.same_precedence(other.version):
            return self.build_number > other.build_number
        return self.version > other.version

    def format_display(self) -> str:
        """``1.4.0 (build 12) - Stable``: one line for people."""
        return f"{self.version} (build {self.build_number}) - {self.channel.display_name}"

    def to_json(self) -> dict[str, str | int]:
        """A JSON-ready mapping (``backtestr version --json``)."""
        return {
            "version": str(self.version),
            "build_number": self.build_number,
            "commit": self.commit,
            "build_date": self.build_date,
            "channel": self.channel.value,
            "display": self.format_display(),
        }

    @classmethod
    def from_package_version(
        cls,
        package_version: str,
        *,
        build_number: int | None = None,
        commit: str | None = None,
        build_date: str | None = None,
        channel: ReleaseChannel | None = None,
    ) -> VersionInfo:
        """Translate a PEP 440 version from hatch-vcs into semver and a channel.

        ``1.4.0`` is stable, ``1.4.0b1``/``1.4.0rc1`` beta, ``1.4.0a1`` alpha, and anything with
        ``.devN`` (commits after the last tag) or the untagged ``0.0.0`` is development. Explicit
        keyword arguments (from the build info file) win over what the version string implies.
        """
        match = _PEP440.match(package_version.strip())
        if match is None:
            raise ConfigError(f"Cannot read the package version {package_version!r}")
        major, minor, patch, pre_kind, pre_number, post, dev, local = match.groups()
        prerelease: list[str] = []
        implied_channel = ReleaseChannel.STABLE
        if pre_kind:
            prerelease += [_PRE_NAMES[pre_kind], pre_number]
            implied_channel = ReleaseChannel.ALPHA if pre_kind == "a" else ReleaseChannel.BETA
        if post:
            prerelease += ["post", post]
        if dev:
            prerelease += ["dev", dev]
            implied_channel = ReleaseChannel.DEVELOPMENT
        version = SemVer(int(major), int(minor or 0), int(patch or 0), tuple(prerelease))
        if (version.major, version.minor, version.patch) == (0, 0, 0) and not prerelease:
            implied_channel = ReleaseChannel.DEVELOPMENT  # hatch-vcs fallback: no tag yet
        implied_commit = "unknown"
        if local:
            for part in local.split("."):
                if part.startswith("g") and len(part) > 1:
                    implied_commit = part[1:]
        return cls(
            version=version,
            build_number=build_number if build_number is not None else int(dev or 0),
            commit=commit or implied_commit,
            build_date=build_date or "unknown",
            channel=channel or implied_channel,
        )


def current_version(build_info_file: Path = BUILD_INFO_FILE) -> VersionInfo:
    """The version of the running BackTestr, from the installed package metadata.

    A ``_build_info.json`` written by the release script (keys ``build_number``, ``commit``,
    ``build_date``, ``channel``) adds what the version string cannot carry.
    """
    try:
        package_version = importlib.metadata.version("backtestr")
    except importlib.metadata.PackageNotFoundError:
        package_version = "0.0.0"
    extra: dict[str, object] = {}
    if build_info_file.is_file():
        try:
            loaded = json.loads(build_info_file.read_text(encoding="utf-8"))
            extra = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            extra = {}  # a damaged build-info file must not stop the app from starting
    build_number = extra.get("build_number")
    channel = extra.get("channel")
    return VersionInfo.from_package_version(
        package_version,
        build_number=build_number if isinstance(build_number, int) else None,
        commit=str(extra["commit"]) if "commit" in extra else None,
        build_date=str(extra["build_date"]) if "build_date" in extra else None,
        channel=ReleaseChannel.parse(channel) if isinstance(channel, str) else None,
    )
