"""Releases: one version in every place it appears, a changelog entry, a tag.

The version lives in the manifest (what HACS and Home Assistant show), in any version
constant of the card's JavaScript, and as a section of CHANGELOG.md; a release is the tag
`v<version>` on a clean, committed tree. Commands:

  check [--tag TAG]   the version is the same everywhere (and equals the tag, if given)
  prepare VERSION     set VERSION everywhere and turn "Unreleased" into its section
  notes VERSION       print VERSION's changelog section (the release workflow's notes)
  tag [--push]        tag HEAD after the checks; pushes the tag only with --push

Runs on Python 3.11 and later, so it also works without the project's environments.
"""

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
import json
from pathlib import Path
import re
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = Path("custom_components/dexcom_share/manifest.json")
CARD_GLOB = "custom_components/dexcom_share/card/*.js"
CHANGELOG = Path("CHANGELOG.md")
# Semantic Versioning 2.0.0, without build metadata (HACS compares the rest).
IDENTIFIER = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
SEMVER = re.compile(
    rf"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-({IDENTIFIER}(?:\.{IDENTIFIER})*))?"
)
# The card's version constant, if it has one: `const CARD_VERSION = "0.2.0";` (or VERSION).
CARD_VERSION = re.compile(r"""(\bconst\s+(?:CARD_)?VERSION\s*=\s*)(["'])([^"']*)\2""")
UNRELEASED = "## [Unreleased]"
LINK_DEFINITION = re.compile(r"^\[[^\]]+\]: ", re.M)
SECTION = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$", re.M)


class ReleaseError(Exception):
    """Something is not ready for a release; the message says what."""


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key by Semantic Versioning's precedence (a pre-release sorts first)."""
    match = SEMVER.fullmatch(version)
    if match is None:
        raise ReleaseError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch, pre = match.groups()
    identifiers = tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in (pre.split(".") if pre else ())
    )
    return int(major), int(minor), int(patch), 0 if pre else 1, identifiers


def manifest_version(root: Path) -> str:
    """The version in manifest.json."""
    return str(json.loads((root / MANIFEST).read_text())["version"])


def card_versions(root: Path) -> dict[Path, str]:
    """The card's version constants, by file (none while the card has none)."""
    found: dict[Path, str] = {}
    for path in sorted(root.glob(CARD_GLOB)):
        for match in CARD_VERSION.finditer(path.read_text()):
            found[path.relative_to(root)] = match.group(3)
    return found


def changelog_sections(text: str) -> list[tuple[str, str | None, str]]:
    """(version, date, body) of each `## [...]` section, in file order."""
    headings = list(SECTION.finditer(text))
    sections = []
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        body = text[heading.end() : end]
        if index + 1 == len(headings):  # the link definitions close the file
            body = LINK_DEFINITION.split(body, maxsplit=1)[0]
        sections.append((heading["version"], heading["date"], body.strip()))
    return sections


def release_notes(root: Path, version: str) -> str:
    """The changelog section of `version`."""
    for name, _, body in changelog_sections((root / CHANGELOG).read_text()):
        if name == version:
            return body
    raise ReleaseError(f"{CHANGELOG} has no section for {version}")


def check(root: Path, tag: str | None = None) -> str:
    """The version that is the same everywhere; a ReleaseError lists every mismatch."""
    version = manifest_version(root)
    problems = []
    try:
        semver_key(version)
    except ReleaseError as error:
        problems.append(f"{MANIFEST}: {error}")
    problems.extend(
        f"{path}: version {found!r}, but {MANIFEST} says {version!r}"
        for path, found in card_versions(root).items()
        if found != version
    )
    released = [
        (name, date) for name, date, _ in changelog_sections((root / CHANGELOG).read_text())
    ]
    if not released or released[0][0] != "Unreleased":
        problems.append(f"{CHANGELOG}: the first section must be {UNRELEASED}")
    newest = released[1] if len(released) > 1 else None
    if newest is None or newest[0] != version:
        problems.append(
            f"{CHANGELOG}: the newest release section is {newest and newest[0]!r}, "
            f"but {MANIFEST} says {version!r}"
        )
    elif newest[1] is None:
        problems.append(f"{CHANGELOG}: the section for {version} has no date (YYYY-MM-DD)")
    if tag is not None and tag != f"v{version}":
        problems.append(f"tag {tag!r}, but {MANIFEST} says {version!r} (expected v{version})")
    if problems:
        raise ReleaseError("\n".join(problems))
    return version


def prepare(root: Path, version: str, today: str) -> None:
    """Write `version` everywhere; the Unreleased notes become its changelog section."""
    manifest = json.loads((root / MANIFEST).read_text())
    current = str(manifest["version"])
    if semver_key(version) <= semver_key(current):
        raise ReleaseError(f"{version} is not newer than the current version {current}")
    changelog = (root / CHANGELOG).read_text()
    sections = changelog_sections(changelog)
    if not sections or sections[0][0] != "Unreleased" or not sections[0][2]:
        raise ReleaseError(f"{CHANGELOG}: nothing under {UNRELEASED} to release")
    changelog = changelog.replace(UNRELEASED, f"{UNRELEASED}\n\n## [{version}] - {today}", 1)
    repository = manifest["documentation"].rstrip("/")
    changelog = re.sub(
        r"^\[Unreleased\]: .*$",
        f"[Unreleased]: {repository}/compare/v{version}...HEAD\n"
        f"[{version}]: {repository}/compare/v{current}...v{version}",
        changelog,
        count=1,
        flags=re.M,
    )
    (root / CHANGELOG).write_text(changelog)
    manifest["version"] = version
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    for path in card_versions(root):
        source = (root / path).read_text()
        (root / path).write_text(
            CARD_VERSION.sub(lambda match: f"{match[1]}{match[2]}{version}{match[2]}", source)
        )
    check(root)


def git(root: Path, *args: str) -> str:
    """Run git in `root`; its output, or a ReleaseError with git's message."""
    result = subprocess.run(  # noqa: S603 - fixed git commands
        ["git", *args],  # noqa: S607 - git from PATH, as the maintainer runs it
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise ReleaseError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def tag(root: Path, push: bool, remote: str) -> str:
    """Tag HEAD as the manifest's version once everything agrees and is committed."""
    if (dirty := git(root, "status", "--porcelain")).strip():
        raise ReleaseError(f"the working tree is not clean; commit first:\n{dirty.rstrip()}")
    version = check(root)
    name = f"v{version}"
    if git(root, "tag", "--list", name).strip():
        raise ReleaseError(f"tag {name} exists already; prepare a new version first")
    notes = release_notes(root, version)
    # Verbatim: the notes' "### Added" headings are no comments to strip.
    git(
        root,
        "tag",
        "--annotate",
        "--cleanup=verbatim",
        name,
        "--message",
        f"Dexcom Share {version}\n\n{notes}\n",
    )
    if push:
        git(root, "push", remote, f"refs/tags/{name}")
    return name


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check_command = commands.add_parser("check", help="the version is the same everywhere")
    check_command.add_argument("--tag", help="also require this tag to be v<version>")
    commands.add_parser("prepare", help="set a new version everywhere").add_argument("version")
    commands.add_parser("notes", help="print a version's changelog section").add_argument("version")
    tag_command = commands.add_parser("tag", help="tag HEAD (never pushes unless --push)")
    tag_command.add_argument("--push", action="store_true", help="push the tag afterwards")
    tag_command.add_argument("--remote", default="origin")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            version = check(ROOT, args.tag)
            places = [str(MANIFEST), str(CHANGELOG), *map(str, card_versions(ROOT))]
            print(f"release: {version} in {', '.join(places)}")
        elif args.command == "prepare":
            today = datetime.now(UTC).date().isoformat()
            prepare(ROOT, args.version, today)
            print(f"release: {args.version} set; review, commit, then run scripts/release tag")
        elif args.command == "notes":
            print(release_notes(ROOT, args.version))
        else:
            name = tag(ROOT, args.push, args.remote)
            print(
                f"release: tagged {name}"
                + (" and pushed it" if args.push else f"; push it with: git push origin {name}")
            )
    except ReleaseError as error:
        sys.exit(f"release: {error}")


if __name__ == "__main__":
    main()
