# [recipe]
# constraint = "Decompressed"
# language = "bash"
# entry = "decompress"
# summary = "The downloaded file is decompressed (gzip, bz2 or a single-member zip) into a temporary file."
# libraries = []
# uses = ["markers"]
# when = { engine = ["lake", "spark", "postgres"] }
#
# [recipe.parameters]
# source = { from = "input", doc = "compressed temporary file written by the upstream step" }
# destination = { from = "output", doc = "temporary file this step writes" }
# compression = { from = "source.compression", doc = "one of gzip, bz2 or zip" }

set -euo pipefail

source_file="$1"
destination="$2"
compression="$3"

case "$compression" in
    gzip | bz2 | zip) ;;
    *)
        printf 'unknown compression %q: expected gzip, bz2 or zip\n' "$compression" >&2
        exit 2
        ;;
esac

case "$source_file" in
    -*) source_file="./$source_file" ;;
esac

key="$(step_key decompress "$compression" "$(marker_text "$source_file")")"
if step_made "$destination" "$key"; then
    exit 0
fi
step_begin "$destination" "$source_file"
part="$step_part"

case "$compression" in
    gzip)
        gzip -dc -- "$source_file" >"$part"
        ;;
    bz2)
        bzip2 -dc -- "$source_file" >"$part"
        ;;
    zip)
        listing="$(unzip -Z1 "$source_file")"
        members="$(printf '%s\n' "$listing" | grep -v -e '/$' -e '^__MACOSX/' || true)"
        count=0
        if [ -n "$members" ]; then
            count="$(printf '%s\n' "$members" | wc -l)"
            count="$((count + 0))"
        fi
        if [ "$count" -ne 1 ]; then
            printf 'zip archive %s must hold exactly one file, found %d: %s\n' \
                "$source_file" "$count" "$(printf '%s' "$members" | tr '\n' ' ')" >&2
            exit 1
        fi
        # unzip treats member names as wildcard patterns: escape them.
        pattern="$(printf '%s' "$members" | sed 's/[[*?\\]/\\&/g')"
        unzip -p "$source_file" "$pattern" >"$part"
        ;;
esac

step_finish "$key"
