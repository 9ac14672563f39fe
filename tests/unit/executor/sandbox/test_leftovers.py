"""Real sandboxed code booby-traps its scratch folder before it ends: the worker's
collection must not read outside the folder, block, or fail because of it."""

from __future__ import annotations

import json
import textwrap

import pytest

from executor.sandbox import Limits, SandboxResult
from executor.sandbox.aws_lambda import handle_invocation
from tests.support.sandbox import Outside, RunCode

# What the code does (OUTSIDE is the folder of secrets) → a note that must come back, if
# the trap could be set at all ("" when the kernel may refuse to set it).
TRAPS: dict[str, tuple[str, str]] = {
    "out is a symlink to a folder outside": (
        "os.rmdir('out')\nos.symlink(OUTSIDE, 'out')",
        "out: a symlink, not followed",
    ),
    "out is a symlink to /tmp": (
        "os.rmdir('out')\nos.symlink('/tmp', 'out')",
        "out: a symlink, not followed",
    ),
    "a file in out is a symlink": (
        "os.symlink(OUTSIDE + '/secret.txt', 'out/x.txt')",
        "out/x.txt: a symlink, not followed",
    ),
    "a folder two levels down is a symlink": (
        "os.makedirs('out/a')\nos.symlink(OUTSIDE, 'out/a/b')",
        "out/a/b: a symlink, not followed",
    ),
    "the figures folder is a symlink": (
        "os.symlink(OUTSIDE + '/figures', '.databot/figures')",
        "figures: a symlink, not followed",
    ),
    "a png in out is a symlink to a png outside": (
        "os.symlink(OUTSIDE + '/secret.png', 'out/chart.png')",
        "out/chart.png: a symlink, not followed",
    ),
    "the state folder is a symlink": (
        "import shutil\nshutil.rmtree('.databot')\nos.symlink(OUTSIDE, '.databot')",
        "",
    ),
    "the envelope is a symlink to one outside": (
        "os.symlink(OUTSIDE + '/envelope.json', '.databot/envelope.json')",
        "",
    ),
    "a hard link to a file outside": (
        "try:\n    os.link(OUTSIDE + '/secret.txt', 'out/h.txt')\nexcept OSError:\n    pass",
        "",
    ),
    "a hard link inside out": (
        "open('out/a.txt', 'w').write('a')\nos.link('out/a.txt', 'out/b.txt')",
        "out/a.txt: a hard link, not read",
    ),
    "a named pipe in out": ("os.mkfifo('out/pipe')", "out/pipe: a named pipe, not read"),
    "out is a named pipe": ("os.rmdir('out')\nos.mkfifo('out')", "out: a named pipe, not read"),
    "a unix socket in out": (
        "import socket\nsocket.socket(socket.AF_UNIX).bind('out/sock')",
        "out/sock: a socket, not read",
    ),
    "a device file in out": (
        "import stat\ntry:\n"
        "    os.mknod('out/null', stat.S_IFCHR | 0o600, os.makedev(1, 3))\n"
        "except OSError:\n    pass",
        "",
    ),
    "a name with a newline": (
        "open('out/a\\nb.txt', 'w').write('x')",
        "out/'a\\nb.txt': an unprintable or long name, left out",
    ),
}


def trap_code(body: str, outside: Outside) -> str:
    return f"import os\nOUTSIDE = {str(outside.path)!r}\n" + textwrap.dedent(body)


def notes_are_clean(result: SandboxResult) -> bool:
    return all(note.isprintable() for note in result.notes)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("trap", list(TRAPS))
def test_collection_stays_inside_the_scratch_folder(
    trap: str, outside: Outside, run_code: RunCode
) -> None:
    body, expected_note = TRAPS[trap]
    # GIVEN code that sets a trap in its scratch folder and ends
    # WHEN the worker collects what it left behind
    result = run_code(trap_code(body, outside) + "\nprint('trap set')")
    # THEN nothing from outside comes back, and the refusal is noted
    assert outside.leaked_into(result) == []
    assert notes_are_clean(result)
    if expected_note:
        assert result.ok, result.failure
        assert result.stdout == "trap set\n"
        assert expected_note in result.notes


@pytest.mark.timeout(60)
def test_the_lambda_function_collects_with_the_same_walker(outside: Outside) -> None:
    # GIVEN the sandbox function's event for code that points out/ outside
    body, expected_note = TRAPS["out is a symlink to a folder outside"]
    event = {"code": trap_code(body, outside)}
    # WHEN the function handles it
    answered = handle_invocation(event, remaining_s=30)
    # THEN its response holds no secret either
    result = SandboxResult.from_dict(json.loads(json.dumps(answered)))
    assert outside.leaked_into(result) == []
    assert expected_note in result.notes


@pytest.mark.timeout(60)
def test_an_envelope_that_is_a_named_pipe_blocks_nobody(run_code: RunCode) -> None:
    # GIVEN code that leaves a named pipe where its envelope goes (the child's own write
    # to it then waits for a reader that never comes)
    code = "import os\nos.mkfifo('.databot/envelope.json')"
    # WHEN it runs
    result = run_code(code, limits=Limits(wall_seconds=2))
    # THEN the run ends at its time limit and the worker does not wait on the pipe
    assert result.failure is not None and result.failure.kind == "timeout"
    assert result.elapsed_s < 10


def test_an_envelope_the_code_forged_is_only_data(run_code: RunCode) -> None:
    # GIVEN code that replaces the bootstrap's envelope with one of the wrong shapes
    code = textwrap.dedent("""
        import json, sys
        def forged(envelope):
            with open('.databot/envelope.json', 'w') as f:
                json.dump({'notes': 5, 'figure_titles': 'x', 'result': 1, 'failure': None}, f)
        sys.modules['__main__']._write_envelope = forged
    """)
    # WHEN it runs
    result = run_code(code)
    # THEN the worker reads what it can and ignores the rest
    assert result.ok, result.failure
    assert result.result == 1 and result.notes == []


def test_notes_the_code_writes_itself_are_capped(run_code: RunCode) -> None:
    # GIVEN code that leaves a hundred named pipes in out/
    code = "import os, sys\nfor i in range(100):\n    os.mkfifo(f'out/p{i:03}')\n"
    # WHEN it runs
    result = run_code(code)
    # THEN the notes are cut to a readable number
    assert result.ok, result.failure
    assert len(result.notes) == 21
    assert result.notes[0] == "out/p000: a named pipe, not read"
    assert result.notes[-1] == "80 more notes left out"
