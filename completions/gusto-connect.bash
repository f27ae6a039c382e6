# gusto-connect.bash - bash completion for gusto-connect.  The program itself
# answers (`gusto-connect __complete WORDS... CURRENT`), so commands, options,
# their values and stored connection names are always those of the installed
# version.  Source it, or install it as
# /usr/share/bash-completion/completions/gusto-connect (make install does).

_gusto_connect()
{
    local cur=${COMP_WORDS[COMP_CWORD]} line files=0
    local -a cands=()
    while IFS= read -r line; do
        if [[ $line == :file ]]; then files=1; else cands+=("$line"); fi
    done < <("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)
    COMPREPLY=("${cands[@]}")
    if ((files)); then
        local f
        while IFS= read -r f; do COMPREPLY+=("$f"); done < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
    fi
}

complete -F _gusto_connect gusto-connect
