"""Checks that the words match the repository (ctest label `repo`, tests 00.Repo.<Case>).

    words_test.py CASE BUILD_DIR [CTEST]     run from the repository's root (ctest does)

The texts read are every tracked Markdown file (README.md, labs/README.md, labs/NN-*/README.md,
chapters/*.md, docs/*.md, bench/README.md, the folders' README.md files), except the benchmark
reports in bench/results/, which a program writes at measurement time. Each case prints every
mismatch as `file:line: what is written; what the repository has` and exits 1 if there is one.

Cases, and what each checks:

  LinksResolve        Markdown links to relative targets (images too) exist; a `#anchor` names a
                      heading of the target file (GitHub's slugs). URLs (`scheme:`) are not
                      fetched.
  PathsExist          Path-like words in code spans, code blocks and prose: a word whose first
                      component is a top-level entry of the repository (`src/net/buffer.cpp`,
                      `labs/03-threads/starter/...`) or, failing that, an entry of the text's own
                      folder (`starter/`, `micro/`), must exist. `<x>`, `NN`, `*` and `...` are
                      wildcards (`tests/NN-<topic>/api.hpp`). `$AVANT/` is the repository's root
                      (chapter 04 names it so). A missing path that .gitignore covers is made by a
                      program (`examples/tls/example-cert.pem`, `build/ci/`) and passes. Bare file
                      names in code spans (`buffer.hpp`) must be the name of some file here.
                      `build/X[/rest]`: X must be a preset's folder, a lab's (`labNN`, `lab0102`,
                      `labNN-<preset>`, `labNN-grade`) or a folder a tracked script names as
                      `build/X`; `rest` that names an executable (`build/default/apps/avant`) must
                      be declared by `add_executable(<name>` in `<dir>/CMakeLists.txt` — the
                      declaration, not the file, so the check does not depend on what was built.
                      A missing `dir/name` where dir/CMakeLists.txt declares add_executable(name
                      is that program, named by its source folder
                      (`bench/ceiling/avant-ceiling-echo`). LATER lists the few names of files a
                      later chapter adds (`Init.lua`, the original's Lua entry script).
                      Skipped: absolute paths (`/proc/...`, `/usr/...`, `/tmp/...`: the machine's,
                      not the repository's), words whose first component is neither a top-level
                      entry nor in the text's folder (`text/html`, `HTTP/1.1`), URLs.
  MakeTargetsExist    `make <target>` at the start of a command in code (spans and blocks, after
                      `;`, `&&`, `|` or `VAR=value`) names a rule or .PHONY name of the Makefile.
  MakeRunStartsWhatTheTextSays
                      The Makefile's `run` rule builds some targets (`--target avant`) and starts
                      one program (build/default/apps/avant, of the chapter whose row in
                      README.md's table lists its folder). A sentence saying `make run` builds or
                      makes something ("the build that `make run` makes", "`make run` has built
                      it") must sit in a section that runs only programs `make run` builds; a
                      sentence saying `make run` starts or serves something, or "`make run`'s
                      server", must not name another program (in that sentence; in the list item
                      for "'s server") nor another chapter. The words are matched, not
                      understood: this catches the experiments that used to send the reader to
                      `make run` for avant-echo, and any text that does so again.
  PresetsExist        `--preset X` is a preset of the kind its tool reads (ctest: test presets,
                      `cmake --build`: build presets, cmake: configure presets); "the `X` preset"
                      and `build/<preset>` name configure presets (hidden ones excluded).
  BinariesAreTargets  Every `avant-<name>` program named anywhere (`avant-echo`, `avant-load`) is
                      an add_executable target of a tracked CMakeLists.txt; `avant-micro-*` must
                      match one. `/tmp/avant-tls` and the like are folders, not programs.
  TestNamesExist      `NN.Suite.Case` is a test of BUILD_DIR (`ctest --show-only=json-v1`);
                      `NN.Suite`, `NN.Suite.*` name an existing suite of chapter NN;
                      `NN.Suite.Prefix...` and `Suite.Prefix...` match a test's start; `Suite.Case`
                      (as gtest prints it) is a test of some chapter when Suite is a known suite.
                      A bare CamelCase name of four words or more in a code span
                      (`SelfMoveAssignmentKeepsTheDescriptor`) must occur in a tracked source file.
                      When BUILD_DIR was configured without the benchmarks, `00.Bench.*` names are
                      checked against bench/'s add_test declarations instead.
  TestCountsMatch     Counts against `ctest -L ^chNN$` of BUILD_DIR (the reference's count: the
                      same tests grade the reference and the labs). NN is the chapter of the text
                      (labs/NN-*/, chapters/NN-*.md) unless the sentence names one. Checked forms:
                      "the 79 tests of chapter 01", "chapter 01's 79", "all 41 tests", "passes
                      all 26", "N% tests passed, F tests failed out of M" (M, and N from F and M
                      as ctest rounds it), a Label Time Summary's "(K tests)" per label, "the 15
                      integration tests", "11 tests (`-R 01.FileDescriptor`)" (the regex over every
                      test name, as ctest -R), labs/check's "pass M/M" and "fails F/M". For the
                      untouched starter ("fails 21 of the chapter's 22 tests", "fails 77/79")
                      only M and F <= M can be checked: ctest -N cannot know what the starter
                      fails. "The K that pass" must be M - F of the sentence before. Test numbers
                      in ctest output ("  4 - 01.SocketAddress.ParsesIpv4") and "Numbers start at
                      N" are checked when BUILD_DIR holds the benchmarks' tests, as every build
                      of the `default` preset does (`make lab` included): builds without them
                      number differently. Not checked: counts of a subset the text describes in
                      words ("23 of the 33 address tests are its rows").
  ReferenceSizesMatch "Sizes of the reference" in the handouts: `file.cpp` N lines is `wc -l` of
                      the reference file the starter replaces; exact unless written "about N"
                      (then within 10 %).
  NoDanglingReferences
                      The repository stands on its own: no tracked file (this one excepted: its
                      OUTSIDE pattern spells them) mentions a design document kept outside it, by
                      file name, section mark or path to the folder that holds them; what the
                      code relies on is written in docs/ (docs/original-avant.md for the
                      original Avant). Every Markdown link to a relative target, in every tracked
                      Markdown file (bench/results/ included), points to a file that exists. Every
                      `docs/....md` named in a comment of a C/C++, CMake, shell, Python, Makefile
                      or Dockerfile source exists; when the comment adds `#anchor` or `, "Heading"`
                      after it, that file has the heading. Reads every tracked file, not only the
                      texts; binary files are skipped.

If BUILD_DIR has no tests yet, is not fully built (`*_NOT_BUILT` placeholders), or registers
other 00.Repo tests than tests/repo/CMakeLists.txt declares (configured before a change), the
cases that need it fail with a message that says so.
"""
import fnmatch
import glob
import json
import math
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path.cwd()
KINDS = ("unit", "integration", "e2e", "conformance", "stress")

# ---------------------------------------------------------------------------------------------
# The repository


def tracked_files() -> list[str]:
    done = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode == 0 and done.stdout.strip():
        return [f for f in done.stdout.splitlines() if (ROOT / f).is_file()]
    skip = {"build", "node_modules", ".git"}
    return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


FILES = tracked_files()
TOP_LEVEL = {f.split("/")[0] for f in FILES} | {"build"}
BASENAMES = {pathlib.PurePath(f).name for f in FILES}


def texts() -> list[str]:
    return sorted(f for f in FILES if f.endswith(".md") and not f.startswith("bench/results/"))


def gitignore_patterns() -> list[tuple[str, str]]:
    """(folder, pattern) of every non-negated line of every tracked .gitignore."""
    out = []
    for name in FILES:
        if pathlib.PurePath(name).name != ".gitignore":
            continue
        folder = str(pathlib.PurePath(name).parent)
        folder = "" if folder == "." else folder + "/"
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "!")):
                out.append((folder, line))
    return out


IGNORED = gitignore_patterns()


def is_ignored(path: str) -> bool:
    """Whether .gitignore covers `path` or one of its folders: a file some program makes."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i])
        for folder, pattern in IGNORED:
            if folder and not sub.startswith(folder):
                continue
            rel = sub[len(folder):]
            pat = pattern.rstrip("/")
            if pat.startswith("/") or "/" in pat:
                if fnmatch.fnmatch(rel, pat.lstrip("/")):
                    return True
            elif fnmatch.fnmatch(rel.split("/")[-1], pat):
                return True
    return False


def cmake_lists() -> list[str]:
    return [f for f in FILES if pathlib.PurePath(f).name == "CMakeLists.txt"]


def executables() -> dict[str, str]:
    """add_executable target -> folder of the CMakeLists.txt that declares it."""
    out = {}
    for name in cmake_lists():
        for m in re.finditer(r"add_executable\(\s*([\w.-]+)", (ROOT / name).read_text()):
            out[m.group(1)] = str(pathlib.PurePath(name).parent)
    return out


def presets() -> dict[str, set[str]]:
    data = json.loads((ROOT / "CMakePresets.json").read_text())
    return {kind: {p["name"] for p in data.get(kind + "Presets", []) if not p.get("hidden")}
            for kind in ("configure", "build", "test")}


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    targets = set()
    for m in re.finditer(r"^([A-Za-z0-9_.%/ -]+?)\s*::?(?!=)", text, re.M):
        targets.update(m.group(1).split())
    for m in re.finditer(r"^\.PHONY\s*:(.*)$", text, re.M):
        targets.update(m.group(1).split())
    return {t for t in targets if not t.startswith(".")}


# ---------------------------------------------------------------------------------------------
# Markdown: code blocks, code spans, prose


class Doc:
    def __init__(self, name: str):
        self.name = name
        self.dir = str(pathlib.PurePath(name).parent)
        self.text = (ROOT / name).read_text()
        m = re.match(r"(?:labs/(\d\d)-|chapters/(\d\d)-)", name)
        self.chapter = (m.group(1) or m.group(2)) if m else None
        self.blocks = []  # (offset, text) of each fenced block's content
        masked = list(self.text)
        offset, start, fence = 0, None, 0
        for line in self.text.splitlines(keepends=True):
            if re.match(r"\s*(```|~~~)", line):
                if start is None:
                    fence, start = offset, offset + len(line)
                else:
                    self.blocks.append((start, self.text[start:offset]))
                    for i in range(fence, offset + len(line)):  # the fences too
                        if masked[i] != "\n":
                            masked[i] = " "
                    start = None
            offset += len(line)
        self.masked = "".join(masked)  # the text without code blocks
        self.spans = []  # (offset, text) of each code span, newlines as spaces
        prose = list(self.masked)
        for m in re.finditer(r"`([^`]+)`", self.masked):
            if "\n\n" in m.group(1):
                continue
            self.spans.append((m.start(1), m.group(1).replace("\n", " ")))
            for i in range(m.start(), m.end()):
                if prose[i] != "\n":
                    prose[i] = " "
        self.prose = "".join(prose)

    def line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def where(self, offset: int) -> str:
        return f"{self.name}:{self.line(offset)}"

    def code(self):
        """(offset, text) of every code span and every line of every block."""
        yield from self.spans
        for start, block in self.blocks:
            pos = start
            for line in block.splitlines(keepends=True):
                yield pos, line.rstrip("\n")
                pos += len(line)


DOCS = [Doc(name) for name in texts()]


class Report:
    def __init__(self, case: str):
        self.case = case
        self.problems = []
        self.checked = 0

    def ok(self):
        self.checked += 1

    def bad(self, where: str, message: str):
        self.checked += 1
        self.problems.append(f"{where}: {message}")

    def finish(self, what: str) -> None:
        for problem in self.problems:
            print(problem)
        if self.problems:
            print(f"FAIL: {len(self.problems)} of {self.checked} {what} do not match")
            sys.exit(1)
        if self.checked == 0:
            print(f"FAIL: no {what} found: the check itself is broken")
            sys.exit(1)
        print(f"ok: {self.checked} {what} match the repository ({len(DOCS)} texts)")


# ---------------------------------------------------------------------------------------------
# LinksResolve


def slug(heading: str) -> str:
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: pathlib.Path) -> set[str]:
    seen, out = {}, set()
    doc = Doc(str(path.relative_to(ROOT)))
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", doc.masked, re.M):
        s = slug(m.group(1))
        n = seen.get(s, 0)
        out.add(s if n == 0 else f"{s}-{n}")
        seen[s] = n + 1
    return out


def links_resolve() -> None:
    r = Report("LinksResolve")
    for doc in DOCS:
        for m in re.finditer(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", doc.prose):
            target = m.group(1)
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # a URL
            path, _, anchor = target.partition("#")
            where = doc.where(m.start())
            resolved = (ROOT / doc.dir / path).resolve() if path else ROOT / doc.name
            if not resolved.exists():
                r.bad(where, f"link to {target}: {path} does not exist")
                continue
            if anchor and resolved.suffix == ".md":
                if anchor not in anchors(resolved):
                    r.bad(where, f"link to {target}: no heading with anchor #{anchor} in "
                          f"{resolved.relative_to(ROOT)}")
                    continue
            r.ok()
    r.finish("links")


# ---------------------------------------------------------------------------------------------
# PathsExist

PATH_WORD = re.compile(r"(?<![\w/.:~$@=-])((?:\$AVANT/)?\.?[A-Za-z0-9_<][\w.<>*-]*/[\w.<>*/-]*)")
# Files the texts name that a later chapter adds (the original Avant's names, kept).
LATER = {"Init.lua"}  # docs/configuration.md: the Lua entry script, chapter 10
BUILD_SCRIPTS = ["Makefile", ".ci/run", "labs/check", "labs/grade", "labs/status", "bench/run"]


def as_glob(path: str) -> str:
    path = re.sub(r"\.\.\.+", "*", path)
    path = re.sub(r"<[^>/]*>", "*", path)
    return re.sub(r"(?<![A-Za-z])NN(?![A-Za-z])", "[0-9][0-9]", path)


def exists(path: str) -> bool:
    if any(c in path for c in "*?["):
        return bool(glob.glob(str(ROOT / path)))
    return (ROOT / path).exists()


def build_folders_named_by_scripts() -> set[str]:
    out = set()
    for name in BUILD_SCRIPTS + [f for f in FILES if f.startswith("scripts/")]:
        if (ROOT / name).is_file():
            out.update(re.findall(r"build/([\w.-]+)", (ROOT / name).read_text()))
    return out


def check_build_path(path: str, targets: dict[str, str], configure: set[str],
                     scripted: set[str]) -> str | None:
    """None if `build/...` names a build folder (and executable) that exists; else the problem."""
    parts = path.rstrip("/").split("/")[1:]
    if not parts or parts[0].startswith("<") or parts[0] in ("labNN", "labNN-tsan", "labNN-asan"):
        return None  # build/<preset>, build/labNN: a pattern
    folder, rest = parts[0], parts[1:]
    m = re.fullmatch(r"lab((?:\d\d)+)(?:-([\w]+))?", folder)
    if folder in configure:
        pass
    elif m:
        for nn in re.findall(r"\d\d", m.group(1)):
            if not glob.glob(str(ROOT / "labs" / f"{nn}-*" / "starter")):
                return f"build/{folder}: chapter {nn} has no lab (labs/{nn}-*/starter)"
        suffix = m.group(2)
        if suffix and suffix not in configure and suffix != "grade":
            return f"build/{folder}: '{suffix}' is not a configure preset of CMakePresets.json"
    elif folder in scripted:
        return None  # a folder a script makes (build/ci, build/labs-check): its files are logs
    else:
        return (f"build/{folder} is neither a preset's folder ({', '.join(sorted(configure))}), "
                "a lab's (labNN[-preset]) nor one the scripts write")
    if not rest or rest[-1] in ("CMakeCache.txt", "compile_commands.json", "Testing",
                                "grade.ok") or rest[0] == "Testing":
        return None
    name, folder_of = rest[-1], "/".join(rest[:-1])
    if path.endswith("/"):
        if (ROOT / "/".join(rest) / "CMakeLists.txt").exists():
            return None
        return f"{path}: no CMakeLists.txt in {'/'.join(rest)}/ makes this folder"
    pattern = as_glob(name)
    found = [t for t, d in targets.items() if fnmatch.fnmatch(t, pattern + ("*" if pattern.endswith("-") else ""))]
    if not found:
        return f"{path}: no add_executable({name} ...) in any CMakeLists.txt"
    if not any(targets[t] == folder_of for t in found):
        return (f"{path}: {found[0]} is declared in {targets[found[0]]}/CMakeLists.txt, so it is "
                f"built as build/{folder}/{targets[found[0]]}/{found[0]}")
    return None


def paths_exist() -> None:
    r = Report("PathsExist")
    targets, configure = executables(), presets()["configure"]
    scripted = build_folders_named_by_scripts()
    for doc in DOCS:
        seen = set()
        sources = [(0, doc.prose)] + list(doc.code())
        for base, text in sources:
            for m in PATH_WORD.finditer(text):
                word = m.group(1)
                word = re.sub(r"[.,;:)\]'\"]+$", "", word) if not word.endswith("...") else word
                word = re.sub(r":\d+$", "", word)
                if word.startswith("$AVANT/"):
                    word = word[len("$AVANT/"):]
                first = word.split("/")[0]
                where = doc.where(base + m.start())
                key = (where, word)
                if key in seen or "://" in text[m.start():m.end() + 3]:
                    continue
                seen.add(key)
                if first == "build":
                    problem = check_build_path(word, targets, configure, scripted)
                    if problem:
                        r.bad(where, problem)
                    else:
                        r.ok()
                    continue
                if first in TOP_LEVEL:
                    path = word
                elif doc.dir != "." and (ROOT / doc.dir / first).exists():
                    path = f"{doc.dir}/{word}"
                else:
                    continue  # not a repository path (text/html, HTTP/1.1, avant/net/x.hpp)
                folder, _, leaf = path.rstrip("/").rpartition("/")
                if exists(as_glob(path)) or is_ignored(path):
                    r.ok()
                elif targets.get(leaf) == folder:
                    r.ok()  # a program named by the folder that declares it
                elif path in LATER:
                    r.ok()
                else:
                    r.bad(where, f"`{word}` does not exist" +
                          (f" (read as {path})" if path != word else ""))
        for base, text in doc.spans:
            for m in re.finditer(r"(?<![\w/.-])(\*?[\w-]+\.(?:cpp|hpp|h|c|py|sh|md|ini|json|"
                                 r"cmake|lua|proto))(?![\w/])", text):
                name = m.group(1)
                where = doc.where(base + m.start())
                if (name in BASENAMES or is_ignored(name) or name in LATER
                        or fnmatch.filter(BASENAMES, name)):
                    r.ok()
                else:
                    r.bad(where, f"`{name}`: no file of that name in the repository")
    r.finish("paths")


# ---------------------------------------------------------------------------------------------
# MakeTargetsExist, PresetsExist

MAKE = re.compile(r"(?:^|[;&|(]|\$\()\s*(?:\$\s+)?(?:[A-Z_][A-Z0-9_]*=\S*\s+)*make\s+"
                  r"(?:-\S+\s+)*([A-Za-z][\w.-]*)")


def strip_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line)


def make_targets_exist() -> None:
    r = Report("MakeTargetsExist")
    targets = makefile_targets()
    for doc in DOCS:
        for base, text in doc.code():
            for m in MAKE.finditer(strip_comment(text)):
                target = m.group(1)
                if target in targets:
                    r.ok()
                else:
                    r.bad(doc.where(base + m.start(1)),
                          f"`make {target}`: the Makefile has no target {target} "
                          f"(it has: {', '.join(sorted(targets))})")
    r.finish("make targets")


def presets_exist() -> None:
    r = Report("PresetsExist")
    known = presets()
    for doc in DOCS:
        for base, text in doc.code():
            for m in re.finditer(r"--preset[= ]+([\w-]+)", text):
                before = text[:m.start()]
                command = re.split(r"&&|;|\|", before)[-1]
                kind = ("test" if re.search(r"\bctest\b", command) else
                        "build" if re.search(r"\bcmake\s+--build\b", command) else "configure")
                name = m.group(1)
                if name in known[kind]:
                    r.ok()
                else:
                    r.bad(doc.where(base + m.start(1)),
                          f"`--preset {name}`: no {kind} preset '{name}' in CMakePresets.json "
                          f"(there are: {', '.join(sorted(known[kind]))})")
        for m in re.finditer(r"`(\w+)`\s+preset\b", doc.masked):
            name = m.group(1)
            if name in known["configure"]:
                r.ok()
            else:
                r.bad(doc.where(m.start(1)), f"the `{name}` preset: not in CMakePresets.json")
    r.finish("preset names")


# ---------------------------------------------------------------------------------------------
# MakeRunStartsWhatTheTextSays


def make_run_rule() -> tuple[set[str], str]:
    """(targets the Makefile's `run` builds, the program it starts: build/<preset>/<path>)."""
    text = (ROOT / "Makefile").read_text()
    body = re.search(r"^run:.*\n((?:\t.*\n)+)", text, re.M).group(1)
    built = {name for names in re.findall(r"--target((?:[ \t]+[a-z][\w-]*)+)", body)
             for name in names.split()}
    started = re.search(r"^\t@?(build/[\w-]+/\S+)", body, re.M)
    return built, started.group(1) if started else ""


def around(text: str, offset: int, ends: str) -> str:
    """The stretch of `text` around `offset` between two matches of the regex `ends`."""
    before = [m.end() for m in re.finditer(ends, text[:offset])]
    after = re.compile(ends).search(text, offset)
    return text[before[-1] if before else 0:after.start() if after else len(text)]


PARAGRAPH_END = r"\n\s*\n|\n(?=\s*(?:\d+\.|-)\s)"
SENTENCE_END = r"\.(?=\s)|" + PARAGRAPH_END


def make_run_starts_what_the_text_says() -> None:
    r = Report("MakeRunStartsWhatTheTextSays")
    built, started = make_run_rule()
    program = started.rsplit("/", 1)[-1]
    # The chapter of the program `make run` starts: README.md's chapter table lists the folder of
    # the program among that chapter's modules (`apps/`).
    folder = started.split("/")[2] if started.count("/") >= 3 else ""
    row = re.search(r"^\|\s*(\d\d)\s*\|.*`" + re.escape(folder) + r"/`",
                    (ROOT / "README.md").read_text(), re.M) if folder else None
    chapter = row.group(1) if row else None
    names = r"(?<![\w/.$-])avant(?:-[a-z0-9]+)+"
    for doc in DOCS:
        for m in re.finditer(r"`make run`", doc.text):
            where = doc.where(m.start())
            section = around(doc.text, m.start(), r"\n(?=#{1,6} )")
            sentence = around(doc.text, m.start(), SENTENCE_END)
            item = around(doc.text, m.start(), r"\n(?=\s*(?:\d+\.|-)\s|#{1,6} )")  # list item
            wrong = []
            # "the build that `make run` makes", "`make run` has built it": every program the
            # section runs from build/ must be one that `make run` builds.
            if re.search(r"`make run`(?:\s+or\s+`[^`]+`)?\s+(?:has\s+built|builds|makes|made)\b",
                         sentence):
                unbuilt = sorted({n for n in re.findall(r"build/default/(?:[\w.-]+/)*(avant[\w-]*)\b",
                                                        section) if n not in built})
                if unbuilt:
                    wrong.append(f"this section runs {', '.join(unbuilt)}, which it does not build")
            # "`make run` starts X", "`make run`'s server": X must be the program it starts.
            if re.search(r"`make run`(?:'s\s+server|\s+(?:builds\s+and\s+)?starts|\s+serves)",
                         sentence):
                scope = item if "`make run`'s" in sentence else sentence
                others = sorted({n for n in re.findall(names, scope) if n != program})
                if others:
                    wrong.append(f"the text has it run {', '.join(others)}")
                said = re.search(r"\bchapter\s+(\d\d)\b", sentence)
                if said and chapter and said.group(1) != chapter:
                    wrong.append(f"the text has it run chapter {said.group(1)}'s server")
            if wrong:
                r.bad(where, f"`make run` builds {', '.join(sorted(built))} and starts {started} "
                      f"(chapter {chapter}) only; " + "; ".join(wrong))
            else:
                r.ok()
    r.finish("mentions of make run")


# ---------------------------------------------------------------------------------------------
# BinariesAreTargets


def binaries_are_targets() -> None:
    r = Report("BinariesAreTargets")
    targets = executables()
    for doc in DOCS:
        for m in re.finditer(r"(?<![\w/.$-])avant(?:-[a-z0-9]+)+", doc.text):
            name = m.group(0)
            after = doc.text[m.end():m.end() + 2]
            if after[:1] == "-" or after[:1] == "*":  # avant-micro-*, avant-micro-<module>
                ok = any(t.startswith(name + "-") for t in targets)
            elif re.match(r"\.[a-z]", after):
                continue  # a file name (avant-x.log)
            else:
                ok = name in targets
            if ok:
                r.ok()
            else:
                r.bad(doc.where(m.start()), f"`{name}`: no add_executable({name} ...) in any "
                      "CMakeLists.txt")
    r.finish("program names")


# ---------------------------------------------------------------------------------------------
# The build tree: its tests and their labels


class Tree:
    def __init__(self, build_dir: str, ctest: str):
        self.dir = pathlib.Path(build_dir)
        self.error = None
        self.tests = []  # (index, name, labels)
        if not (self.dir / "CTestTestfile.cmake").exists():
            self.error = (f"{self.dir} is not a configured build tree (no CTestTestfile.cmake): "
                          "configure and build it first (cmake --preset default && "
                          "cmake --build --preset default)")
            return
        done = subprocess.run([ctest, "--test-dir", str(self.dir), "--show-only=json-v1"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            self.error = f"ctest --show-only=json-v1 failed in {self.dir}:\n{done.stderr}"
            return
        for i, test in enumerate(json.loads(done.stdout).get("tests", []), 1):
            labels = next((p["value"] for p in test.get("properties", [])
                           if p["name"] == "LABELS"), [])
            self.tests.append((i, test["name"], list(labels)))
        names = [n for _, n, _ in self.tests]
        not_built = [n for n in names if n.endswith("_NOT_BUILT")]
        declared = set()  # the cases of every set(_<x>_tests ...) list of tests/repo/
        for listed in re.findall(r"set\(_\w+_tests([^)]*)\)",
                                 (ROOT / "tests/repo/CMakeLists.txt").read_text()):
            declared.update(re.findall(r"\b[A-Z]\w+\b", listed))
        registered = {n.split(".", 2)[2] for n in names if n.startswith("00.Repo.")}
        if not names:
            self.error = f"{self.dir} has no tests: build it first (cmake --build {self.dir})"
        elif not_built:
            self.error = (f"{self.dir} is not fully built ({', '.join(not_built[:3])}): "
                          f"cmake --build {self.dir} first, then run the tests again")
        elif registered != declared:
            self.error = (f"{self.dir} was configured before tests/repo/CMakeLists.txt changed "
                          f"(00.Repo tests registered: {len(registered)}, declared: "
                          f"{len(declared)}): cmake --build {self.dir} reconfigures it")
        self.names = set(names)
        self.index = {n: i for i, n, _ in self.tests}
        self.suites = {}  # "NN.Suite" -> set of cases
        for n in names:
            parts = n.split(".", 2)
            if len(parts) == 3:
                self.suites.setdefault(f"{parts[0]}.{parts[1]}", set()).add(parts[2])
        self.has_bench = any(n.startswith("00.Bench.") for n in names)
        if not self.has_bench:  # AVANT_BUILD_BENCH=OFF (asan, tsan): read bench/'s declarations
            for name in cmake_lists():
                if name.startswith("bench/"):
                    for m in re.finditer(r"add_test\(\s*NAME\s+(00\.Bench\.\w+)",
                                         (ROOT / name).read_text()):
                        self.names.add(m.group(1))
                        self.suites.setdefault("00.Bench", set()).add(m.group(1).split(".")[2])

    def count(self, chapter: str, kind: str | None = None) -> int:
        return sum(1 for _, _, labels in self.tests
                   if f"ch{chapter}" in labels and (kind is None or kind in labels))

    def require(self) -> None:
        if self.error:
            print("FAIL:", self.error)
            sys.exit(1)


# ---------------------------------------------------------------------------------------------
# TestNamesExist

FULL_NAME = re.compile(r"(?<![\w.])(\d\d)\.([A-Z]\w*)(?:\.([A-Z]\w*|\*))?(\.\.\.|\*)?")
SHORT_NAME = re.compile(r"(?<![\w.:/>-])(\.\.\.)?([A-Z][A-Za-z0-9]*)\.([A-Z]\w*|\*)(\.\.\.)?")


def source_words() -> set[str]:
    words = set()
    for name in FILES:
        if re.search(r"\.(cpp|hpp|h|c|py|cmake)$|CMakeLists\.txt$", name):
            words.update(re.findall(r"\w+", (ROOT / name).read_text(errors="replace")))
    return words


def test_names_exist(tree: Tree) -> None:
    tree.require()
    r = Report("TestNamesExist")
    short_suites = {}
    for full, cases in tree.suites.items():
        short_suites.setdefault(full.split(".", 1)[1], set()).update(cases)
    words = source_words()
    for doc in DOCS:
        for m in FULL_NAME.finditer(doc.text):
            nn, suite, case, dots = m.groups()
            where, full_suite = doc.where(m.start()), f"{nn}.{suite}"
            if full_suite not in tree.suites:
                r.bad(where, f"`{m.group(0)}`: no suite {full_suite} in {tree.dir} "
                      f"(chapter {nn} has: {', '.join(sorted(s.split('.')[1] for s in tree.suites if s.startswith(nn + '.')))})")
            elif case is None or case == "*":
                r.ok()
            elif dots:
                if any(c.startswith(case) for c in tree.suites[full_suite]):
                    r.ok()
                else:
                    r.bad(where, f"`{m.group(0)}`: no test of {full_suite} starts with {case}")
            elif f"{full_suite}.{case}" in tree.names:
                r.ok()
            else:
                r.bad(where, f"`{m.group(0)}`: no such test in {tree.dir}")
        for m in SHORT_NAME.finditer(doc.text):
            lead, suite, case, dots = m.groups()
            if suite not in short_suites:
                continue
            where, cases = doc.where(m.start()), short_suites[suite]
            if case == "*":
                r.ok()
            elif (dots or lead) and any((case in c) if lead else c.startswith(case)
                                        for c in cases):
                r.ok()
            elif case in cases:
                r.ok()
            else:
                r.bad(where, f"`{m.group(0)}`: suite {suite} has no test {case}")
        for base, text in doc.spans:
            for m in re.finditer(r"(?<![\w.:])([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*){3,})(?![\w.(:])",
                                 text):
                name = m.group(1)
                if len(name) < 16:
                    continue
                if name in words:
                    r.ok()
                else:
                    r.bad(doc.where(base + m.start()),
                          f"`{name}`: names no test and nothing in the sources")
    r.finish("test names")


# ---------------------------------------------------------------------------------------------
# TestCountsMatch


def ctest_percent(passed: int, total: int) -> int:
    """The percentage ctest prints: rounded half up, and never 100 while a test failed."""
    percent = passed * 100.0 / total if total else 0
    if passed != total and percent > 99:
        percent = 99
    return math.floor(percent + 0.5)


def test_counts_match(tree: Tree) -> None:
    tree.require()
    r = Report("TestCountsMatch")

    def expect(doc, offset, what, written, actual):
        if written == actual:
            r.ok()
        else:
            r.bad(doc.where(offset), f"{what}: the text says {written}, {tree.dir} has {actual}")

    names = [n for _, n, _ in tree.tests]
    for doc in DOCS:
        t, nn = doc.text, doc.chapter
        for m in re.finditer(r"\b(?:[Tt]he|[Aa]ll)\s+(\d+)\s+tests\s+of\s+chapter\s+(\d\d)\b", t):
            expect(doc, m.start(), f"tests of chapter {m.group(2)}", int(m.group(1)),
                   tree.count(m.group(2)))
        for m in re.finditer(r"\bchapter\s+(\d\d)'s\s+(\d+)\b", t):
            expect(doc, m.start(), f"tests of chapter {m.group(1)}", int(m.group(2)),
                   tree.count(m.group(1)))
        for m in re.finditer(r"(\d+)\s+tests?\s*\(`-R\s+'?([^`']+?)'?`\)", t):
            regex = m.group(2)
            expect(doc, m.start(), f"tests matching -R {regex}", int(m.group(1)),
                   sum(1 for n in names if re.search(regex, n)))
        if nn is None:
            continue
        total = tree.count(nn)
        for m in re.finditer(r"\b[Aa]ll\s+(\d+)\s+tests\b(?!\s+of\s+chapter)|\bpass(?:es)?\s+all\s+"
                             r"(\d+)\b", t):
            expect(doc, m.start(), f"tests of chapter {nn}", int(m.group(1) or m.group(2)), total)
        for m in re.finditer(r"(\d+)%\s+tests\s+passed,\s+(\d+)\s+tests?\s+failed\s+out\s+of\s+"
                             r"(\d+)", t):
            percent, failed, out_of = (int(g) for g in m.groups())
            expect(doc, m.start(), f"ctest's 'out of' for chapter {nn}", out_of, total)
            if failed > out_of:
                r.bad(doc.where(m.start()), f"{failed} failed out of {out_of}")
            expect(doc, m.start(), f"ctest's percentage for {failed} failed of {out_of}",
                   percent, ctest_percent(out_of - failed, out_of))
        for start, block in doc.blocks:
            for m in re.finditer(r"^\s*(ch\d\d|" + "|".join(KINDS) +
                                 r")\s+=\s+[\d.]+\s+sec\*proc\s+\((\d+)\s+tests?\)", block, re.M):
                label = m.group(1)
                actual = tree.count(label[2:]) if label.startswith("ch") else tree.count(nn, label)
                expect(doc, start + m.start(), f"Label Time Summary '{label}' of chapter {nn}",
                       int(m.group(2)), actual)
        for m in re.finditer(r"(?<![\w.-])(\d+)\s+(" + "|".join(KINDS) + r")\s+tests?\b", t):
            expect(doc, m.start(), f"{m.group(2)} tests of chapter {nn}", int(m.group(1)),
                   tree.count(nn, m.group(2)))
        last_fail = None
        for m in re.finditer(r"\bfails\s+(\d+)\s+of\s+(?:the\s+chapter's\s+)?(\d+)\b|"
                             r"\b(fails|pass)\s+(\d+)/(\d+)|\bThe\s+(\d+)\s+that\s+pass\b", t):
            if m.group(1):
                failed, out_of = int(m.group(1)), int(m.group(2))
                last_fail = (failed, out_of)
                expect(doc, m.start(), f"tests of chapter {nn} (the starter's total)", out_of, total)
                if failed > out_of:
                    r.bad(doc.where(m.start()), f"fails {failed} of {out_of}")
            elif m.group(3):
                n, out_of = int(m.group(4)), int(m.group(5))
                expect(doc, m.start(), f"labs/check's total for chapter {nn}", out_of, total)
                if m.group(3) == "pass":
                    expect(doc, m.start(), "labs/check's 'pass n/n'", n, out_of)
            elif last_fail:
                expect(doc, m.start(), "the tests the starter passes", int(m.group(6)),
                       last_fail[1] - last_fail[0])
        if not tree.has_bench:
            continue
        first = min((i for i, _, labels in tree.tests if f"ch{nn}" in labels), default=None)
        for m in re.finditer(r"\bNumbers\s+start\s+at\s+(\d+)\b", t):
            expect(doc, m.start(), f"the number of chapter {nn}'s first test", int(m.group(1)),
                   first)
        for start, block in doc.blocks:
            for m in re.finditer(r"^\s*(\d+)\s+-\s+(\d\d\.\w+\.\w+)", block, re.M):
                name = m.group(2)
                if name in tree.index:
                    expect(doc, start + m.start(), f"ctest's number of {name}", int(m.group(1)),
                           tree.index[name])
    r.finish("test counts")


# ---------------------------------------------------------------------------------------------
# ReferenceSizesMatch


def reference_sizes_match() -> None:
    r = Report("ReferenceSizesMatch")
    for doc in DOCS:
        if not doc.name.startswith("labs/") or doc.chapter is None:
            continue
        starter = sorted(glob.glob(str(ROOT / "labs" / f"{doc.chapter}-*" / "starter")))
        if not starter:
            continue
        replaced = {p.name: p.relative_to(starter[0]) for p in pathlib.Path(starter[0]).rglob("*")
                    if p.is_file()}
        for m in re.finditer(r"(?:Sizes of the reference|The reference)\b(.*?)(?:\.\s*\n|\.\s+[A-Z])",
                             doc.masked, re.S):
            sentence, base = m.group(1), m.start(1)
            for s in re.finditer(r"`([\w.]+\.(?:cpp|c|hpp))`[^`\d]*?(about\s+)?(\d+)", sentence):
                name, about, written = s.group(1), s.group(2), int(s.group(3))
                if name not in replaced:
                    r.bad(doc.where(base + s.start()), f"`{name}` is not a file of the starter")
                    continue
                reference = ROOT / replaced[name]
                lines = reference.read_text().count("\n")
                ok = (abs(lines - written) <= 0.1 * lines) if about else lines == written
                if ok:
                    r.ok()
                else:
                    r.bad(doc.where(base + s.start()),
                          f"`{name}` {'about ' if about else ''}{written} lines: "
                          f"wc -l {replaced[name]} says {lines}")
    r.finish("reference sizes")


# ---------------------------------------------------------------------------------------------
# NoDanglingReferences

OUTSIDE = re.compile(r"DESIGN\.md|DESIGN\s*§|ORIGINAL\.md|(?:\.\.|/work)/shared\b", re.I)
DOCS_PATH = re.compile(r"(?<![\w/.-])(docs/[\w.*<>/-]+?\.md)(#[\w-]+|,\s*\"([^\"]+)\")?")
THIS_FILE = "tests/repo/words_test.py"


def comment_style(name: str, text: str) -> str | None:
    """'//' for C and C++, '#' for CMake, shell, Python, Makefile and Dockerfile; None otherwise."""
    base = pathlib.PurePath(name).name
    if re.search(r"\.(cpp|hpp|h|c|cc|hh)$", base):
        return "//"
    if (re.search(r"\.(cmake|sh|py|bash)$", base) or base in ("CMakeLists.txt", "Makefile",
                                                               "Dockerfile")
            or re.match(r"#!.*\b(ba)?sh\b|#!.*\bpython", text)):
        return "#"
    return None


def comments(text: str, style: str):
    """(line number, comment text) of every comment: the rest of a line after `//` or `#` (not
    inside a quoted string on that line, as far as quotes can tell), and C block comments."""
    in_block = False
    for number, line in enumerate(text.splitlines(), 1):
        if style == "//":
            rest, out = line, []
            while rest:
                if in_block:
                    end = rest.find("*/")
                    out.append(rest if end < 0 else rest[:end])
                    if end < 0:
                        break
                    in_block, rest = False, rest[end + 2:]
                    continue
                code = re.sub(r'"(?:\\.|[^"\\])*"', lambda m: " " * len(m.group(0)), rest)
                slash, block = code.find("//"), code.find("/*")
                if slash >= 0 and (block < 0 or slash < block):
                    out.append(rest[slash + 2:])
                    break
                if block < 0:
                    break
                in_block, rest = True, rest[block + 2:]
            if out:
                yield number, " ".join(out)
        else:
            code = re.sub(r"\"(?:\\.|[^\"\\])*\"|'[^']*'", lambda m: " " * len(m.group(0)), line)
            m = re.search(r"(?:^|\s)#", code)
            if m:
                yield number, line[m.end():]


def no_dangling_references() -> None:
    r = Report("NoDanglingReferences")
    for name in FILES:
        if name == THIS_FILE:
            continue
        data = (ROOT / name).read_bytes()
        if b"\0" in data:
            continue  # binary
        text = data.decode(errors="replace")
        found = False
        for number, line in enumerate(text.splitlines(), 1):
            for m in OUTSIDE.finditer(line):
                found = True
                r.bad(f"{name}:{number}", f"`{m.group(0)}` points outside the repository: name "
                      "the file of docs/ (or the README) that holds the fact, adding it there")
        if not found:
            r.ok()
        if name.endswith(".md"):
            doc = Doc(name)
            for m in re.finditer(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", doc.prose):
                target = m.group(1)
                if re.match(r"[a-z][a-z0-9+.-]*:", target):
                    continue  # a URL
                path = target.partition("#")[0]
                if not path or (ROOT / doc.dir / path).exists():
                    r.ok()
                else:
                    r.bad(doc.where(m.start()), f"link to {target}: {path} does not exist")
            continue
        style = comment_style(name, text)
        if style is None:
            continue
        for number, comment in comments(text, style):
            for m in DOCS_PATH.finditer(comment):
                path, anchor, heading = m.group(1), m.group(2), m.group(3)
                where = f"{name}:{number}"
                if not exists(as_glob(path)):
                    r.bad(where, f"the comment names {path}, which does not exist")
                    continue
                if anchor and anchor.startswith("#") and anchor[1:] not in anchors(ROOT / path):
                    r.bad(where, f"the comment names {path}{anchor}: no heading with that anchor "
                          f"in {path}")
                    continue
                if heading and slug(heading) not in anchors(ROOT / path):
                    r.bad(where, f"the comment names {path}, \"{heading}\": no such heading in "
                          f"{path}")
                    continue
                r.ok()
    r.finish("references")


CASES = {
    "LinksResolve": lambda tree: links_resolve(),
    "PathsExist": lambda tree: paths_exist(),
    "MakeTargetsExist": lambda tree: make_targets_exist(),
    "PresetsExist": lambda tree: presets_exist(),
    "MakeRunStartsWhatTheTextSays": lambda tree: make_run_starts_what_the_text_says(),
    "BinariesAreTargets": lambda tree: binaries_are_targets(),
    "TestNamesExist": test_names_exist,
    "TestCountsMatch": test_counts_match,
    "ReferenceSizesMatch": lambda tree: reference_sizes_match(),
    "NoDanglingReferences": lambda tree: no_dangling_references(),
}

if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in CASES:
        print(f"usage: words_test.py {{{'|'.join(CASES)}}} BUILD_DIR [CTEST]")
        sys.exit(2)
    case, build_dir = sys.argv[1], sys.argv[2]
    ctest = sys.argv[3] if len(sys.argv) == 4 else "ctest"
    tree = Tree(build_dir, ctest) if case in ("TestNamesExist", "TestCountsMatch") else None
    CASES[case](tree)
