"""The repository as HACS users and maintainers meet it: workflows, metadata, releases."""

from datetime import UTC, datetime
import importlib
import importlib.util
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
from types import ModuleType
from typing import Any

from awesomeversion import AwesomeVersion
from hypothesis import given, strategies as st
import pytest
import yaml

ROOT = Path(__file__).parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
MANIFEST = Path("custom_components/dexcom_share/manifest.json")
CARD = Path("custom_components/dexcom_share/card/dexcom-share-card.js")
README = (ROOT / "README.md").read_text()
# The pages a user or contributor reads: the README, CONTRIBUTING.md and docs/.
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
GIT = shutil.which("git") or "git"
# A git that reads no user or system configuration (signing, hooks, default branch).
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.com",
    "GIT_COMMITTER_NAME": "Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.com",
}


def load_release() -> ModuleType:
    """scripts/release.py as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("release", ROOT / "scripts" / "release.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = load_release()


def workflow(name: str) -> dict[str, Any]:
    """A workflow file, with YAML 1.1's `on: true` read back as `on`."""
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    loaded["on"] = loaded.pop(True)
    return dict(loaded)


def actions(job: dict[str, Any]) -> list[str]:
    """The actions a job uses, without their versions."""
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def commands(job: dict[str, Any]) -> list[str]:
    """The shell commands a job runs, in order."""
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def installed_home_assistant(env: str) -> str:
    """The Home Assistant version installed in one of the project's environments."""
    found = list((ROOT / env).glob("lib/python*/site-packages/homeassistant-*.dist-info"))
    assert len(found) == 1, f"{env} has no single Home Assistant; run scripts/setup"
    return found[0].name.removeprefix("homeassistant-").removesuffix(".dist-info")


def test_validation_runs_hassfest_and_hacs_without_ignores() -> None:
    """HACS's default store accepts a repository only when both pass without ignores."""
    validate = workflow("validate.yml")
    assert {"push", "pull_request", "schedule"} <= set(validate["on"])
    jobs = validate["jobs"]
    assert actions(jobs["hassfest"]) == ["actions/checkout", "home-assistant/actions/hassfest"]
    assert actions(jobs["hacs"]) == ["actions/checkout", "hacs/action"]
    (hacs,) = [step for step in jobs["hacs"]["steps"] if step.get("uses", "").startswith("hacs/")]
    assert hacs["with"] == {"category": "integration"}


def test_tests_workflow_runs_the_readme_commands() -> None:
    """On every push and pull request: setup, then the suite; setup, then the smoke check."""
    tests = workflow("tests.yml")
    assert {"push", "pull_request"} <= set(tests["on"])
    jobs = tests["jobs"]
    assert commands(jobs["tests"]) == ["scripts/setup", "scripts/test", "scripts/test_floor"]
    assert commands(jobs["smoke-latest"]) == ["scripts/setup", "scripts/smoke_latest"]
    for job in jobs.values():
        assert actions(job) == ["actions/checkout", "actions/setup-python"]
        (python,) = [step for step in job["steps"] if "setup-python" in step.get("uses", "")]
        assert python["with"]["python-version"] == "3.14"


def test_release_workflow_checks_the_tag_before_publishing() -> None:
    """A tag that disagrees with the manifest or changelog never becomes a release."""
    published = workflow("release.yml")
    assert published["on"] == {"push": {"tags": ["v*"]}}
    check, publish = commands(published["jobs"]["release"])
    assert check == 'scripts/release check --tag "$GITHUB_REF_NAME"'
    assert "scripts/release notes" in publish
    assert "gh release create" in publish


def test_actions_are_pinned_to_commits() -> None:
    """Every action is pinned to a commit, so a moved tag cannot change what runs."""
    pins = [
        step["uses"]
        for path in WORKFLOWS.glob("*.yml")
        for job in workflow(path.name)["jobs"].values()
        for step in job["steps"]
        if "uses" in step
    ]
    assert pins
    for pin in pins:
        assert re.fullmatch(r"[\w-]+/[\w/-]+@[0-9a-f]{40}", pin), pin


def test_readme_shows_a_badge_per_workflow() -> None:
    """Each workflow's status is at the top of the README."""
    badges = README.split("\n## ", 1)[0]
    for path in sorted(WORKFLOWS.glob("*.yml")):
        assert f"actions/workflows/{path.name}/badge.svg" in badges, path.name


def test_ci_runs_the_readme_commands_in_order() -> None:
    """CI runs exactly what a newcomer is told to run, the smoke check before the e2e check."""
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "scripts/" in line]
    assert ci == [
        "scripts/setup",
        "scripts/test",
        "scripts/test_floor",
        "scripts/smoke_latest",
        "scripts/e2e",
    ]
    develop = README.split("## Develop", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    listed = [line.split()[0] for line in develop.strip().splitlines()]
    assert set(ci) <= set(listed)
    assert [command for command in listed if command in ci] == ci


def test_readme_is_at_most_300_lines() -> None:
    """The README is for users; the details live in docs/ and CONTRIBUTING.md."""
    assert len(README.splitlines()) <= 300


def without_code(markdown: str) -> str:
    """A page without its fenced code blocks, whose `#` and `](` are no markdown."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings."""
    headings = re.findall(r"^#+ (.+)$", without_code(page.read_text()), re.M)
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_point_at_existing_files(page: Path) -> None:
    """Every relative link and image of the pages resolves, anchors included."""
    targets = re.findall(r"\]\(([^)\s]+)\)", without_code(page.read_text()))
    assert targets
    for target in targets:
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.is_file(), target
        assert linked.is_relative_to(ROOT.resolve()), target
        if anchor:
            assert anchor in anchors(linked), target


def test_docs_pages_are_linked_from_the_readme() -> None:
    """No page is left where a user cannot find it."""
    for page in PAGES[1:]:
        assert f"]({page.relative_to(ROOT)})" in README, page.name


def test_manifest_is_ordered_and_versioned_as_hassfest_and_hacs_want() -> None:
    """Hassfest wants domain, name, then the other keys sorted; HACS wants a version."""
    manifest = json.loads((ROOT / MANIFEST).read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    release.semver_key(manifest["version"])
    assert {"codeowners", "documentation", "issue_tracker", "version"} <= set(keys)


def test_hacs_minimum_is_the_oldest_tested_home_assistant() -> None:
    """HACS installs on nothing older than what the floor environment tests."""
    hacs = json.loads((ROOT / "hacs.json").read_text())
    manifest = json.loads((ROOT / MANIFEST).read_text())
    assert set(hacs) <= {"name", "homeassistant", "hacs", "country", "hide_default_branch"}
    assert hacs["name"] == manifest["name"]
    assert hacs["homeassistant"] == installed_home_assistant(".venv-floor")


def test_every_environment_pins_the_manifest_requirements() -> None:
    """Tests, floor and smoke check run the library version users get."""
    manifest = json.loads((ROOT / MANIFEST).read_text())
    for requirements in (
        "requirements_test.txt",
        "requirements_floor.txt",
        "requirements_latest.txt",
    ):
        pinned = (ROOT / requirements).read_text().splitlines()
        for requirement in manifest["requirements"]:
            assert requirement in pinned, (requirements, requirement)


def test_readme_names_every_tested_release() -> None:
    """The README says which Home Assistant releases are tested, and these are them."""
    latest = re.search(
        r"^homeassistant==(\S+)$", (ROOT / "requirements_latest.txt").read_text(), re.M
    )
    assert latest is not None
    develop = README.split("## Develop", 1)[1].split("\n## ", 1)[0]
    for version in (
        installed_home_assistant(".venv"),
        installed_home_assistant(".venv-floor"),
        latest[1],
    ):
        assert version in develop, version


@given(
    st.lists(
        st.tuples(
            st.integers(0, 12),
            st.integers(0, 12),
            st.integers(0, 12),
            st.sampled_from([None, "alpha", "beta", "rc"]),
            st.integers(0, 12),
        ),
        min_size=2,
        max_size=2,
    )
)
def test_version_order_agrees_with_hacs(
    pair: list[tuple[int, int, int, str | None, int]],
) -> None:
    """`prepare` refuses what HACS would not see as an update (HACS uses AwesomeVersion)."""
    first, second = (
        f"{major}.{minor}.{patch}" + (f"-{pre}.{number}" if pre else "")
        for major, minor, patch, pre, number in pair
    )
    ours = release.semver_key(first) < release.semver_key(second)
    assert ours == (AwesomeVersion(first) < AwesomeVersion(second)), (first, second)


@pytest.mark.parametrize(
    "version", ["1.0", "01.2.3", "1.2.3.4", "v1.2.3", "1.2.3-", "1.2.3-rc..1", "1.2.3-rc.01"]
)
def test_version_must_be_semantic(version: str) -> None:
    """Only MAJOR.MINOR.PATCH with an optional pre-release counts as a version."""
    with pytest.raises(release.ReleaseError):
        release.semver_key(version)


def git(repo: Path, *args: str) -> str:
    """Run git in a scratch repository."""
    return subprocess.run(  # noqa: S603 - git with fixed arguments
        [GIT, *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True
    ).stdout


def run_release(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the repository's own scripts/release, as a maintainer would."""
    return subprocess.run(  # noqa: S603 - the project's own script
        [repo / "scripts" / "release", *args],
        cwd=repo,
        env=GIT_ENV,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed copy of the release script, manifest and changelog, with a remote."""
    repo = tmp_path / "repo"
    for relative in (Path("scripts/release"), Path("scripts/release.py"), MANIFEST):
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, repo / relative)
    (repo / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-22\n\n### Added\n\n- First.\n\n"
        "[Unreleased]: https://github.com/dexcom-share-ha/dexcom_share/compare/v0.1.0...HEAD\n"
        "[0.1.0]: https://github.com/dexcom-share-ha/dexcom_share/releases/tag/v0.1.0\n"
    )
    manifest = json.loads((repo / MANIFEST).read_text())
    (repo / MANIFEST).write_text(json.dumps({**manifest, "version": "0.1.0"}, indent=2) + "\n")
    (repo / CARD).parent.mkdir()
    (repo / CARD).write_text('const CARD_VERSION = "0.1.0";\nclass Card extends HTMLElement {}\n')
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "First")
    git(tmp_path, "init", "--quiet", "--bare", "remote.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
    return repo


def test_check_passes_on_this_repository() -> None:
    """The version in the working tree is the same in every place."""
    result = run_release(ROOT, "check")
    assert result.returncode == 0, result.stderr
    assert json.loads((ROOT / MANIFEST).read_text())["version"] in result.stdout


def test_check_names_every_mismatch(repo: Path) -> None:
    """A version changed in one place only is caught, with each place named."""
    assert run_release(repo, "check").returncode == 0
    manifest = json.loads((repo / MANIFEST).read_text())
    (repo / MANIFEST).write_text(json.dumps({**manifest, "version": "0.1.1"}, indent=2))
    result = run_release(repo, "check", "--tag", "v0.1.0")
    assert result.returncode == 1
    assert str(CARD) in result.stderr
    assert "CHANGELOG.md" in result.stderr
    assert "tag 'v0.1.0'" in result.stderr


def test_tag_refuses_a_dirty_tree(repo: Path) -> None:
    """Only committed work is released."""
    (repo / "CHANGELOG.md").write_text((repo / "CHANGELOG.md").read_text() + "\nEdited.\n")
    result = run_release(repo, "tag")
    assert result.returncode == 1
    assert "not clean" in result.stderr
    assert git(repo, "tag") == ""


def test_tag_pushes_only_when_asked(repo: Path, tmp_path: Path) -> None:
    """The tag carries the changelog notes; it leaves the machine only with --push."""
    result = run_release(repo, "tag")
    assert result.returncode == 0, result.stderr
    assert git(repo, "tag", "--list", "--format=%(contents)", "v0.1.0").startswith(
        "Dexcom Share 0.1.0\n\n### Added\n\n- First."
    )
    assert git(tmp_path / "remote.git", "tag") == ""
    again = run_release(repo, "tag")
    assert again.returncode == 1
    assert "exists already" in again.stderr

    git(repo, "tag", "--delete", "v0.1.0")
    assert run_release(repo, "tag", "--push").returncode == 0
    assert git(tmp_path / "remote.git", "tag") == "v0.1.0\n"


def test_prepare_sets_the_version_everywhere(repo: Path) -> None:
    """The Unreleased notes become the new version's dated section; the rest follows."""
    changelog = (repo / "CHANGELOG.md").read_text()
    (repo / "CHANGELOG.md").write_text(
        changelog.replace("## [Unreleased]\n", "## [Unreleased]\n\n### Added\n\n- A card.\n")
    )
    before = datetime.now(UTC).date().isoformat()
    result = run_release(repo, "prepare", "0.2.0")
    dates = {before, datetime.now(UTC).date().isoformat()}
    assert result.returncode == 0, result.stderr

    assert json.loads((repo / MANIFEST).read_text())["version"] == "0.2.0"
    assert 'const CARD_VERSION = "0.2.0";' in (repo / CARD).read_text()
    sections = release.changelog_sections((repo / "CHANGELOG.md").read_text())
    assert [(name, body) for name, _, body in sections] == [
        ("Unreleased", ""),
        ("0.2.0", "### Added\n\n- A card."),
        ("0.1.0", "### Added\n\n- First."),
    ]
    assert sections[1][1] in dates
    assert (
        "[Unreleased]: https://github.com/dexcom-share-ha/dexcom_share/compare/v0.2.0...HEAD\n"
        "[0.2.0]: https://github.com/dexcom-share-ha/dexcom_share/compare/v0.1.0...v0.2.0\n"
    ) in (repo / "CHANGELOG.md").read_text()
    assert run_release(repo, "check").returncode == 0
    assert run_release(repo, "notes", "0.2.0").stdout == "### Added\n\n- A card.\n"


@pytest.mark.parametrize(
    ("version", "unreleased", "reason"),
    [
        ("0.1.0", "- Something.\n", "not newer"),
        ("0.1.0-rc.1", "- Something.\n", "not newer"),
        ("0.2.0", "", "nothing under"),
        ("0.2", "- Something.\n", "not a semantic version"),
    ],
)
def test_prepare_refuses(repo: Path, version: str, unreleased: str, reason: str) -> None:
    """No release of an old version, of an invalid one, or of nothing; files stay as they were."""
    changelog = (repo / "CHANGELOG.md").read_text()
    (repo / "CHANGELOG.md").write_text(
        changelog.replace("## [Unreleased]\n", f"## [Unreleased]\n\n{unreleased}")
    )
    before = {
        path: path.read_bytes() for path in (repo / MANIFEST, repo / CARD, repo / "CHANGELOG.md")
    }
    result = run_release(repo, "prepare", version)
    assert result.returncode == 1
    assert reason in result.stderr
    assert {path: path.read_bytes() for path in before} == before


def test_benchmark_page_is_rendered_from_its_results() -> None:
    """benchmarks/README.md is exactly what its committed JSON results render to."""
    readme = importlib.import_module("benchmarks.readme")
    page = ROOT / "benchmarks" / "README.md"
    assert readme.render_results(ROOT / "benchmarks" / "results") == page.read_text(), (
        "benchmarks/README.md differs from its results: .venv/bin/python -m benchmarks.readme"
    )
    test_relative_links_point_at_existing_files(page)


def test_readme_quotes_the_benchmark_results() -> None:
    """The README's comparison with the built-in integration is the committed results'."""
    results = json.loads((ROOT / "benchmarks" / "results" / "freshness.json").read_text())
    mix, family = results["traces"]["mix"], results["family"]["mix"]["ours"]
    ours, builtin = mix["ours"], mix["builtin"]
    row = (
        f"| {builtin['median_lag_s']} s / {builtin['p95_lag_s']} s"
        f" | **{ours['median_lag_s']} s / {ours['p95_lag_s']} s**"
    )
    assert row in README
    assert f"over 24 days {family['median_lag_s']} s / {family['p95_lag_s']} s" in README
    reads = f"| {builtin['reads_per_reading']:.2f} | **{ours['reads_per_reading']:.2f}** |"
    assert reads in README
    never = f"| {builtin['never_shown_newest_60s']} ({builtin['never_shown']} in all) | **0** |"
    assert never in README
    assert ours["never_shown_newest_60s"] == 0
    loop = json.loads((ROOT / "benchmarks" / "results" / "event_loop.json").read_text())
    assert f"cost the event loop {loop['snapshot_ms_median']} ms per poll" in README
