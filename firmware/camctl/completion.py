"""Bash completion for camctl and camtune, generated from their own argument parsers (so it never drifts).

    python -m firmware.camctl.completion camctl > /usr/share/bash-completion/completions/camctl
    python -m firmware.camctl.completion camtune > /usr/share/bash-completion/completions/camtune

It completes subcommands, each one's options, the choices of options and positional arguments, file names
where a command takes files, and for ``camctl set``/``get`` the setting keys and their values.
"""

from __future__ import annotations

import argparse
import sys

# Options whose value is a path: complete file names after them.
_PATH_OPTIONS = {"-o", "--output", "--socket", "--config", "--base", "--report", "--keep", "--reports"}


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


def bash_script(prog: str, parser: argparse.ArgumentParser, key_values: dict[str, list[str]] | None = None) -> str:
    """A bash completion script for ``prog``; ``key_values`` completes ``KEY=VALUE`` words (camctl set)."""
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
        pos, free = _positionals(sub)
        words = _words(opts + pos + ([f"{k}=" for k in key_values] if key_values and name == "set" else [])
                       + (list(key_values) if key_values and name == "get" else []))
        files = "1" if free and not (key_values and name in ("set", "get")) else "0"
        cases.append(f'        {name}) words="{words}"; files={files} ;;')
    lines = [
        f"# bash completion for {prog}, generated from its argument parser by",
        f"#   python -m firmware.camctl.completion {prog}",
        f"{fn}() {{",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local cmd="" i words files=0',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        case "${COMP_WORDS[i]}" in',
        f"            {'|'.join(sorted(valued)) or '--never--'}) ((i++)) ;;",
        "            -*) ;;",
        '            *) cmd="${COMP_WORDS[i]}"; break ;;',
        "        esac",
        "    done",
        '    case "$cmd:$prev" in',
    ]
    for flag, values in sorted(choice_cases.items()):
        lines.append(f'        {flag}) COMPREPLY=($(compgen -W "{_words(values)}" -- "$cur")); return ;;')
    paths = sorted(valued & _PATH_OPTIONS)
    if paths:
        lines.append(f'        {"|".join("*:" + p for p in paths)}) COMPREPLY=($(compgen -f -- "$cur")); return ;;')
    lines.append("    esac")
    if key_values:
        lines.append('    if [[ "$cmd" == set && "$cur" == *=* ]]; then')
        lines.append('        case "${cur%%=*}" in')
        for key, values in key_values.items():
            if values:
                lines.append(f'            {key}) COMPREPLY=($(compgen -P "${{cur%%=*}}=" -W "{_words(values)}" '
                             f'-- "${{cur#*=}}")); return ;;')
        lines.append("        esac")
        lines.append("        return")
        lines.append("    fi")
    lines += [
        '    case "$cmd" in',
        f'        "") COMPREPLY=($(compgen -W "{_words(list(subs) + top_opts)}" -- "$cur")); return ;;',
        *cases,
        "        *) return ;;",
        "    esac",
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        '    if [[ $files == 1 && "$cur" != -* ]]; then COMPREPLY+=($(compgen -f -- "$cur")); fi',
        '    if [[ ${#COMPREPLY[@]} == 1 && "${COMPREPLY[0]}" == *= ]]; then compopt -o nospace 2>/dev/null; fi',
        "}",
        f"complete -F {fn} {prog}",
        "",
    ]
    return "\n".join(lines)


def camctl_script() -> str:
    from .. import paths
    from ..actions import DenoiseMode, DriveMode
    from ..control.protocol import SETTING_KEYS
    from .cli import build_parser

    # The installed looks, read without importing the tuning code (and numpy): it may not be installed yet.
    looks = sorted(p.stem for p in (paths.tuning_dir() / "looks").glob("*.json"))

    values = {k: [] for k in SETTING_KEYS}
    values.update(exposure=["auto", "1/1000", "1/250", "1/60", "10ms"], gain=["auto", "1", "2", "4", "8"],
                  colour_gains=["auto"], awb=["auto", "incandescent", "tungsten", "fluorescent", "indoor", "daylight",
                                              "cloudy", "custom"],
                  look=looks, denoise=[m.value for m in DenoiseMode],
                  drive_mode=[m.value for m in DriveMode], raw=["on", "off"])
    return bash_script("camctl", build_parser(), values)


def camtune_script() -> str:
    from ..camtune.cli import build_parser

    return bash_script("camtune", build_parser())


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["camctl"], ["camtune"]):
        print("usage: python -m firmware.camctl.completion camctl|camtune", file=sys.stderr)
        return 2
    sys.stdout.write(camctl_script() if args[0] == "camctl" else camtune_script())
    return 0


if __name__ == "__main__":
    sys.exit(main())
