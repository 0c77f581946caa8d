#!/bin/sh
# The bot's catalogs (README "Languages"): extract the English messages into the template,
# merge them into each language's .po, compile each .po into the .mo the package ships.
#   ./scripts/i18n.sh extract   # bridge/locale/tgirc_bridge.pot from the code
#   ./scripts/i18n.sh update    # merge the template into every bridge/locale/*/LC_MESSAGES/*.po
#   ./scripts/i18n.sh init xx   # start a new language
#   ./scripts/i18n.sh compile   # .po -> .mo (tests/test_i18n_catalogs.py fails on a stale .mo)
set -eu
cd "$(dirname "$0")/.."
BABEL=.venv/bin/pybabel
D=bridge/locale
case "${1:-}" in
extract)
    "$BABEL" extract -F babel.cfg -c Translators: -k N_ -k n_:1,2 --no-location --sort-output \
        --project tgirc-bridge --copyright-holder "tgirc-bridge contributors" \
        --msgid-bugs-address "https://github.com/tgirc-bridge/tgirc-bridge/issues" \
        -o "$D/tgirc_bridge.pot" . ;;
update) "$BABEL" update -i "$D/tgirc_bridge.pot" -d "$D" -D tgirc_bridge --no-fuzzy-matching ;;
init) "$BABEL" init -i "$D/tgirc_bridge.pot" -d "$D" -D tgirc_bridge -l "$2" ;;
compile) "$BABEL" compile -d "$D" -D tgirc_bridge --statistics ;;
*) echo "usage: $0 extract|update|init LANG|compile" >&2; exit 2 ;;
esac
