"""Bash completion for camctl and camtune, generated from their own argument parsers (so it never drifts).

    python -m firmware.camctl.completion camctl          the script, on stdout
    python -m firmware.camctl.completion install DIR     camctl's and camtune's scripts into DIR
                                             [--staged: DIR is an image's, under a prefix]

It completes subcommands, each one's options, the choices of options and positional arguments, look names
after ``--look``, file names where a command takes files, and for ``camctl set``/``get`` the setting keys and
their values. Bash splits ``look=leica`` into three words at ``=`` (``=`` is in ``COMP_WORDBREAKS``), so the
script reads the key two words back and offers only the value, as readline replaces only the text after ``=``.

Debian's bash-completion (2.11, Debian 12 and Raspberry Pi OS) loads a command's completion on first use from
``~/.local/share/bash-completion/completions`` and ``$XDG_DATA_DIRS/bash-completion/completions``
(``/usr/local/share`` and ``/usr/share``), never from a directory beside a command on ``PATH``: install.sh puts
the scripts in ``/usr/share/bash-completion/completions`` on the camera, and in a host's venv prints the one
line that loads them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Options whose value is a path: complete file names after them.
_PATH_OPTIONS = {"-o", "--output", "--socket", "--config", "--base", "--report", "--keep", "--reports", "--tuning"}


def _words(items) -> str:
    return " ".join(sorted(set(items)))


def _options(parser: argparse.ArgumentParser) -> tuple[list[str], dict[str, list[str]], set[str]]:
    """(option strings, choices by option, options that take a value)."""
    opts, choices, valued = [], {}, set()
    for action in parser._actions:  # argparse exposes no public walk of its actions
        for flag in action.option_strings:
            opts.append(flag)
            if action.nargs != 0:
                valued.add(flag)
                if action.choices:
                    choices[flag] = [str(c) for c in action.choices]
    return opts, choices, valued


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _positionals(parser: argparse.ArgumentParser) -> tuple[list[str], bool]:
    """(choices of positional arguments, whether a positional takes free text such as a file)."""
    words, free = [], False
    for action in parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        if action.choices:
            words += [str(c) for c in action.choices]
        else:
            free = True
    return words, free


_PROLOGUE = r'''
    local cword=$COMP_CWORD cur="${COMP_WORDS[COMP_CWORD]}" prev="" key="" eq=""
    ((cword > 0)) && prev="${COMP_WORDS[cword-1]}"
    # KEY=VALUE and --opt=VALUE: bash splits at "=" (COMP_WORDBREAKS), readline replaces the text after it.
    if [[ $cur == "=" ]]; then key="$prev"; cur=""
    elif [[ $prev == "=" ]] && ((cword > 1)); then key="${COMP_WORDS[cword-2]}"
    elif [[ $cur == *=* ]]; then key="${cur%%=*}"; eq="$key="; cur="${cur#*=}"
    fi
    local cmd="" i=1 w
    while ((i < cword)); do
        w="${COMP_WORDS[i]}"
        if [[ $w == -* ]]; then
            if [[ "${COMP_WORDS[i+1]}" == "=" ]]; then ((i += 3)); continue; fi
            case "$w" in
                __VALUED__) ((i += 2)); continue ;;
            esac
        elif [[ $w != "=" && -z $cmd ]]; then
            cmd="$w"; break
        fi
        ((i++))
    done
    local opt="$key"
    [[ -z $key && $prev == -* ]] && opt="$prev"
'''


def bash_script(prog: str, parser: argparse.ArgumentParser, key_values: dict[str, list[str]] | None = None,
                option_values: dict[str, list[str]] | None = None) -> str:
    """A bash completion script for ``prog``. ``key_values`` completes ``KEY=VALUE`` words (camctl set) and
    ``KEY`` words (camctl get); ``option_values`` the values of options without choices (``--look``)."""
    fn = "_" + prog.replace("-", "_")
    top_opts, top_choices, top_valued = _options(parser)
    subs = _subcommands(parser)
    valued = set(top_valued)
    cases = []
    choice_cases = {f"*:{flag}": values for flag, values in top_choices.items()}
    for name, sub in subs.items():
        opts, choices, sub_valued = _options(sub)
        valued |= sub_valued
        choice_cases.update({f"{name}:{flag}": values for flag, values in choices.items()})
        for flag, values in (option_values or {}).items():
            if flag in sub_valued and flag not in choices:
                choice_cases[f"{name}:{flag}"] = values
        pos, free = _positionals(sub)
        setting = bool(key_values) and name in ("set", "get")
        args = _words(pos + ([f"{k}=" for k in key_values] if setting and name == "set" else [])
                      + (list(key_values) if setting and name == "get" else []))
        files = 0 if setting or not free else 1
        cases.append(f'        {name}) opts="{_words(opts)}"; args="{args}"; files={files} ;;')
    lines = [
        f"# bash completion for {prog}, generated from its argument parser by",
        f"#   python -m firmware.camctl.completion {prog}",
        f"{fn}() {{",
        *_PROLOGUE.strip("\n").replace("__VALUED__", "|".join(sorted(valued)) or "--never--").splitlines(),
        '    case "$cmd:$opt" in',
    ]
    for flag, values in sorted(choice_cases.items()):
        lines.append(f'        {flag}) COMPREPLY=($(compgen -P "$eq" -W "{_words(values)}" -- "$cur")); return ;;')
    paths = sorted(valued & _PATH_OPTIONS)
    if paths:
        lines.append(f'        {"|".join("*:" + p for p in paths)}) compopt -o filenames 2>/dev/null; '
                     'COMPREPLY=($(compgen -P "$eq" -f -- "$cur")); return ;;')
    valued_any = "|".join(f"*:{flag}" for flag in sorted(valued))
    lines.append(f"        {valued_any}) return ;;  # a value camctl cannot guess (a number, a name)")
    lines.append("    esac")
    if key_values:
        lines.append('    if [[ $cmd == set && -n $key ]]; then')
        lines.append('        case "$key" in')
        for key, values in key_values.items():
            if values:
                lines.append(f'            {key}) COMPREPLY=($(compgen -P "$eq" -W "{_words(values)}" -- "$cur")) ;;')
        lines.append("        esac")
        lines.append("        return")
        lines.append("    fi")
    lines += [
        '    [[ -n $key ]] && return',
        '    local opts args files',
        '    case "$cmd" in',
        f'        "") opts="{_words(top_opts)}"; args="{_words(subs)}"; files=0 ;;',
        *cases,
        "        *) return ;;",
        "    esac",
        '    # Options when the word starts with "-" (or nothing else fits here), else commands, keys, choices, files.',
        '    if [[ $cur == -* || ( -z $args && $files == 0 ) ]]; then',
        '        COMPREPLY=($(compgen -W "$opts" -- "$cur")); return',
        "    fi",
        '    COMPREPLY=($(compgen -W "$args" -- "$cur"))',
        '    if [[ $files == 1 ]]; then',
        '        compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- "$cur"))',
        "    fi",
        '    if [[ ${#COMPREPLY[@]} == 1 && "${COMPREPLY[0]}" == *= ]]; then compopt -o nospace 2>/dev/null; fi',
        "}",
        f"complete -F {fn} {prog}",
        "",
    ]
    return "\n".join(lines)


def _looks() -> list[str]:
    """The installed looks, read without importing the tuning code (and numpy): it may not be installed yet."""
    from .. import paths

    return sorted(p.stem for p in (paths.tuning_dir() / "looks").glob("*.json"))


def camctl_script() -> str:
    from ..actions import DenoiseMode, DriveMode
    from ..sensor.controls import AWB_MODES
    from ..control.protocol import SETTING_KEYS
    from .cli import build_parser

    looks = _looks()
    values = {k: [] for k in SETTING_KEYS}
    values.update(exposure=["auto", "1/1000", "1/250", "1/60", "10ms"], gain=["auto", "1", "2", "4", "8"],
                  colour_gains=["auto"], awb=list(AWB_MODES),
                  look=looks, denoise=[m.value for m in DenoiseMode],
                  drive_mode=[m.value for m in DriveMode], raw=["on", "off"])
    return bash_script("camctl", build_parser(), values, {"--look": looks})


def camtune_script() -> str:
    from ..camtune.cli import build_parser

    return bash_script("camtune", build_parser(), option_values={"--look": _looks()})


# Where Debian's bash-completion looks for a command's completion (its __load_completion).
def searched_dirs() -> list[Path]:
    user = os.environ.get("BASH_COMPLETION_USER_DIR") or str(
        Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "bash-completion")
    data = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [Path(user) / "completions"] + [Path(d) / "bash-completion" / "completions" for d in data.split(":") if d]


def install(directory: Path, *, staged: bool = False) -> list[str]:
    """Write both scripts into ``directory``; the lines to tell the user (the one line to add to ``~/.bashrc``
    when bash-completion does not look there, unless ``staged``: an image's ``/usr/share`` under a prefix)."""
    directory.mkdir(parents=True, exist_ok=True)
    said = []
    for prog, make in (("camctl", camctl_script), ("camtune", camtune_script)):
        path = directory / prog
        text = make()
        if path.is_file() and path.read_text() == text:
            said.append(f"up to date: {path}")
            continue
        tmp = path.with_name(f".{prog}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
        said.append(f"bash completion: {path}")
    resolved = directory.resolve()
    if not staged and not any(d.resolve() == resolved for d in searched_dirs() if d.exists()):
        said.append(f"bash-completion does not look in {directory}; add this line to ~/.bashrc:")
        said.append(f'  for f in {resolved}/camctl {resolved}/camtune; do . "$f"; done')
    return said


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["install"] and len(args) in (2, 3) and args[2:] in ([], ["--staged"]):
        print("\n".join(install(Path(args[1]), staged=args[2:] == ["--staged"])))
        return 0
    if args not in (["camctl"], ["camtune"]):
        print("usage: python -m firmware.camctl.completion camctl|camtune|install DIR [--staged]", file=sys.stderr)
        return 2
    sys.stdout.write(camctl_script() if args[0] == "camctl" else camtune_script())
    return 0


if __name__ == "__main__":
    sys.exit(main())
