#!/usr/bin/env bash
# Install what the R recipes (recipes/r/, recipes/runtime/r/) and their tests need:
#   - R from Debian (r-base-core) with the DBI and lintr packages (r-cran-*), and the
#     gzip, bzip2 and unzip programs R recipes check downloads with;
#   - the DuckDB command-line shell from PyPI (duckdb-cli), pinned, which the R
#     runtime run_sql.R drives (R's own duckdb package is not installable here).
# Idempotent and non-interactive; it does nothing slow when all is already present.
set -euo pipefail

DUCKDB_CLI_VERSION="1.5.6"
APT_PACKAGES=(r-base-core r-cran-dbi r-cran-lintr gzip bzip2 unzip)
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    PYTHON=python
fi

export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- R from Debian
need_apt=0
if ! command -v Rscript >/dev/null 2>&1; then
    need_apt=1
else
    for package in "${APT_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            need_apt=1
        fi
    done
fi
if [ "$need_apt" -eq 1 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
fi
Rscript -e 'invisible(lapply(c("DBI", "lintr"), library, character.only = TRUE))'

# ----------------------------------------------------------- duckdb-cli from PyPI
installed="$("$PYTHON" -m pip show duckdb-cli 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [ "$installed" != "$DUCKDB_CLI_VERSION" ]; then
    PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --quiet --disable-pip-version-check \
        "duckdb-cli==$DUCKDB_CLI_VERSION"
fi
if ! command -v duckdb >/dev/null 2>&1 && command -v pyenv >/dev/null 2>&1; then
    pyenv rehash
fi
if ! command -v duckdb >/dev/null 2>&1; then
    echo "install-r.sh: duckdb-cli is installed but no duckdb executable is on PATH" >&2
    echo "  (looked in: $PATH)" >&2
    exit 1
fi

echo "R: $(Rscript -e 'cat(R.version.string)')"
echo "lintr: $(Rscript -e 'cat(as.character(packageVersion("lintr")))')"
echo "duckdb CLI: $(duckdb --version)"
