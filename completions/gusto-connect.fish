# gusto-connect.fish - fish completion for gusto-connect.  The program itself
# answers (`gusto-connect __complete WORDS... CURRENT`): commands, options,
# their values and stored connection names.  Install it as
# /usr/share/fish/vendor_completions.d/gusto-connect.fish (make install does).

function __gusto_connect_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    for line in ($words[1] __complete $words[2..-1] "$cur" 2>/dev/null)
        if test "$line" = ":file"
            __fish_complete_path "$cur"
        else
            echo $line
        end
    end
end

complete -c gusto-connect -f -a '(__gusto_connect_complete)'
