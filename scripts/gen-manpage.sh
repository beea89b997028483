#!/bin/sh
# Writes railwatch(1) in roff from the binary's own help text: `railwatch --help` and the --help
# of every subcommand it lists, recursively, so the page always says what --help says (new
# subcommands included). Run at build time (the railwatch_manpage target); output is gzipped.
#
# usage: gen-manpage.sh RAILWATCH_BINARY OUTPUT.1.gz
set -eu

bin=$1
out=$2
version=$("$bin" version | sed -n '1s/^railwatch //p')

# Help text as roff inside .nf/.fi: backslashes escaped, '-' as \-, lines that start with '.' or
# "'" protected with \&.
roff_text() {
  sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

# The subcommands a help text lists (CLI11: a "Subcommands:" section, one "  name  what" a line).
subcommands() {
  awk '/^Subcommands:/ { in_list = 1; next } in_list && /^$/ { in_list = 0 } in_list && /^  [a-z]/ { print $1 }'
}

section() {
  help=$("$bin" "$@" --help)
  printf '.SS "railwatch %s"\n.nf\n' "$*"
  printf '%s\n' "$help" | roff_text
  printf '.fi\n'
  for sub in $(printf '%s\n' "$help" | subcommands); do
    section "$@" "$sub"
  done
}

top=$("$bin" --help)
summary=$(printf '%s\n' "$top" | sed -n '1s/^railwatch: //p' | roff_text)

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  printf '.TH RAILWATCH 1 "" "railwatch %s" "User Commands"\n' "$version"
  printf '.SH NAME\nrailwatch \\- %s\n' "$summary"
  printf '.SH SYNOPSIS\n.B railwatch\n.I SUBCOMMAND\n[\\fIOPTIONS\\fR]\n'
  printf '.SH DESCRIPTION\n.nf\n'
  printf '%s\n' "$top" | roff_text
  printf '.fi\n.SH COMMANDS\n'
  for sub in $(printf '%s\n' "$top" | subcommands); do
    section "$sub"
  done
  cat <<'ROFF'
.SH FILES
.TP
.I /etc/railwatch/railwatch.toml
The configuration file of the packaged service (\fBrailwatch config check\fR validates it).
.TP
.I /etc/default/railwatch
Environment of the service: tokens (\fBRAILWAY_API_TOKEN\fR, \fBRAILWATCH_API_TOKEN\fR, ...).
.TP
.I /var/lib/railwatch
The service's state (the SQLite database).
.SH SEE ALSO
\fBsystemctl\fR(1); the project's README.md and docs/ (CONFIG.md, API.md, openapi.yaml).
ROFF
} >"$tmp"
gzip -9n -c "$tmp" >"$out"
