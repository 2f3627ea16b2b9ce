#!/bin/bash
# Writes the CLI's golden output (tests/app/cli_golden.txt) from an `isolab` binary:
#   tests/app/cli_golden.sh build/isolab > tests/app/cli_golden.txt
#
# The cases are derived from the binary's own help, so every verb and every visible flag is
# covered without a list to keep in step: `--help` and `help VERB` of every command and
# `container`/`image` subcommand, and for every flag the errors pflag gives (a missing value, a
# malformed bool, int, size or decimal), plus unknown flags, wrong positional counts and a set of
# value checks. tests/app/test_cli_golden.cpp replays each case through parse_args (and
# run_command for help) and compares stdout, stderr and the exit code byte for byte: the file is
# the record of what the parser printed when it was written, so a refactoring that changes one
# byte of a message fails.
#
# Every case is either a help request or a refused command line: nothing here is executed by the
# binary (it still runs under a throwaway ISOLAB_ROOT, without a display, under a timeout).
#
# Record format, one per case:
#   @@ WORDS              the argv after `isolab`, shell-quoted (split_command_line reads it)
#   exit N
#   stdout N              N bytes follow, then one newline
#   stderr N              N bytes follow, then one newline
set -euo pipefail

bin=${1:?usage: $0 PATH/TO/isolab}
root=$(mktemp -d)
out=$(mktemp -d)
trap 'rm -rf "$root" "$out"' EXIT

quote() {  # one word as split_command_line reads it back
    if [[ $1 =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then printf '%s' "$1"
    else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}

emit() {  # emit WORD...: run one case and print its record
    local line="" w rc=0
    for w in "$@"; do line+="${line:+ }$(quote "$w")"; done
    env -u DISPLAY -u WAYLAND_DISPLAY -u ISOLAB_LANG LANG=C.UTF-8 LC_ALL= LANGUAGE= ISOLAB_ROOT="$root" \
        timeout 10 "$bin" "$@" >"$out/o" 2>"$out/e" </dev/null || rc=$?
    printf '@@ %s\nexit %d\nstdout %d\n' "$line" "$rc" "$(wc -c <"$out/o")"
    cat "$out/o"
    printf '\nstderr %d\n' "$(wc -c <"$out/e")"
    cat "$out/e"
    printf '\n'
}

help_of() { env -u DISPLAY ISOLAB_ROOT="$root" "$bin" help "$@"; }

# The verbs, from the top-level help's command lists.
mapfile -t verbs < <(help_of | sed -n 's/^  \([a-z]\+\)  .*/\1/p')
# Subcommands of the two Docker management groups.
mapfile -t container_subs < <(help_of container | sed -n 's/^  \([a-z]\+\)  .*/\1/p')
mapfile -t image_subs < <(help_of image | sed -n 's/^  \([a-z]\+\)  .*/\1/p')
# `system` lists its commands the same way; `network prune` is the network group's table verb.
mapfile -t system_subs < <(help_of system | sed -n 's/^  \([a-z]\+\)  .*/\1/p')
# And so does `volume`.
mapfile -t volume_subs < <(help_of volume | sed -n 's/^  \([a-z]\+\)  .*/\1/p')

emit --help
emit -h
emit --help=false --help
emit help
emit container
emit image
emit container --help
emit image -h
for s in "${container_subs[@]}"; do emit container "$s" --help; done
for s in "${image_subs[@]}"; do emit image "$s" --help; done
emit system
emit system --help
for s in "${system_subs[@]}"; do emit system "$s" --help; done
emit network prune --help
emit volume
emit volume --help
for s in "${volume_subs[@]}"; do emit volume "$s" --help; done
emit volume list --help
emit volume remove --help
emit help container ls
emit container ls --help=maybe
emit container --bogus
emit container nosuch
emit image nosuch
emit nosuch
emit nosuch --help

# The flags of one verb, from its help: "SHORT LONG TYPE" per line ("-" for none).
flags_of() {
    help_of "$@" | sed -n '/^Options:/,$p' | sed -n \
        's/^  \(-\(.\), \|    \)--\([a-z-]\+\)\( \([a-z]\+\)\)\?   .*/\2 \3 \5/p' | grep -v ' help ' |
        awk '{ s = $1; l = $2; t = $3; if (NF == 1) { l = $1; s = "-"; t = "-" }
               else if (NF == 2) { if (length($1) == 1) { s = $1; l = $2; t = "-" } else { s = "-"; l = $1; t = $2 } }
               print s, l, t }'
}

for v in "${verbs[@]}"; do
    emit help "$v"
    # Groups (vm, network, ...) parse their own words (`vm --help` is theirs to answer); their
    # help has no Options section.
    if ! help_of "$v" | grep -q '^Options:'; then continue; fi
    emit "$v" --help
    emit "$v" --no-such-flag
    emit "$v" --no-such-flag=1
    emit "$v" -Z
    emit "$v" ---x
    emit "$v" --=x
    emit "$v" --help=maybe
    use=$(help_of "$v" | sed -n '1s/^Usage:  isolab [a-z]\+ \?//p')
    # A verb whose use line names a positional outside brackets refuses no arguments.
    if [[ $(sed 's/\[[^]]*\]//g' <<<"$use") =~ [A-Z] ]]; then emit "$v"; fi
    if [[ $use == "[OPTIONS]" ]]; then emit "$v" extra; fi
    while read -r short long type; do
        if [[ $type == - ]]; then
            emit "$v" "--$long=maybe"
            if [[ $short != - ]]; then emit "$v" "-$short=maybe"; emit "$v" "-${short}Z"; fi
            continue
        fi
        emit "$v" "--$long"
        if [[ $short != - ]]; then emit "$v" "-$short"; fi
        case $type in
            int) emit "$v" "--$long" abc; emit "$v" "--$long=99999999999999999999"; emit "$v" "--$long" 1.5 ;;
            bytes) emit "$v" "--$long" 12q; emit "$v" "--$long" 1.k ;;
            decimal) emit "$v" "--$long" abc; emit "$v" "--$long" 0.0000000001 ;;
        esac
    done < <(flags_of "$v")
done

# Positional counts that the use lines alone do not show.
emit logs a b
emit history a b
emit diff a b
emit port a b c
emit commit a b c
emit images a b
emit tag a
emit tag a b c
emit export a b
emit import a b c
emit completion zsh
emit completion bash extra
emit exec c
emit build
emit build a b
emit container ls extra
emit image ls a b
emit container exec c
emit image rm
emit container prune extra
emit container prune --filter
emit container prune --filter nofmt
emit container prune -f=maybe
emit image prune -a=maybe
emit image prune extra
emit network prune --bogus
emit network prune extra
emit system prune --volumes=maybe
emit system prune -Z
emit system df -v extra
emit system df --format
emit system reset extra
emit system nosuch
emit volume nosuch
emit volume --bogus
emit volume create a b
emit volume create --name a b
emit volume create -d flocker x
emit volume create --driver=nfs
emit volume create -o type=tmpfs x
emit volume create --opt device=/dev/sda1 -d local x
emit volume create --label
emit volume create --label =x x
emit volume create --label 'a b=c' x
emit volume create --cluster x
emit volume ls extra
emit volume ls --filter nofmt
emit volume ls -q=maybe
emit volume inspect
emit volume inspect --format
emit volume rm
emit volume rm -f=maybe x
emit volume prune extra
emit volume prune -a=maybe
emit volume prune --filter

# Values checked after flag parsing (client side, then Docker's daemon words).
emit run --pull sometimes busybox
emit run -p abc busybox
emit run -p 8080:abc busybox
emit run -p 8080:80/xyz busybox
emit run -p 1.2.3:80:80 busybox
emit run -p 8000-8010:80-81 busybox
emit run -m 12q busybox
emit run -m 1k busybox
emit run -m 64m --memory-swap 32m busybox
emit run --memory-swap 1g busybox
emit run --cpus 1/3 busybox
emit run --cpus 0.001 busybox
emit run --restart sometimes busybox
emit run --restart :3 busybox
emit run --restart on-failure:x busybox
emit run --restart always:3 busybox
emit run --restart on-failure:-1 busybox
emit run --restart always --rm busybox
emit run -a stdout -d busybox
emit run -a stdio busybox
emit run -e =x busybox
emit run --env-file /nonexistent/env busybox
emit run -l =x busybox
emit run -v foo:bar busybox
emit run -v /a:/b:bogus busybox
emit run --mount type=bind,target=/x busybox
emit run --mount type=volume,src=v,dst=/x,bogus=1 busybox
emit run --tmpfs /x --tmpfs /x busybox
emit run -w relative busybox
emit run --stop-signal FOO busybox
emit run --name ../etc busybox
emit run --name a busybox
emit run --log-driver syslog busybox
emit run --log-opt max-size=1x busybox
emit run --log-opt compress=true busybox
emit run --log-opt nope=1 busybox
emit run --log-opt max-file=0 busybox
emit run ''
emit create -p abc busybox
emit create --name ../x busybox
emit container run --name ../x busybox
emit container create -m 1k busybox
emit exec --env-file /nonexistent/env c sh
emit inspect --type secret x
emit gui --lang fr
emit gui --frames 0
emit --lang fr ps
emit --root
emit -D=maybe ps
emit -Dz
emit -vZ
emit stop -t abc x
emit stop --time abc x
emit run --net
emit run -dit
emit run -dZ busybox
emit run -d=maybe busybox
