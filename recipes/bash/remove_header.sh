# [recipe]
# constraint = "HeaderRemoved"
# language = "bash"
# entry = "remove_header"
# summary = "The leading header lines of the source file are dropped."
# libraries = []
#
# [recipe.parameters]
# source = { from = "input", doc = "temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# num_lines = { from = "source.header_lines", doc = "number of leading lines to drop" }

set -euo pipefail

source_file="$1"
destination="$2"
num_lines="$3"

if ! [[ "$num_lines" =~ ^[0-9]+$ ]]; then
    printf 'num_lines must be a non-negative integer, got %q\n' "$num_lines" >&2
    exit 2
fi

if [ -e "$destination" ]; then
    exit 0
fi

mkdir -p -- "$(dirname -- "$destination")"
part="$destination.part"
trap 'rm -f -- "$part"' EXIT

tail -n "+$((10#$num_lines + 1))" -- "$source_file" >"$part"
mv -f -- "$part" "$destination"
