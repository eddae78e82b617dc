"""Stage 4: format the generated C++ with clang-format, all files in one call.

Formatting is for the people who read generated code (in a debugger, in a
compile error); the compiler does not care. So it happens only when a
clang-format program was found, and the same input always gives the same
output for one clang-format version.
"""

import os
import shutil
import subprocess
import tempfile


class FormatError(Exception):
    pass


def format_all(files, program, style_file):
    """files: {path: text}. Returns {path: formatted text}, in the same order.

    The texts are written under a temporary folder that holds a copy of the
    style file, then formatted in place by one clang-format process: starting
    one process per file would cost more than the formatting itself.
    """
    with tempfile.TemporaryDirectory(prefix="kwire-gen-") as tmp:
        if style_file:
            shutil.copyfile(style_file, os.path.join(tmp, ".clang-format"))
        names = []
        for i, (path, text) in enumerate(files.items()):
            # Keep the extension: clang-format picks the language from it.
            name = os.path.join(tmp, f"{i:04d}_{os.path.basename(path)}")
            with open(name, "w", encoding="utf-8") as f:
                f.write(text)
            names.append(name)
        style = "file" if style_file else "Google"
        try:
            done = subprocess.run([program, "-i", f"--style={style}", *names],
                                  capture_output=True, text=True, cwd=tmp)
        except OSError as e:
            raise FormatError(f"cannot run {program}: {e}") from None
        if done.returncode != 0:
            raise FormatError(f"{program} failed ({done.returncode}): {done.stderr.strip()[:2000]}")
        out = {}
        for name, path in zip(names, files):
            with open(name, encoding="utf-8") as f:
                out[path] = f.read()
        return out
