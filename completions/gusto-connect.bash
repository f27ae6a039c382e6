# gusto-connect.bash - bash completion for the gusto-connect command: commands, subcommands,
# options and their values.  Source it, or install it as
# /usr/share/bash-completion/completions/gusto.
# shellcheck disable=SC2207  # COMPREPLY=($(compgen ...)) is the completion idiom

_gusto()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    local globals="--env --company --connection --store --token-stdin --api-version
        --timeout --retries --rate-limit --json --verbose -v --quiet -q --help -h --version"
    local global_valued="--env --company --connection --store --api-version --timeout
        --retries --rate-limit"
    local command_valued="--search --include --input --type --data --client-id --name
        --redirect-uri --idempotency-key --db --events --webhook --max-terminations
        --lease-ttl --worker --connections --email --config --port --bind --grant
        --base-url"

    # Values of the option just typed.
    case $prev in
        --env)
            COMPREPLY=($(compgen -W "demo production sandbox http://127.0.0.1:8080" -- "$cur"))
            return ;;
        --type)
            COMPREPLY=($(compgen -W "vacation sick all" -- "$cur"))
            return ;;
        --include)
            COMPREPLY=($(compgen -W "all_compensations all_home_addresses company_name
                current_home_address custom_fields portal_invitations" -- "$cur"))
            return ;;
        --input)
            COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "-" -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        --api-version)
            COMPREPLY=($(compgen -W "2025-11-15 2026-02-01 2026-06-15 2026-12-01" -- "$cur"))
            return ;;
        --store|--db)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --events)
            COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "-" -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        --webhook|--max-terminations|--lease-ttl|--worker|--connections|--email)
            return ;;
        --company|--timeout|--retries|--rate-limit|--search|--data|--connection|--client-id|--name|--redirect-uri|--idempotency-key)
            return ;;
        --wait)
            # connect --wait takes SECONDS; batch --wait is a flag
            [[ " ${COMP_WORDS[*]} " == *" connect "* ]] && return ;;
    esac

    # The command words typed so far, global options and values skipped.
    local words=() i w skip=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((skip)); then skip=0; continue; fi
        case " $global_valued $command_valued " in
            *" $w "*) skip=1; continue ;;
        esac
        [[ $w == --wait && ${words[0]} == connect ]] && { skip=1; continue; }
        [[ $w == -* ]] && continue
        words+=("$w")
    done

    local opts=""
    case "${words[0]}" in
        "")
            COMPREPLY=($(compgen -W "employees batch time-off api connect status disconnect sync profile mcp serve help" -- "$cur"))
            [[ $cur == -* ]] && COMPREPLY=($(compgen -W "$globals" -- "$cur"))
            return ;;
        employees)
            case "${words[1]}" in
                "")
                    if [[ $cur == -* ]]; then opts=""
                    else COMPREPLY=($(compgen -W "list create get update" -- "$cur")); return
                    fi ;;
                list) opts="--search --terminated --active --include" ;;
                create) opts="--input --allow-duplicate --dry-run" ;;
                get) opts="" ;;
                update) opts="--input --correct --dry-run" ;;
            esac ;;
        batch)
            case "${words[1]}" in
                "")
                    if [[ $cur == -* ]]; then opts=""
                    else COMPREPLY=($(compgen -W "create status" -- "$cur")); return
                    fi ;;
                create) opts="--input --idempotency-key --wait --dry-run" ;;
                status) opts="--wait" ;;
            esac ;;
        time-off) opts="--type" ;;
        connect) opts="--client-id --name --redirect-uri --client-secret-stdin --no-browser --wait" ;;
        status|disconnect) opts="" ;;
        sync) opts="--db --events --webhook --dry-run --confirm --max-terminations
            --all-connections --connections --worker --lease-ttl --no-progress" ;;
        profile) opts="--email --db" ;;
        mcp) opts="--employee --db --config --max-age --audit-log" ;;
        serve)
            case "${words[1]}" in
                "")
                    if [[ $cur == -* ]]; then opts="--config --port --bind"
                    else COMPREPLY=($(compgen -W "keys connections" -- "$cur")); return
                    fi ;;
                keys)
                    if [[ ${#words[@]} == 2 && $cur != -* ]]; then
                        COMPREPLY=($(compgen -W "add list remove" -- "$cur")); return
                    fi
                    opts="--grant --config --employee --actions --read-only --allow-writes" ;;
                connections) opts="--base-url --company --token-stdin" ;;
            esac ;;
        api)
            opts="--data --input"
            if [[ $cur != -* ]]; then
                case ${#words[@]} in
                    1) COMPREPLY=($(compgen -W "GET POST PUT PATCH DELETE" -- "$cur")); return ;;
                    2) COMPREPLY=($(compgen -W "/v1/token_info /v1/companies/{company_uuid}
                        /v1/companies/{company_uuid}/employees
                        /v1/companies/{company_uuid}/locations /v1/employees/
                        /v1/home_addresses/ /v1/work_addresses/ /v1/jobs/
                        /v1/compensations/ /v1/locations/" -- "$cur")); return ;;
                esac
            fi ;;
        help)
            COMPREPLY=($(compgen -W "employees batch time-off api help list create get update status
                sync profile mcp serve" \
                -- "$cur"))
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts $globals" -- "$cur"))
    fi
}

complete -F _gusto gusto-connect
