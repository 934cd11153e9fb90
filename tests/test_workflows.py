"""The GitHub Actions workflows: valid against GitHub's workflow schema, and doing what README says."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import HANG, REPO

WORKFLOWS = REPO / ".github" / "workflows"


def schema_check(*files: Path) -> subprocess.CompletedProcess[str]:
    """Return the finished check-jsonschema run of `files` against its bundled GitHub workflow schema."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=HANG,
    )


def load(name: str) -> dict[str, Any]:
    """Return a workflow as a mapping, its `on:` key under "on" (YAML 1.1 reads it as True)."""
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    """Return the steps of one job."""
    result = workflow["jobs"][job]["steps"]
    assert isinstance(result, list)
    return result


def runs(workflow: dict[str, Any], job: str) -> list[str]:
    """Return the shell commands of one job, in order."""
    return [s["run"].strip() for s in steps(workflow, job) if "run" in s]


def uses(workflow: dict[str, Any], job: str) -> dict[str, dict[str, Any]]:
    """Return {action without version: its step} for one job."""
    return {s["uses"].split("@")[0]: s for s in steps(workflow, job) if "uses" in s}


def test_every_workflow_matches_githubs_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["deploy.yml", "pull-request.yml", "weekly.yml"]
    proc = schema_check(*files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8").replace("runs-on:", "run-on:")
    (tmp_path / "broken.yml").write_text(broken, encoding="utf-8")
    assert schema_check(tmp_path / "broken.yml").returncode != 0


def test_deploy_checks_with_the_site_requirements_and_executes_only_when_a_post_is_stale() -> None:
    wf = load("deploy.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert list(wf["jobs"]) == ["check", "execute", "deploy"]
    # The light job: the site's requirements only, the check, and (nothing stale) the site.
    commands = runs(wf, "check")
    assert commands[0] == "pip install -r requirements-site.txt"
    assert not any("requirements.txt" in c for c in commands)
    [check] = [s for s in steps(wf, "check") if "build.py --check" in s.get("run", "")]
    assert wf["jobs"]["check"]["outputs"]["stale"] == f"${{{{ steps.{check['id']}.outputs.stale }}}}"
    light = {s.get("run") or s["uses"].split("@")[0]: s.get("if") for s in steps(wf, "check")}
    nothing_stale = f"steps.{check['id']}.outputs.stale == 'false'"
    assert light["mkdocs build --strict"] == nothing_stale
    assert light["actions/upload-pages-artifact"] == nothing_stale
    assert "actions/cache" not in uses(wf, "check")
    # The full job: only when a post is stale; the cache kept between runs.
    assert wf["jobs"]["execute"]["needs"] == "check"
    assert wf["jobs"]["execute"]["if"] == "needs.check.outputs.stale == 'true'"
    commands = runs(wf, "execute")
    assert commands.index("pip install -r requirements.txt") < commands.index("python build.py")
    assert commands.index("python build.py") < commands.index("mkdocs build --strict")
    actions = uses(wf, "execute")
    assert actions["actions/cache"]["with"]["path"] == ".nbpress-cache"
    assert actions["actions/upload-pages-artifact"]["with"]["path"] == "site"
    assert "requirements-site.txt" in actions["actions/cache"]["with"]["key"]
    # Deployed after either job built the site, never after a failed or cancelled one.
    assert wf["jobs"]["deploy"]["needs"] == ["check", "execute"]
    condition = " ".join(wf["jobs"]["deploy"]["if"].split())
    assert "needs.check.result == 'success'" in condition and "!cancelled()" in condition
    assert "(needs.execute.result == 'success' || needs.execute.result == 'skipped')" in condition
    assert wf["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    assert "actions/deploy-pages" in uses(wf, "deploy")


def check_step(blog: Path, github_output: Path, *python: str) -> subprocess.CompletedProcess[str]:
    """Run deploy.yml's check step as GitHub runs it (bash -e), on `blog`, its outputs to a file."""
    [step] = [s for s in steps(load("deploy.yml"), "check") if "build.py --check" in s.get("run", "")]
    here = shlex.join([sys.executable, *python, str(REPO / "build.py"), "--root", str(blog)])
    script = step["run"].replace("python build.py", here)
    assert here in script
    env = {**os.environ, "GITHUB_OUTPUT": str(github_output)}
    return subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.slow
def test_the_check_step_says_whether_to_execute_and_fails_when_it_cannot_check(
    blog: Path, tmp_path: Path
) -> None:
    from tests.helpers import build_cli, write_post

    write_post(blog, "post", "print(1)")
    assert build_cli(blog, "post").returncode == 0
    output = tmp_path / "output"
    proc = check_step(blog, output)
    assert (proc.returncode, output.read_text()) == (0, "stale=false\n"), proc.stderr
    write_post(blog, "post", "print(2)")
    output.unlink()
    proc = check_step(blog, output)
    assert (proc.returncode, output.read_text()) == (0, "stale=true\n"), proc.stderr
    # A check that cannot run (exit 2: a Python without the requirements) fails the job, never
    # reads as "stale".
    output.unlink()
    proc = check_step(blog, output, "-S", "-E", "-s")
    assert proc.returncode == 2 and not output.exists(), proc.stdout + proc.stderr


def test_pull_requests_build_without_deploying_or_secrets() -> None:
    wf = load("pull-request.yml")
    assert set(wf["on"]) == {"pull_request"}
    assert wf["permissions"] == {"contents": "read"}
    text = (WORKFLOWS / "pull-request.yml").read_text(encoding="utf-8")
    assert (
        not re.search(r"\$\{\{[^}]*secrets", text)
        and "deploy-pages" not in text
        and "upload-pages-artifact" not in text
    )
    commands = runs(wf, "build")
    assert commands.index("python build.py") < commands.index("mkdocs build --strict")
    # Reads main's cache but never writes one.
    assert "actions/cache/restore" in uses(wf, "build") and "actions/cache" not in uses(wf, "build")


def test_weekly_reexecutes_everything_then_checks_drift() -> None:
    wf = load("weekly.yml")
    assert wf["on"]["schedule"][0]["cron"]
    assert wf["permissions"] == {"contents": "read"}
    commands = runs(wf, "reexecute")
    assert commands.index("python build.py --force") < commands.index("python build.py --drift")
    assert "actions/cache" not in uses(wf, "reexecute"), "a full re-execution must not use the cache"


@pytest.mark.parametrize("name", ["deploy.yml", "pull-request.yml", "weekly.yml"])
def test_workflow_commands_name_files_that_exist(name: str) -> None:
    for job in load(name)["jobs"].values():
        for step in job.get("steps", []):
            command = step.get("run", "")
            for word in command.split():
                if word.endswith((".py", ".txt")):
                    assert (REPO / word).is_file(), f"{name}: {word} does not exist"
            if "-m nbpress." in command:
                module = command.split("-m ")[1].split()[0]
                assert (REPO / (module.replace(".", "/") + ".py")).is_file()


def test_ci_runs_the_test_command_readme_gives() -> None:
    """.ci/run ends with README's test command, verbatim: CI runs what a new user is told to run."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run the tests", 1)[1]
    command = re.search(r"```bash\n(.+?)\n```", section, re.S)
    assert command is not None
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    last = [line for line in lines if line.strip()][-1]
    assert last == command.group(1).strip()


def test_ci_asks_for_the_python_build_py_needs() -> None:
    """.ci/run checks for the same oldest Python as build.py (the one every pin installs on)."""
    build_py = (REPO / "build.py").read_text(encoding="utf-8")
    needed = re.search(r"^REQUIRES_PYTHON = (\(.+\))$", build_py, re.M)
    assert needed is not None
    assert f"sys.version_info < {needed.group(1)}" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
