#!/bin/sh
# BackTestr launcher: starts the version the updater made current (versions/current.json).
# Written next to the installed versions by the installer; the desktop entry points here.
here="$(cd "$(dirname "$0")" && pwd)"
current="$(sed -n 's/.*"current": *"\([^"]*\)".*/\1/p' "$here/current.json" 2>/dev/null)"
if [ -z "$current" ] || [ ! -x "$here/$current/backtestr" ]; then
  echo "BackTestr: no installed version found in $here" >&2
  exit 1
fi
exec "$here/$current/backtestr" "$@"
