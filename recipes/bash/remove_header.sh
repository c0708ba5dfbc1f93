# [recipe]
# constraint = "HeaderRemoved"
# language = "bash"
# entry = "remove_header"
# summary = "The leading header lines of the source file are dropped."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake", "spark", "postgres"] }
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

case "$source_file" in
    -*) source_file="./$source_file" ;;
esac

key="$(step_key remove_header "$((10#$num_lines))" "$(marker_text "$source_file")")"
if step_made "$destination" "$key"; then
    exit 0
fi
step_begin "$destination" "$source_file"

check_plain_text "$source_file" "uncompressed text"
tail -n "+$((10#$num_lines + 1))" -- "$source_file" >"$step_part"
step_finish "$key"
