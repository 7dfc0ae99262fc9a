"""Checks of the repository's own set-up files (ctest label `repo`).

Docker does not run on the machines this project is built on, so the devcontainer is checked the
way editors read it: the official Dev Containers CLI (npm @devcontainers/cli, installed
project-locally by scripts/install-deps.sh) parses devcontainer.json without a Docker engine.

    repo_test.py DevcontainerConfigParses | DockerfileUsesTheOnePackageList | NoSecondPackageList
"""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path.cwd()


def fail(message: str) -> None:
    print("FAIL:", message)
    sys.exit(1)


def devcontainer_config_parses() -> None:
    cli = ROOT / "node_modules" / ".bin" / "devcontainer"
    if not cli.exists():
        fail(f"{cli} is missing: run scripts/install-deps.sh (it installs package-lock.json)")
    done = subprocess.run([str(cli), "read-configuration", "--workspace-folder", str(ROOT),
                           "--docker-path", "/bin/true"],
                          capture_output=True, text=True, timeout=90)
    if done.returncode != 0:
        fail(f"devcontainer read-configuration failed:\n{done.stderr}")
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    if not lines:
        fail(f"no JSON from devcontainer read-configuration:\n{done.stdout}")
    config = json.loads(lines[-1])["configuration"]
    if config.get("build", {}).get("dockerfile") != "Dockerfile":
        fail(f"build.dockerfile should be 'Dockerfile', got {config.get('build')}")
    if "SYS_PTRACE" not in config.get("capAdd", []):
        fail("capAdd lacks SYS_PTRACE (gdb and the sanitizers need it)")
    vscode = config.get("customizations", {}).get("vscode", {})
    for extension in ("ms-vscode.cmake-tools", "llvm-vs-code-extensions.vscode-clangd"):
        if extension not in vscode.get("extensions", []):
            fail(f"extension {extension} missing")
    if vscode.get("settings", {}).get("cmake.useCMakePresets") != "always":
        fail("CMake Tools should use CMakePresets.json")
    if "scripts/install-deps.sh" not in config.get("postCreateCommand", ""):
        fail("postCreateCommand should run scripts/install-deps.sh (project-local npm packages)")
    print("ok: devcontainer.json parses with the Dev Containers CLI")


def dockerfile_uses_the_one_package_list() -> None:
    dockerfile = (ROOT / ".devcontainer" / "Dockerfile").read_text()
    if not re.search(r"^FROM .*debian-12", dockerfile, re.M):
        fail("the devcontainer should build on Debian 12")
    if "install-deps.sh" not in dockerfile:
        fail("the Dockerfile must install packages by running scripts/install-deps.sh")
    if re.search(r"apt(-get)?\s+install", dockerfile):
        fail("the Dockerfile installs packages itself: use scripts/install-deps.sh")
    print("ok: the Dockerfile runs scripts/install-deps.sh and lists no packages")


def no_second_package_list() -> None:
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT)
    files = tracked.stdout.split() if tracked.returncode == 0 else []
    if not files:  # not a git checkout (an exported tarball): look at the files that matter
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and "build" not in p.parts and "node_modules" not in p.parts]
    offenders = []
    for name in files:
        path = ROOT / name
        if name == "scripts/install-deps.sh" or path.suffix in (".md",) or not path.is_file():
            continue
        if name.startswith("tests/repo/"):
            continue
        text = path.read_text(errors="replace")
        if re.search(r"apt(-get)?\s+(-\S+\s+)*install", text):
            offenders.append(name)
    if offenders:
        fail("packages installed outside scripts/install-deps.sh: " + ", ".join(offenders))
    print(f"ok: scripts/install-deps.sh is the only package list ({len(files)} files checked)")


CASES = {
    "DevcontainerConfigParses": devcontainer_config_parses,
    "DockerfileUsesTheOnePackageList": dockerfile_uses_the_one_package_list,
    "NoSecondPackageList": no_second_package_list,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        fail(f"usage: repo_test.py {{{'|'.join(CASES)}}}")
    CASES[sys.argv[1]]()
