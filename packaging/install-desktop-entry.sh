#!/bin/sh
# Put Composer in the Linux application menu: installs composer.desktop and its icon for the current user
# (under ${XDG_DATA_HOME:-~/.local/share}), with the full path of composer-gui so the menu finds it in a venv.
#
#   packaging/install-desktop-entry.sh [PATH/TO/composer-gui]
#
# Without an argument it uses .venv/bin/composer-gui beside this folder (the README's setup), else the one on
# PATH. Remove the entry with: rm ~/.local/share/applications/composer.desktop
# ~/.local/share/icons/hicolor/scalable/apps/composer.svg
set -eu
here=$(cd "$(dirname "$0")" && pwd)
gui=${1:-}
if [ -z "$gui" ]; then
    if [ -x "$here/../.venv/bin/composer-gui" ]; then
        gui="$here/../.venv/bin/composer-gui"
    else
        gui=$(command -v composer-gui || true)
    fi
fi
if [ -z "$gui" ] || [ ! -x "$gui" ]; then
    echo "install-desktop-entry: composer-gui not found; pass its path (e.g. .venv/bin/composer-gui)" >&2
    exit 1
fi
gui=$(cd "$(dirname "$gui")" && pwd)/$(basename "$gui")
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$data/icons/hicolor/scalable/apps"
cp "$here/composer.svg" "$data/icons/hicolor/scalable/apps/composer.svg"
sed "s|^Exec=composer-gui|Exec=\"$gui\"|" "$here/composer.desktop" > "$data/applications/composer.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "installed $data/applications/composer.desktop (runs $gui)"
