# [helper]
# name = "markers"
# language = "bash"
# summary = "A step's output is trusted only if the step finished, for the inputs and parameters that made it."
# libraries = []

# Each output file OUT of a step has a marker OUT.done, written after OUT is in
# place: line 1, the step's key (a digest of its recipe, parameters and its
# input's marker); line 2, the input file it read (empty for none). A step is
# skipped only when OUT exists and its marker holds the key the step has now.
# A recipe runs:
#   key="$(step_key NAME PARAMETER... "$(marker_text "$input")")"
#   step_made "$out" "$key" && exit 0
#   step_begin "$out" "$input"    # sets step_part, the file to write
#   ... write "$step_part" ...
#   step_finish "$key"

# marker_text PATH: print the marker of PATH (nothing when it has none).
marker_text() {
    if [ -f "$1.done" ]; then
        cat -- "$1.done"
    fi
}

# step_key PART...: the sha256 digest of the parts, each length-prefixed.
step_key() {
    local LC_ALL=C part
    for part in "$@"; do
        printf '%d:%s\n' "${#part}" "$part"
    done | sha256sum | cut -d ' ' -f 1
}

# unique_part PATH: a temporary name next to PATH that no other run uses.
unique_part() {
    printf '%s.%s-%s.part' "$1" "$$" "$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
}

# invalidate PATH: distrust PATH and everything it was made from (their
# markers go, the files stay), so a fixed source is fetched again.
invalidate() {
    local path="$1" seen=$'\n' next
    while [ -n "$path" ]; do
        case "$seen" in
            *$'\n'"$path"$'\n'*) break ;;
        esac
        seen="$seen$path"$'\n'
        next="$(sed -n 2p -- "$path.done" 2>/dev/null || true)"
        rm -f -- "$path.done"
        path="$next"
    done
}

# step_made OUT KEY: whether an earlier run made OUT for KEY.
step_made() {
    [ -e "$1" ] && [ -f "$1.done" ] && [ "$(head -n 1 -- "$1.done")" = "$2" ]
}

# step_begin OUT INPUT: distrust OUT, set step_part (the file to write). If
# the script then fails, step_part is removed and INPUT distrusted; if it is
# interrupted, step_part is removed.
step_begin() {
    step_out="$1"
    step_input="$2"
    step_interrupted=""
    rm -f -- "$step_out.done"
    mkdir -p -- "$(dirname -- "$step_out")"
    step_part="$(unique_part "$step_out")"
    trap 'step_failed $?' EXIT
    trap 'step_interrupted=1; exit 130' INT TERM HUP
}

step_failed() {
    rm -f -- "$step_part"
    if [ "$1" -ne 0 ] && [ -z "$step_interrupted" ]; then
        invalidate "$step_input"
    fi
}

# step_finish KEY [FACT...]: move step_part onto OUT, then write its marker.
step_finish() {
    local key="$1" marker
    shift
    mv -f -- "$step_part" "$step_out"
    marker="$(unique_part "$step_out.done")"
    {
        printf '%s\n' "$key" "$step_input"
        if [ "$#" -gt 0 ]; then
            printf '%s\n' "$@"
        fi
    } >"$marker"
    mv -f -- "$marker" "$step_out.done"
}

# check_plain_text PATH DECLARED: fail, saying what PATH is, when it is not
# the text it should be.
check_plain_text() {
    local head text found="" fix=""
    head="$(head -c 4 -- "$1" | od -An -tx1 -v | tr -d ' \n')"
    text="$(head -c 512 -- "$1" | LC_ALL=C tr -d '\000' | LC_ALL=C tr '[:upper:]' '[:lower:]')"
    text="${text#"${text%%[![:space:]]*}"}"
    case "$head" in
        1f8b*) found="gzip-compressed" fix="declare compression=GzipCompression()" ;;
        425a68*) found="bzip2-compressed" fix="declare compression=BZip2Compression()" ;;
        504b0304) found="a zip archive" fix="declare compression=ZipCompression()" ;;
        *)
            case "$text" in
                '<!doctype html'* | '<html'*)
                    found="an HTML page" fix="check the source URL: the server sent a web page"
                    ;;
            esac
            ;;
    esac
    if [ -n "$found" ]; then
        printf '%s is %s, but the source is declared as %s; fix: %s\n' \
            "$1" "$found" "$2" "$fix" >&2
        return 1
    fi
}
