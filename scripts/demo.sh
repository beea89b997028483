#!/usr/bin/env bash
# `make demo`: runs what railwatch has today on this machine. See README.md, "What `make demo` does".
set -euo pipefail
build=${1:-build}
bin="$build/railwatch"
"$bin" version
echo
echo "railwatch is being built issue by issue. Today the binary has these commands:"
"$bin" --help | sed -n '/SUBCOMMANDS/,$p'
