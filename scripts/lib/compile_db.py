"""Reading build/compile_commands.json, for the checks that run a tool over the build's sources
with the flags the build gives them (check-tidy.sh, check-thread-safety.sh)."""
import json
import os
import shlex


def load(db_path):
    """The entries of the compilation database, by the source's real path."""
    entries = {}
    for entry in json.load(open(db_path)):
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        entries.setdefault(path, entry)
    return entries


def _arguments(entry):
    """The entry's command line as a list (databases give "arguments" or a "command" string)."""
    return entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])


def flags(entry):
    """The entry's compiler flags: without the compiler, the output (-o FILE), -c and the
    source itself."""
    out, skip = [], False
    for a in _arguments(entry)[1:]:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a != "-c" and a != entry["file"]:
            out.append(a)
    return out


def compiler(entry):
    """The compiler the entry runs."""
    return _arguments(entry)[0]
